import SpoolFormat
import SpoolLog
import SpoolSystem
import Testing

extension PartitionLog {
    /// Appends filler records until fewer than 48 bytes are left in the active segment: any
    /// batch then starts a new one, which an append that may not block leaves to one that may.
    func fillActiveSegment() throws {
        func filler(_ valueBytes: Int) -> [UInt8] {
            RecordBatch(producing: [ProducerRecord(key: nil, value: [UInt8](repeating: 0x2E, count: valueBytes), timestamp: currentTimeMs())]).encoded()
        }
        let overhead = filler(0).count + 8
        var left = config.segmentBytes - sizeInBytes
        while left >= 48 {
            var valueBytes = min(batchBytesLimit, left - 24) - overhead
            // The record's length varints grow with its value: shrink until the batch fits.
            while filler(valueBytes).count > left - 24 { valueBytes -= 1 }
            try append(filler(valueBytes))
            left = config.segmentBytes - sizeInBytes
        }
        #expect(segmentBaseOffsets.count == 1)
    }
}
