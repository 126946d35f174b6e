import SpoolFormat
import SpoolLog

/// Batches with recognisable contents: record `i` of batch `tag` has value "<tag>-<i>" padded to
/// `valueBytes`, key "k<i % 7>", and timestamp `timestamp + i`.
func makeBatch(tag: String, records: Int = 3, valueBytes: Int = 0, timestamp: Int64 = 1_700_000_000_000) -> [UInt8] {
    RecordBatch(producing: (0..<records).map { index in
        var value = Array("\(tag)-\(index)".utf8)
        if value.count < valueBytes { value += [UInt8](repeating: UInt8(ascii: "."), count: valueBytes - value.count) }
        return ProducerRecord(key: Array("k\(index % 7)".utf8), value: value, timestamp: timestamp + Int64(index))
    }).encoded()
}

/// Every batch readable from `offset` to the high watermark, decoded.
func readAll(_ log: PartitionLog, from offset: Int64? = nil) throws -> [RecordBatch] {
    var next = offset ?? log.logStartOffset
    var batches: [RecordBatch] = []
    while next < log.highWatermark {
        let result = try log.read(from: next, maxBytes: 64 << 10)
        guard !result.slice.isEmpty else { break }
        try result.slice.forEachBatch { bytes in
            let batch = try RecordBatch(decoding: bytes)
            batches.append(batch)
            next = batch.baseOffset + Int64(batch.lastOffsetDelta) + 1
        }
    }
    return batches
}

/// The values of every record in `batches`, as strings without `makeBatch`'s padding.
func values(_ batches: [RecordBatch]) -> [String] {
    batches.flatMap { $0.records.map { String(String(decoding: $0.value ?? [], as: UTF8.self).reversed().drop { $0 == "." }.reversed()) } }
}

/// A small-segment config for tests; `always` by default.
func testConfig(segmentBytes: Int = 64 << 10, fsync: FsyncPolicy = .always) -> LogConfig {
    var config = LogConfig()
    config.segmentBytes = segmentBytes
    config.preallocateBytes = 16 << 10
    config.indexIntervalBytes = 256
    config.fsync = fsync
    return config
}
