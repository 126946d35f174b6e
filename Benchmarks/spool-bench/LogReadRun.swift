import SpoolFormat
import SpoolLog
import SpoolSystem

/// The read workload of `spool-bench log`: the whole log, from its start to its high watermark,
/// through `read(from:maxBytes:)` in 1 MiB reads, as a consumer fetching a backlog would. Every
/// byte is loaded (`wordSum`, the same function the memory baseline runs) and every batch header
/// is walked (`forEachBatch`) to find the next offset, so the figure is of bytes really read.
struct LogReadRun {
    /// `maxBytes` of each read, Kafka's default `fetch.max.bytes` per partition.
    static let readBytesMax = 1 << 20

    /// Passes over the log; the best is reported, as for the memory baselines.
    let passes: Int
    /// What the log must hold: the read is checked against what was appended.
    let expectedBatches: Int
    let expectedRecords: Int

    func measure(_ log: PartitionLog) throws -> ReadMeasurement {
        precondition(passes >= 1, "a read needs at least one pass")
        var best = try checkedPass(log)
        for _ in 1..<passes {
            let pass = try checkedPass(log)
            if pass.seconds < best.seconds { best = pass }
        }
        return best
    }

    /// One pass, checked against what was appended.
    private func checkedPass(_ log: PartitionLog) throws -> ReadMeasurement {
        let pass = try readAll(log)
        guard pass.batches == expectedBatches, pass.records == expectedRecords, pass.bytes == log.sizeInBytes else {
            throw BenchmarkError("read back \(pass.batches) batches, \(pass.records) records, \(pass.bytes) bytes; "
                                 + "appended \(expectedBatches) batches, \(expectedRecords) records, \(log.sizeInBytes) bytes")
        }
        return pass
    }

    private func readAll(_ log: PartitionLog) throws -> ReadMeasurement {
        let end = log.highWatermark
        var next = log.logStartOffset
        var bytes = 0
        var batches = 0
        var records = 0
        var sum: UInt64 = 0
        let started = monotonicNanoseconds()
        while next < end {
            let slice = try log.read(from: next, maxBytes: Self.readBytesMax).slice
            guard !slice.isEmpty else { throw BenchmarkError("read at offset \(next) returned nothing below the high watermark \(end)") }
            sum = slice.withUnsafeBytes { wordSum($0, sum) }
            try slice.forEachBatch { batch in
                let header = try RecordBatchHeader(parsing: batch)
                batches += 1
                records += Int(header.recordsCount)
                next = header.nextOffset
            }
            bytes += slice.count
        }
        let elapsed = seconds(since: started)
        blackHole(sum)
        return ReadMeasurement(bytes: bytes, batches: batches, records: records, seconds: elapsed, passes: passes)
    }
}

/// What the read run measured (its best pass).
struct ReadMeasurement {
    var bytes: Int
    var batches: Int
    var records: Int
    var seconds: Double
    var passes: Int

    var mbPerSecond: Double { Double(bytes) / 1_048_576 / seconds }
    var recordsPerSecond: Double { Double(records) / seconds }
}
