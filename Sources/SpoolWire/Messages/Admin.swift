/// InitProducerId (22) 0-1, CreateTopics (19) 2-4, DeleteTopics (20) 1-3.
public struct InitProducerIdRequestMessage: Sendable {
    public var transactionalId: String?
    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        transactionalId = try reader.readNullableString()
        _ = try reader.readInt32()  // transaction timeout
    }
}

public struct InitProducerIdResponseMessage: Sendable {
    public var errorCode: Int16; public var producerId: Int64; public var producerEpoch: Int16
    public init(errorCode: Int16, producerId: Int64, producerEpoch: Int16) { self.errorCode = errorCode; self.producerId = producerId; self.producerEpoch = producerEpoch }

    public func write(to writer: inout WireWriter, version: Int16) {
        writer.writeInt32(0)
        writer.writeInt16(errorCode)
        writer.writeInt64(producerId)
        writer.writeInt16(producerEpoch)
    }
}

public struct CreateTopicsRequestMessage: Sendable {
    public struct Topic: Sendable {
        public var name: String; public var partitions: Int32; public var replicationFactor: Int16
        public var hasAssignments: Bool; public var configs: [String: String]
    }
    public var topics: [Topic]; public var timeoutMs: Int32; public var validateOnly: Bool

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        topics = try reader.readArray { reader throws(WireError) in
            let name = try reader.readString()
            let partitions = try reader.readInt32()
            let replication = try reader.readInt16()
            let assignments = try reader.readArray { reader throws(WireError) in
                (try reader.readInt32(), try reader.readArray { reader throws(WireError) in try reader.readInt32() })
            }
            var configs: [String: String] = [:]
            for (key, value) in try reader.readArray({ reader throws(WireError) in (try reader.readString(), try reader.readNullableString()) }) {
                if let value { configs[key] = value }
            }
            return Topic(name: name, partitions: partitions, replicationFactor: replication, hasAssignments: !assignments.isEmpty, configs: configs)
        }
        timeoutMs = try reader.readInt32()
        validateOnly = version >= 1 ? try reader.readBool() : false
    }
}

public struct TopicErrorsResponse: Sendable {
    public var topics: [(name: String, errorCode: Int16, message: String?)]
    public init(topics: [(name: String, errorCode: Int16, message: String?)]) { self.topics = topics }

    /// CreateTopics v2-4 (message from v1) and DeleteTopics v1-3 (no message before v5).
    public func write(to writer: inout WireWriter, withMessage: Bool) {
        writer.writeInt32(0)
        writer.writeArray(topics) { writer, topic in
            writer.writeString(topic.name)
            writer.writeInt16(topic.errorCode)
            if withMessage { writer.writeNullableString(topic.message) }
        }
    }
}

public struct DeleteTopicsRequestMessage: Sendable {
    public var names: [String]; public var timeoutMs: Int32
    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        names = try reader.readArray { reader throws(WireError) in try reader.readString() }
        timeoutMs = try reader.readInt32()
    }
}
