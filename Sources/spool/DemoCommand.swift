import Dispatch
import SpoolFormat
import SpoolLog
import SpoolSystem
import Synchronization

/// `spool demo storage`: a durable log in a data directory, used the way a broker uses it.
enum DemoCommand {
    static let help = """
        usage: spool demo storage [--data DIR] [--records N] [--batch-records N] [--fsync POLICY]

        Opens (recovering if needed) the partition log DIR/demo-0, appends N records of 100 bytes
        in batches, waits until they are on disk, reads every record back and checks it. Each run
        adds to the same log, so a second run shows recovery of what the first one wrote.

        options:
          --data DIR             data directory (default: ./spool-data)
          --records N            records to append (default: 100000)
          --batch-records N      records per batch (default: 100)
          --fsync POLICY         always | interval=<ms> | never (default: always)
        """

    static func run(_ words: ArraySlice<String>) async -> Int32 {
        let arguments: Arguments
        let records: Int
        let batchRecords: Int
        let policy: FsyncPolicy
        do {
            arguments = try Arguments(words, valued: ["data", "records", "batch-records", "fsync"])
            if arguments.wantsHelp {
                print(help)
                return ExitCode.success
            }
            guard arguments.positional.isEmpty else {
                throw Arguments.UsageError(description: "unexpected argument '\(arguments.positional[0])'")
            }
            records = try arguments.integer("records", default: 100_000, range: 1...100_000_000)
            batchRecords = try arguments.integer("batch-records", default: 100, range: 1...5_000)
            policy = try FsyncPolicy(parsing: arguments.options["fsync"] ?? "always")
        } catch {
            printError("spool demo storage: \(error)\n\n" + help)
            return ExitCode.usage
        }
        let directory = (arguments.options["data"] ?? "spool-data") + "/demo-0"
        do {
            try await demo(directory: directory, records: records, batchRecords: batchRecords, policy: policy)
            return ExitCode.success
        } catch {
            printError("spool demo storage: \(error)")
            return ExitCode.failure
        }
    }

    private static func demo(directory: String, records: Int, batchRecords: Int, policy: FsyncPolicy) async throws {
        var config = LogConfig()
        config.fsync = policy
        let openedAt = monotonicNanoseconds()
        let log = try PartitionLog.open(directory: directory, config: config)
        print("opened \(directory) in \(milliseconds(since: openedAt)) ms: \(log.recoveryReport)")

        let start = log.logEndOffset
        let batchCount = (records + batchRecords - 1) / batchRecords
        let appendStarted = monotonicNanoseconds()
        var lastOffset = start - 1
        // Keep a bounded number of batches in flight, as a producer with several requests
        // outstanding does: the flusher's one fdatasync then covers many of them.
        let inFlightMax = 64
        var inFlight: [Int64] = []
        for index in 0..<batchCount {
            let count = min(batchRecords, records - index * batchRecords)
            let batch = makeBatch(first: lastOffset + 1, count: count)
            let result = try log.append(batch)
            lastOffset = result.lastOffset
            inFlight.append(result.lastOffset)
            if inFlight.count >= inFlightMax {
                try await log.waitUntilDurable(inFlight.removeFirst())
            }
        }
        try await log.waitUntilDurable(lastOffset)
        let appendSeconds = Double(monotonicNanoseconds() - appendStarted) / 1e9
        print("appended \(records) records (offsets \(start)...\(lastOffset)) in \(batchCount) batches, fsync=\(policy): "
              + "\(Int(Double(records) / appendSeconds)) records/s, all on disk")

        let readStarted = monotonicNanoseconds()
        var next = start
        var checked = 0
        while next < log.highWatermark {
            let result = try log.read(from: next, maxBytes: 1 << 20)
            try result.slice.forEachBatch { bytes in
                let batch = try RecordBatch(decoding: bytes)
                for record in batch.records where batch.offset(of: record) >= next {
                    let offset = batch.offset(of: record)
                    guard record.value == value(for: offset) else {
                        throw LogError.corruptBatch(offset: offset, reason: "value differs from what was appended")
                    }
                    checked += 1
                }
                next = batch.baseOffset + Int64(batch.lastOffsetDelta) + 1
            }
        }
        print("read back and checked \(checked) records in \(milliseconds(since: readStarted)) ms; "
              + "the log holds offsets \(log.logStartOffset)..<\(log.logEndOffset) in \(log.segmentBaseOffsets.count) segment(s)")
        try log.close()
    }

    /// Record values carry their own offset, so reading back proves each is where it was put.
    private static func value(for offset: Int64) -> [UInt8] {
        var text = Array("record \(offset) ".utf8)
        text += [UInt8](repeating: UInt8(ascii: "."), count: max(0, 100 - text.count))
        return text
    }

    private static func makeBatch(first: Int64, count: Int) -> [UInt8] {
        let now = currentTimeMs()
        return RecordBatch(producing: (0..<count).map { index in
            let offset = first + Int64(index)
            return ProducerRecord(key: Array("user-\(offset % 100)".utf8), value: value(for: offset), timestamp: now)
        }).encoded()
    }

    private static func milliseconds(since start: UInt64) -> Int {
        Int((monotonicNanoseconds() - start) / 1_000_000)
    }
}
