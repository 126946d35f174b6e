/// OffsetCommit (8) 2-7 and OffsetFetch (9) 1-5.
public struct OffsetCommitRequestMessage: Sendable {
    public struct Partition: Sendable { public var index: Int32; public var offset: Int64; public var leaderEpoch: Int32; public var metadata: String? }
    public struct Topic: Sendable { public var name: String; public var partitions: [Partition] }
    public var groupId: String; public var generationId: Int32; public var memberId: String; public var topics: [Topic]

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        groupId = try reader.readString()
        generationId = try reader.readInt32()
        memberId = try reader.readString()
        if version >= 7 { _ = try reader.readNullableString() }  // group instance id
        if version <= 4 { _ = try reader.readInt64() }  // retention time
        topics = try reader.readArray { reader throws(WireError) in
            Topic(name: try reader.readString(), partitions: try reader.readArray { reader throws(WireError) in
                let index = try reader.readInt32()
                let offset = try reader.readInt64()
                let epoch = version >= 6 ? try reader.readInt32() : -1
                return Partition(index: index, offset: offset, leaderEpoch: epoch, metadata: try reader.readNullableString())
            })
        }
    }
}

/// OffsetCommit's response: per topic, per partition, an error code.
public struct PartitionErrorsResponse: Sendable {
    public var topics: [(name: String, partitions: [(index: Int32, errorCode: Int16)])]
    public init(topics: [(name: String, partitions: [(index: Int32, errorCode: Int16)])]) { self.topics = topics }

    public func write(to writer: inout WireWriter, version: Int16, throttleFrom: Int16) {
        if version >= throttleFrom { writer.writeInt32(0) }
        writer.writeArray(topics) { writer, topic in
            writer.writeString(topic.name)
            writer.writeArray(topic.partitions) { writer, partition in
                writer.writeInt32(partition.index)
                writer.writeInt16(partition.errorCode)
            }
        }
    }
}

public struct OffsetFetchRequestMessage: Sendable {
    public var groupId: String
    /// nil: every partition the group committed (v2+).
    public var topics: [(name: String, partitions: [Int32])]?

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        groupId = try reader.readString()
        topics = try reader.readNullableArray { reader throws(WireError) in
            (try reader.readString(), try reader.readArray { reader throws(WireError) in try reader.readInt32() })
        }
    }
}

public struct OffsetFetchResponseMessage: Sendable {
    public struct Partition: Sendable { public var index: Int32; public var offset: Int64; public var leaderEpoch: Int32; public var metadata: String?; public var errorCode: Int16
        public init(index: Int32, offset: Int64, leaderEpoch: Int32, metadata: String?, errorCode: Int16) {
            self.index = index; self.offset = offset; self.leaderEpoch = leaderEpoch; self.metadata = metadata; self.errorCode = errorCode } }
    public var topics: [(name: String, partitions: [Partition])]
    public var errorCode: Int16
    public init(topics: [(name: String, partitions: [Partition])], errorCode: Int16) { self.topics = topics; self.errorCode = errorCode }

    public func write(to writer: inout WireWriter, version: Int16) {
        if version >= 3 { writer.writeInt32(0) }
        writer.writeArray(topics) { writer, topic in
            writer.writeString(topic.name)
            writer.writeArray(topic.partitions) { writer, partition in
                writer.writeInt32(partition.index)
                writer.writeInt64(partition.offset)
                if version >= 5 { writer.writeInt32(partition.leaderEpoch) }
                writer.writeNullableString(partition.metadata)
                writer.writeInt16(partition.errorCode)
            }
        }
        if version >= 2 { writer.writeInt16(errorCode) }
    }
}
