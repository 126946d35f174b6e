/// Metadata (3), versions 0-8.
public struct MetadataRequest: Sendable {
    /// nil: every topic (v0 sends an empty list for that).
    public var topics: [String]?
    public var allowAutoTopicCreation: Bool

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        let names = try reader.readNullableArray { reader throws(WireError) in try reader.readString() }
        topics = version == 0 && names?.isEmpty == true ? nil : names
        allowAutoTopicCreation = version >= 4 ? try reader.readBool() : true
        if version >= 8 {
            _ = try reader.readBool()  // include cluster authorized operations
            _ = try reader.readBool()  // include topic authorized operations
        }
    }
}

public struct MetadataResponse: Sendable {
    public struct Broker: Sendable { public var nodeId: Int32; public var host: String; public var port: Int32
        public init(nodeId: Int32, host: String, port: Int32) { self.nodeId = nodeId; self.host = host; self.port = port } }
    public struct Partition: Sendable { public var errorCode: Int16; public var index: Int32; public var leader: Int32; public var leaderEpoch: Int32
        public init(errorCode: Int16, index: Int32, leader: Int32, leaderEpoch: Int32) { self.errorCode = errorCode; self.index = index; self.leader = leader; self.leaderEpoch = leaderEpoch } }
    public struct Topic: Sendable { public var errorCode: Int16; public var name: String; public var partitions: [Partition]
        public init(errorCode: Int16, name: String, partitions: [Partition]) { self.errorCode = errorCode; self.name = name; self.partitions = partitions } }

    public var brokers: [Broker]
    public var clusterId: String
    public var controllerId: Int32
    public var topics: [Topic]

    public init(brokers: [Broker], clusterId: String, controllerId: Int32, topics: [Topic]) {
        self.brokers = brokers
        self.clusterId = clusterId
        self.controllerId = controllerId
        self.topics = topics
    }

    public func write(to writer: inout WireWriter, version: Int16) {
        if version >= 3 { writer.writeInt32(0) }
        writer.writeArray(brokers) { writer, broker in
            writer.writeInt32(broker.nodeId)
            writer.writeString(broker.host)
            writer.writeInt32(broker.port)
            if version >= 1 { writer.writeNullableString(nil) }  // rack
        }
        if version >= 2 { writer.writeNullableString(clusterId) }
        if version >= 1 { writer.writeInt32(controllerId) }
        writer.writeArray(topics) { writer, topic in
            writer.writeInt16(topic.errorCode)
            writer.writeString(topic.name)
            if version >= 1 { writer.writeBool(false) }  // is internal
            writer.writeArray(topic.partitions) { writer, partition in
                writer.writeInt16(partition.errorCode)
                writer.writeInt32(partition.index)
                writer.writeInt32(partition.leader)
                if version >= 7 { writer.writeInt32(partition.leaderEpoch) }
                writer.writeArray([partition.leader]) { $0.writeInt32($1) }  // replicas
                writer.writeArray([partition.leader]) { $0.writeInt32($1) }  // in-sync replicas
                if version >= 5 { writer.writeArray([Int32]()) { $0.writeInt32($1) } }  // offline replicas
            }
            if version >= 8 { writer.writeInt32(Int32.min) }  // topic authorized operations
        }
        if version >= 8 { writer.writeInt32(Int32.min) }  // cluster authorized operations
    }
}
