/// ListOffsets (2), versions 1-5.
public struct ListOffsetsRequest: Sendable {
    public struct Partition: Sendable { public var index: Int32; public var timestamp: Int64 }
    public struct Topic: Sendable { public var name: String; public var partitions: [Partition] }
    public var topics: [Topic]

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        _ = try reader.readInt32()  // replica id
        if version >= 2 { _ = try reader.readInt8() }  // isolation level
        topics = try reader.readArray { reader throws(WireError) in
            Topic(name: try reader.readString(), partitions: try reader.readArray { reader throws(WireError) in
                let index = try reader.readInt32()
                if version >= 4 { _ = try reader.readInt32() }  // current leader epoch
                return Partition(index: index, timestamp: try reader.readInt64())
            })
        }
    }
}

public struct ListOffsetsResponse: Sendable {
    public struct Partition: Sendable { public var index: Int32; public var errorCode: Int16; public var timestamp: Int64; public var offset: Int64
        public init(index: Int32, errorCode: Int16, timestamp: Int64, offset: Int64) { self.index = index; self.errorCode = errorCode; self.timestamp = timestamp; self.offset = offset } }
    public struct Topic: Sendable { public var name: String; public var partitions: [Partition]
        public init(name: String, partitions: [Partition]) { self.name = name; self.partitions = partitions } }
    public var topics: [Topic]
    public init(topics: [Topic]) { self.topics = topics }

    public func write(to writer: inout WireWriter, version: Int16) {
        if version >= 2 { writer.writeInt32(0) }
        writer.writeArray(topics) { writer, topic in
            writer.writeString(topic.name)
            writer.writeArray(topic.partitions) { writer, partition in
                writer.writeInt32(partition.index)
                writer.writeInt16(partition.errorCode)
                writer.writeInt64(partition.timestamp)
                writer.writeInt64(partition.offset)
                if version >= 4 { writer.writeInt32(0) }  // leader epoch
            }
        }
    }
}
