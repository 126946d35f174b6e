/// Fetch (1), versions 4-11.
public struct FetchRequest: Sendable {
    public struct Partition: Sendable { public var index: Int32; public var fetchOffset: Int64; public var maxBytes: Int32 }
    public struct Topic: Sendable { public var name: String; public var partitions: [Partition] }

    public var maxWaitMs: Int32
    public var minBytes: Int32
    public var maxBytes: Int32
    public var topics: [Topic]

    public init(reading reader: inout WireReader, version: Int16) throws(WireError) {
        _ = try reader.readInt32()  // replica id
        maxWaitMs = try reader.readInt32()
        minBytes = try reader.readInt32()
        maxBytes = try reader.readInt32()
        _ = try reader.readInt8()  // isolation level
        if version >= 7 {
            _ = try reader.readInt32()  // session id
            _ = try reader.readInt32()  // session epoch
        }
        topics = try reader.readArray { reader throws(WireError) in
            Topic(name: try reader.readString(), partitions: try reader.readArray { reader throws(WireError) in
                let index = try reader.readInt32()
                if version >= 9 { _ = try reader.readInt32() }  // current leader epoch
                let offset = try reader.readInt64()
                if version >= 5 { _ = try reader.readInt64() }  // log start offset (followers only)
                return Partition(index: index, fetchOffset: offset, maxBytes: try reader.readInt32())
            })
        }
        if version >= 7 {
            _ = try reader.readArray { reader throws(WireError) in
                _ = try reader.readString()
                _ = try reader.readArray { reader throws(WireError) in try reader.readInt32() }
            }
        }
        if version >= 11 { _ = try reader.readString() }  // rack id
    }
}

/// Fetch responses are written by the server straight from stored batches; this writes the parts
/// around them.
public enum FetchResponseWriter {
    public struct Partition {
        public var index: Int32; public var errorCode: Int16; public var highWatermark: Int64; public var logStartOffset: Int64
        public init(index: Int32, errorCode: Int16, highWatermark: Int64, logStartOffset: Int64) {
            self.index = index; self.errorCode = errorCode; self.highWatermark = highWatermark; self.logStartOffset = logStartOffset
        }
    }

    public static func beginResponse(_ writer: inout WireWriter, version: Int16, topicCount: Int) {
        writer.writeInt32(0)  // throttle time
        if version >= 7 {
            writer.writeInt16(0)  // error code
            writer.writeInt32(0)  // session id: no fetch sessions
        }
        writer.writeInt32(Int32(topicCount))
    }

    public static func beginTopic(_ writer: inout WireWriter, name: String, partitionCount: Int) {
        writer.writeString(name)
        writer.writeInt32(Int32(partitionCount))
    }

    /// One partition; `records` are stored batches, written as they are.
    public static func partition(_ writer: inout WireWriter, version: Int16, _ partition: Partition, records: UnsafeRawBufferPointer?) {
        writer.writeInt32(partition.index)
        writer.writeInt16(partition.errorCode)
        writer.writeInt64(partition.highWatermark)
        writer.writeInt64(partition.highWatermark)  // last stable offset: no transactions
        if version >= 5 { writer.writeInt64(partition.logStartOffset) }
        writer.writeInt32(0)  // aborted transactions: empty
        if version >= 11 { writer.writeInt32(-1) }  // preferred read replica
        writer.writeRecords(records ?? UnsafeRawBufferPointer(start: nil, count: 0))
    }
}
