/// Produce (0), versions 3-8.
public struct ProduceRequest: Sendable {
    public struct Partition: Sendable { public var index: Int32; public var records: [UInt8]? }
    public struct Topic: Sendable { public var name: String; public var partitions: [Partition] }

    public var transactionalId: String?
    public var acks: Int16
    public var timeoutMs: Int32
    public var topics: [Topic]

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        transactionalId = try reader.readNullableString()
        acks = try reader.readInt16()
        timeoutMs = try reader.readInt32()
        topics = try reader.readArray { reader throws(WireError) in
            Topic(name: try reader.readString(), partitions: try reader.readArray { reader throws(WireError) in
                Partition(index: try reader.readInt32(), records: try reader.readNullableBytes())
            })
        }
    }
}

public struct ProduceResponse: Sendable {
    public struct Partition: Sendable {
        public var index: Int32; public var errorCode: Int16; public var baseOffset: Int64; public var logStartOffset: Int64
        public var errorMessage: String?
        public init(index: Int32, errorCode: Int16, baseOffset: Int64, logStartOffset: Int64, errorMessage: String? = nil) {
            self.index = index; self.errorCode = errorCode; self.baseOffset = baseOffset; self.logStartOffset = logStartOffset; self.errorMessage = errorMessage
        }
    }
    public struct Topic: Sendable { public var name: String; public var partitions: [Partition]
        public init(name: String, partitions: [Partition]) { self.name = name; self.partitions = partitions } }

    public var topics: [Topic]
    public init(topics: [Topic]) { self.topics = topics }

    public func write(to writer: inout WireWriter, version: Int16) {
        writer.writeArray(topics) { writer, topic in
            writer.writeString(topic.name)
            writer.writeArray(topic.partitions) { writer, partition in
                writer.writeInt32(partition.index)
                writer.writeInt16(partition.errorCode)
                writer.writeInt64(partition.baseOffset)
                writer.writeInt64(-1)  // log append time
                if version >= 5 { writer.writeInt64(partition.logStartOffset) }
                if version >= 8 {
                    writer.writeArray([Int32]()) { $0.writeInt32($1) }  // record errors
                    writer.writeNullableString(partition.errorMessage)
                }
            }
        }
        writer.writeInt32(0)  // throttle time
    }
}
