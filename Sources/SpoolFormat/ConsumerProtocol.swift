/// The opaque bytes Kafka consumers exchange through JoinGroup (subscription) and SyncGroup
/// (assignment) under protocol type "consumer" (`ConsumerProtocolSubscription.json`,
/// `ConsumerProtocolAssignment.json`; non-flexible, big-endian). Brokers store them unparsed; Spool
/// parses them to show which member owns which partition, and its own consumers build them, so a
/// Spool consumer and a Java, librdkafka or Python one can share a group.
public enum ConsumerProtocol {
    /// The largest version written; readers accept any version and ignore fields they do not know,
    /// as Kafka's do.
    public static let version: Int16 = 0

    public struct Subscription: Equatable, Sendable {
        public var topics: [String]
        public var userData: [UInt8]?
        /// Partitions the member owned before this rebalance (version 1+).
        public var ownedPartitions: [String: [Int32]]

        public init(topics: [String], userData: [UInt8]? = nil, ownedPartitions: [String: [Int32]] = [:]) {
            self.topics = topics
            self.userData = userData
            self.ownedPartitions = ownedPartitions
        }
    }

    public struct Assignment: Equatable, Sendable {
        /// Topic → partitions, in the order they were listed.
        public var partitions: [(topic: String, partitions: [Int32])]
        public var userData: [UInt8]?

        public init(partitions: [(topic: String, partitions: [Int32])], userData: [UInt8]? = nil) {
            self.partitions = partitions
            self.userData = userData
        }

        public static func == (lhs: Assignment, rhs: Assignment) -> Bool {
            lhs.userData == rhs.userData && lhs.partitions.count == rhs.partitions.count
                && zip(lhs.partitions, rhs.partitions).allSatisfy { $0.topic == $1.topic && $0.partitions == $1.partitions }
        }
    }

    public static func encode(_ subscription: Subscription) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendBigEndian(version)
        bytes.appendBigEndian(Int32(subscription.topics.count))
        for topic in subscription.topics { writeString(topic, to: &bytes) }
        writeBytes(subscription.userData, to: &bytes)
        return bytes
    }

    public static func encode(_ assignment: Assignment) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendBigEndian(version)
        bytes.appendBigEndian(Int32(assignment.partitions.count))
        for (topic, partitions) in assignment.partitions {
            writeString(topic, to: &bytes)
            bytes.appendBigEndian(Int32(partitions.count))
            for partition in partitions { bytes.appendBigEndian(partition) }
        }
        writeBytes(assignment.userData, to: &bytes)
        return bytes
    }

    public static func decodeSubscription(_ bytes: [UInt8]) throws(FormatError) -> Subscription {
        let result: Result<Subscription, FormatError> = bytes.withUnsafeBytes { raw in
            do throws(FormatError) {
                var reader = ByteReader(raw)
                let version = try reader.readInt16()
                let topics = try readArray(&reader) { reader throws(FormatError) in try readString(&reader) }
                let userData = try readBytes(&reader)
                var owned: [String: [Int32]] = [:]
                if version >= 1, reader.remaining > 0 {
                    for (topic, partitions) in try readTopicPartitions(&reader) { owned[topic, default: []] += partitions }
                }
                return .success(Subscription(topics: topics, userData: userData, ownedPartitions: owned))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public static func decodeAssignment(_ bytes: [UInt8]) throws(FormatError) -> Assignment {
        // Kafka clients send an empty assignment as zero bytes when a member gets nothing.
        if bytes.isEmpty { return Assignment(partitions: []) }
        let result: Result<Assignment, FormatError> = bytes.withUnsafeBytes { raw in
            do throws(FormatError) {
                var reader = ByteReader(raw)
                _ = try reader.readInt16()
                let partitions = try readTopicPartitions(&reader)
                let userData = reader.remaining > 0 ? try readBytes(&reader) : nil
                return .success(Assignment(partitions: partitions, userData: userData))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Topics or partitions listed at most in one subscription or assignment.
    static let entriesMax = 100_000

    private static func readTopicPartitions(_ reader: inout ByteReader) throws(FormatError) -> [(topic: String, partitions: [Int32])] {
        try readArray(&reader) { reader throws(FormatError) in
            let topic = try readString(&reader)
            let partitions = try readArray(&reader) { reader throws(FormatError) in try reader.readInt32() }
            return (topic, partitions)
        }
    }

    private static func readArray<T>(_ reader: inout ByteReader, _ element: (inout ByteReader) throws(FormatError) -> T) throws(FormatError) -> [T] {
        let count = try reader.readInt32()
        guard count >= -1, count <= entriesMax, Int(count) <= reader.remaining else {
            throw .malformedRecord(index: 0, reason: "array of \(count) entries in \(reader.remaining) bytes")
        }
        var items: [T] = []
        for _ in 0..<max(Int(count), 0) { items.append(try element(&reader)) }
        return items
    }

    private static func readString(_ reader: inout ByteReader) throws(FormatError) -> String {
        let length = try reader.readInt16()
        guard length >= 0 else { throw .malformedRecord(index: 0, reason: "null string") }
        let bytes = try reader.readBytes(Int(length))
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformedRecord(index: 0, reason: "string is not UTF-8") }
        return text
    }

    private static func readBytes(_ reader: inout ByteReader) throws(FormatError) -> [UInt8]? {
        let length = try reader.readInt32()
        if length < 0 { return nil }
        return try reader.readBytes(Int(length))
    }

    private static func writeString(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = Array(text.utf8.prefix(Int(Int16.max)))
        bytes.appendBigEndian(Int16(utf8.count))
        bytes += utf8
    }

    private static func writeBytes(_ data: [UInt8]?, to bytes: inout [UInt8]) {
        guard let data else {
            bytes.appendBigEndian(Int32(-1))
            return
        }
        bytes.appendBigEndian(Int32(data.count))
        bytes += data
    }
}
