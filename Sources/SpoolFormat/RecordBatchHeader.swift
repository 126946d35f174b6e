/// The 61-byte header of a RecordBatch v2, read without touching the records.
public struct RecordBatchHeader: Equatable, Sendable {
    public var baseOffset: Int64
    /// Bytes after the batchLength field; the whole batch is `batchLength + 12` bytes.
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: BatchAttributes
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordsCount: Int32

    /// Whole batch size in bytes.
    public var totalSize: Int { Int(batchLength) + RecordBatchLayout.logOverhead }
    /// Offset of the last record in the batch. Wrapping, not trapping: the fields come from
    /// outside (a fetch, a file), and those that read them check the range where it matters.
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }
    /// Offset after the batch.
    public var nextOffset: Int64 { lastOffset &+ 1 }
    /// Sequence of the last record (wrapping from Int32.max to 0, as Kafka does).
    public var lastSequence: Int32 {
        baseSequence < 0 ? -1 : Int32(truncatingIfNeeded: (Int64(baseSequence) + Int64(lastOffsetDelta)) % (Int64(Int32.max) + 1))
    }

    /// Reads the header fields from the first 61 bytes of `bytes`. Checks only that they are there;
    /// `RecordBatchView.validate` checks the rest.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(FormatError) {
        guard bytes.count >= RecordBatchLayout.headerSize else {
            throw .truncated(needed: RecordBatchLayout.headerSize, available: bytes.count)
        }
        var reader = ByteReader(bytes)
        baseOffset = try reader.readInt64()
        batchLength = try reader.readInt32()
        partitionLeaderEpoch = try reader.readInt32()
        magic = try reader.readInt8()
        crc = try reader.readUInt32()
        attributes = BatchAttributes(rawValue: try reader.readInt16())
        lastOffsetDelta = try reader.readInt32()
        baseTimestamp = try reader.readInt64()
        maxTimestamp = try reader.readInt64()
        producerId = try reader.readInt64()
        producerEpoch = try reader.readInt16()
        baseSequence = try reader.readInt32()
        recordsCount = try reader.readInt32()
    }
}
