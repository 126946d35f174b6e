import SpoolFormat
import SpoolSystem

/// Stored batches, as a slice of a segment's mapping: no copy, no decode. The slice keeps the
/// mapping alive, so it stays readable even if retention deletes the segment meanwhile.
public struct LogSlice: Sendable {
    let region: MappedRegion?
    /// Byte range within the segment's log file.
    public let range: Range<Int>

    static let empty = LogSlice(region: nil, range: 0..<0)

    /// Size in bytes.
    public var count: Int { range.count }
    public var isEmpty: Bool { range.isEmpty }

    /// The stored bytes (whole batches, back to back).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let region, !range.isEmpty else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try region.withUnsafeBytes(range, body)
    }

    /// A copy of the bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Calls `body` with each whole batch in the slice, in order.
    public func forEachBatch(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try withUnsafeBytes { bytes in
            var position = 0
            while let size = RecordBatchView.declaredSize(UnsafeRawBufferPointer(rebasing: bytes[position...])),
                  size >= RecordBatchLayout.headerSize, size <= bytes.count - position {
                try body(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + size)]))
                position += size
            }
        }
    }
}

/// The answer to a read.
public struct LogReadResult: Sendable {
    /// Whole batches starting with the one that holds the requested offset (empty at the end).
    public var slice: LogSlice
    /// What readers may see: the offset after the last visible record.
    public var highWatermark: Int64
    public var logStartOffset: Int64
    /// Where the read found the requested offset (Kafka's `fetchOffsetMetadata`): the segment and
    /// byte position of the batch that holds it or, at the high watermark, the high watermark's
    /// place. Nil past the high watermark (records appended, not yet durable). A parked fetch
    /// counts the bytes from here to the high watermark towards its MinBytes.
    public var start: LogPosition?
    /// The log failed (a flush did): what it holds is readable, but nothing is appended to it
    /// any more. Kafka answers a fetch from a log in an offline directory with KAFKA_STORAGE_ERROR.
    public var failure: LogError?
}

/// What an append stored.
public struct AppendResult: Equatable, Sendable {
    public var baseOffset: Int64
    public var lastOffset: Int64
    /// The batch's header as stored (with `baseOffset` written in).
    public var header: RecordBatchHeader
    /// Offset after the batch.
    public var nextOffset: Int64 { lastOffset + 1 }
}
