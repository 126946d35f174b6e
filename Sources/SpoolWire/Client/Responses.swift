/// Response bodies as a client reads them, for the versions in `ClientVersions`.
public enum ClientResponse {
    public struct Broker: Sendable, Equatable { public var nodeId: Int32; public var host: String; public var port: Int32 }
    public struct PartitionMetadata: Sendable, Equatable { public var partition: Int32; public var leader: Int32; public var errorCode: Int16 }
    public struct TopicMetadata: Sendable, Equatable { public var name: String; public var errorCode: Int16; public var partitions: [PartitionMetadata] }
    public struct Metadata: Sendable, Equatable { public var brokers: [Broker]; public var controllerId: Int32; public var topics: [TopicMetadata] }

    public static func metadata(_ body: [UInt8]) throws(WireError) -> Metadata {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        let brokers = try reader.readArray { reader throws(WireError) in
            let broker = Broker(nodeId: try reader.readInt32(), host: try reader.readString(), port: try reader.readInt32())
            _ = try reader.readNullableString()
            return broker
        }
        _ = try reader.readNullableString()
        let controller = try reader.readInt32()
        let topics = try reader.readArray { reader throws(WireError) in
            let error = try reader.readInt16()
            let name = try reader.readString()
            _ = try reader.readBool()
            let partitions = try reader.readArray { reader throws(WireError) in
                let error = try reader.readInt16()
                let index = try reader.readInt32()
                let leader = try reader.readInt32()
                _ = try reader.readInt32()
                _ = try reader.readArray { reader throws(WireError) in try reader.readInt32() }
                _ = try reader.readArray { reader throws(WireError) in try reader.readInt32() }
                _ = try reader.readArray { reader throws(WireError) in try reader.readInt32() }
                return PartitionMetadata(partition: index, leader: leader, errorCode: error)
            }
            _ = try reader.readInt32()
            return TopicMetadata(name: name, errorCode: error, partitions: partitions)
        }
        return Metadata(brokers: brokers, controllerId: controller, topics: topics)
    }

    public struct ProducedPartition: Sendable, Equatable { public var partition: Int32; public var errorCode: Int16; public var baseOffset: Int64; public var errorMessage: String? }

    /// Produce v8: partition results of the first topic.
    public static func produce(_ body: [UInt8]) throws(WireError) -> [ProducedPartition] {
        var reader = WireReader(body)
        var results: [ProducedPartition] = []
        let topics = try reader.readInt32()
        for _ in 0..<max(topics, 0) {
            _ = try reader.readString()
            results += try reader.readArray { reader throws(WireError) in
                let index = try reader.readInt32()
                let error = try reader.readInt16()
                let base = try reader.readInt64()
                _ = try reader.readInt64()
                _ = try reader.readInt64()
                _ = try reader.readArray { reader throws(WireError) in
                    _ = try reader.readInt32()
                    _ = try reader.readNullableString()
                }
                return ProducedPartition(partition: index, errorCode: error, baseOffset: base, errorMessage: try reader.readNullableString())
            }
        }
        return results
    }

    public struct FetchedPartition: Sendable { public var topic: String; public var partition: Int32; public var errorCode: Int16
        public var highWatermark: Int64; public var logStartOffset: Int64; public var records: [UInt8] }

    /// Fetch v11.
    public static func fetch(_ body: [UInt8]) throws(WireError) -> (errorCode: Int16, partitions: [FetchedPartition]) {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        let error = try reader.readInt16()
        _ = try reader.readInt32()
        var partitions: [FetchedPartition] = []
        let topics = try reader.readInt32()
        for _ in 0..<max(topics, 0) {
            let topic = try reader.readString()
            partitions += try reader.readArray { reader throws(WireError) in
                let index = try reader.readInt32()
                let code = try reader.readInt16()
                let highWatermark = try reader.readInt64()
                _ = try reader.readInt64()
                let logStart = try reader.readInt64()
                _ = try reader.readNullableArray { reader throws(WireError) in
                    _ = try reader.readInt64()
                    _ = try reader.readInt64()
                }
                _ = try reader.readInt32()
                return FetchedPartition(topic: topic, partition: index, errorCode: code, highWatermark: highWatermark, logStartOffset: logStart,
                                        records: try reader.readNullableBytes() ?? [])
            }
        }
        return (error, partitions)
    }

    public struct ListedOffset: Sendable, Equatable { public var topic: String; public var partition: Int32; public var errorCode: Int16; public var offset: Int64 }

    public static func listOffsets(_ body: [UInt8]) throws(WireError) -> [ListedOffset] {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        var results: [ListedOffset] = []
        let topics = try reader.readInt32()
        for _ in 0..<max(topics, 0) {
            let topic = try reader.readString()
            results += try reader.readArray { reader throws(WireError) in
                let index = try reader.readInt32()
                let error = try reader.readInt16()
                _ = try reader.readInt64()
                let offset = try reader.readInt64()
                _ = try reader.readInt32()
                return ListedOffset(topic: topic, partition: index, errorCode: error, offset: offset)
            }
        }
        return results
    }

    public static func findCoordinator(_ body: [UInt8]) throws(WireError) -> (errorCode: Int16, broker: Broker) {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        let error = try reader.readInt16()
        _ = try reader.readNullableString()
        return (error, Broker(nodeId: try reader.readInt32(), host: try reader.readString(), port: try reader.readInt32()))
    }

    public struct Join: Sendable { public var errorCode: Int16; public var generationId: Int32; public var protocolName: String
        public var leader: String; public var memberId: String; public var members: [(memberId: String, metadata: [UInt8])] }

    public static func joinGroup(_ body: [UInt8]) throws(WireError) -> Join {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        let error = try reader.readInt16()
        let generation = try reader.readInt32()
        let protocolName = try reader.readString()
        let leader = try reader.readString()
        let memberId = try reader.readString()
        let members = try reader.readArray { reader throws(WireError) in
            let id = try reader.readString()
            _ = try reader.readNullableString()
            return (id, try reader.readBytes())
        }
        return Join(errorCode: error, generationId: generation, protocolName: protocolName, leader: leader, memberId: memberId, members: members)
    }

    public static func syncGroup(_ body: [UInt8]) throws(WireError) -> (errorCode: Int16, assignment: [UInt8]) {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        return (try reader.readInt16(), try reader.readBytes())
    }

    /// Heartbeat, and any response that is a throttle time and an error code.
    public static func errorCode(_ body: [UInt8]) throws(WireError) -> Int16 {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        return try reader.readInt16()
    }

    /// OffsetCommit v7: (topic, partition, error).
    public static func offsetCommit(_ body: [UInt8]) throws(WireError) -> [(topic: String, partition: Int32, errorCode: Int16)] {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        var results: [(String, Int32, Int16)] = []
        let topics = try reader.readInt32()
        for _ in 0..<max(topics, 0) {
            let topic = try reader.readString()
            results += try reader.readArray { reader throws(WireError) in (topic, try reader.readInt32(), try reader.readInt16()) }
        }
        return results
    }

    public struct Committed: Sendable, Equatable { public var topic: String; public var partition: Int32; public var offset: Int64; public var metadata: String?; public var errorCode: Int16 }

    /// OffsetFetch v5.
    public static func offsetFetch(_ body: [UInt8]) throws(WireError) -> (errorCode: Int16, offsets: [Committed]) {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        var results: [Committed] = []
        let topics = try reader.readInt32()
        for _ in 0..<max(topics, 0) {
            let topic = try reader.readString()
            results += try reader.readArray { reader throws(WireError) in
                let index = try reader.readInt32()
                let offset = try reader.readInt64()
                _ = try reader.readInt32()
                return Committed(topic: topic, partition: index, offset: offset, metadata: try reader.readNullableString(), errorCode: try reader.readInt16())
            }
        }
        return (try reader.readInt16(), results)
    }

    public static func initProducerId(_ body: [UInt8]) throws(WireError) -> (errorCode: Int16, producerId: Int64, epoch: Int16) {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        return (try reader.readInt16(), try reader.readInt64(), try reader.readInt16())
    }

    /// CreateTopics v4 (with messages) and DeleteTopics v3 (without).
    public static func topicErrors(_ body: [UInt8], withMessage: Bool) throws(WireError) -> [(name: String, errorCode: Int16, message: String?)] {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        return try reader.readArray { reader throws(WireError) in
            (try reader.readString(), try reader.readInt16(), withMessage ? try reader.readNullableString() : nil)
        }
    }

    public static func listGroups(_ body: [UInt8]) throws(WireError) -> [(groupId: String, protocolType: String)] {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        _ = try reader.readInt16()
        return try reader.readArray { reader throws(WireError) in (try reader.readString(), try reader.readString()) }
    }

    public struct DescribedMember: Sendable { public var memberId: String; public var clientId: String; public var clientHost: String; public var assignment: [UInt8] }
    public struct DescribedGroup: Sendable { public var errorCode: Int16; public var groupId: String; public var state: String; public var protocolType: String
        public var protocolName: String; public var members: [DescribedMember] }

    /// DescribeGroups v4.
    public static func describeGroups(_ body: [UInt8]) throws(WireError) -> [DescribedGroup] {
        var reader = WireReader(body)
        _ = try reader.readInt32()
        return try reader.readArray { reader throws(WireError) in
            let error = try reader.readInt16()
            let id = try reader.readString()
            let state = try reader.readString()
            let type = try reader.readString()
            let name = try reader.readString()
            let members = try reader.readArray { reader throws(WireError) in
                let memberId = try reader.readString()
                _ = try reader.readNullableString()
                let clientId = try reader.readString()
                let host = try reader.readString()
                _ = try reader.readBytes()
                return DescribedMember(memberId: memberId, clientId: clientId, clientHost: host, assignment: try reader.readBytes())
            }
            _ = try reader.readInt32()
            return DescribedGroup(errorCode: error, groupId: id, state: state, protocolType: type, protocolName: name, members: members)
        }
    }
}
