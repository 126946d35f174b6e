import SpoolFormat
import SpoolSystem

/// The few header fields the log needs to walk batches, read straight from stored bytes.
struct BatchBounds {
    var baseOffset: Int64
    /// Whole batch size in bytes.
    var size: Int
    var lastOffsetDelta: Int32
    var maxTimestamp: Int64
    var magic: Int8

    var nextOffset: Int64 { baseOffset + Int64(lastOffsetDelta) + 1 }

    /// Reads the batch header at `position` if a whole header is there and the declared size fits
    /// in `limit`; nil otherwise. Checks bounds only (not magic or CRC).
    static func read(_ region: MappedRegion, at position: Int, limit: Int) -> BatchBounds? {
        guard limit - position >= RecordBatchLayout.headerSize else { return nil }
        return region.withUnsafeBytes(position..<(position + RecordBatchLayout.headerSize)) { header in
            let length = Int(Int32(bigEndian: header.loadUnaligned(fromByteOffset: RecordBatchLayout.batchLength, as: Int32.self)))
            let size = length + RecordBatchLayout.logOverhead
            guard size >= RecordBatchLayout.headerSize, size <= limit - position else { return nil }
            return BatchBounds(
                baseOffset: Int64(bigEndian: header.loadUnaligned(fromByteOffset: RecordBatchLayout.baseOffset, as: Int64.self)),
                size: size,
                lastOffsetDelta: Int32(bigEndian: header.loadUnaligned(fromByteOffset: RecordBatchLayout.lastOffsetDelta, as: Int32.self)),
                maxTimestamp: Int64(bigEndian: header.loadUnaligned(fromByteOffset: RecordBatchLayout.maxTimestamp, as: Int64.self)),
                magic: Int8(bitPattern: header[RecordBatchLayout.magic]))
        }
    }
}
