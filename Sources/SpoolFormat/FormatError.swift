/// Why a byte string is not a valid Kafka RecordBatch v2, or why a record inside it cannot be read.
public enum FormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the structure needs.
    case truncated(needed: Int, available: Int)
    /// `batchLength + 12` disagrees with the bytes given for the batch.
    case lengthMismatch(declared: Int, available: Int)
    /// The magic byte is not 2.
    case unsupportedMagic(Int8)
    /// The stored CRC does not match the bytes it covers.
    case crcMismatch(stored: UInt32, computed: UInt32)
    /// Compression code 5-7.
    case invalidCompression(Int)
    /// A batch whose offset range does not match its record count.
    case inconsistentOffsetRange(lastOffsetDelta: Int32, recordsCount: Int32)
    /// A fetched batch whose baseOffset is negative, or so large that its last offset passes Int64.max.
    case invalidBaseOffset(Int64)
    /// A control batch (transaction marker) sent by a producer.
    case controlBatchFromProducer
    /// An idempotent batch (producerId ≥ 0) without a sequence number.
    case missingSequence
    /// A record inside the batch is malformed.
    case malformedRecord(index: Int, reason: String)
    /// The records are compressed with a codec Spool does not decode (the batch itself is fine).
    case compressedRecords(Compression)
    /// A varint longer than its type allows.
    case varintTooLong
    /// Compressed records that do not inflate (a corrupt stream, or more than
    /// `KeylessRecords.inflatedBytesMax` bytes).
    case undecompressable(Compression, reason: String)

    public var description: String {
        switch self {
        case let .truncated(needed, available): "truncated: needs \(needed) bytes, \(available) available"
        case let .lengthMismatch(declared, available):
            "batch length \(declared) does not match the \(available) bytes given"
        case let .unsupportedMagic(magic): "unsupported magic \(magic) (only RecordBatch v2, magic 2)"
        case let .crcMismatch(stored, computed):
            "CRC mismatch: stored \(hex(stored)), computed \(hex(computed))"
        case let .invalidCompression(code): "invalid compression code \(code)"
        case let .inconsistentOffsetRange(delta, count):
            "inconsistent offset range: lastOffsetDelta \(delta) with \(count) records"
        case let .invalidBaseOffset(offset): "invalid baseOffset \(offset): offsets run from 0 to Int64.max"
        case .controlBatchFromProducer: "producers may not send control batches"
        case .missingSequence: "idempotent batch without a base sequence"
        case let .malformedRecord(index, reason): "record \(index) is malformed: \(reason)"
        case let .compressedRecords(codec): "records are compressed with \(codec), which Spool does not decode"
        case .varintTooLong: "varint longer than its type allows"
        case let .undecompressable(codec, reason): "records compressed with \(codec) do not inflate: \(reason)"
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
