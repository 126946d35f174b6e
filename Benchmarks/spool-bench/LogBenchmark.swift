import Foundation
import SpoolLog
import SpoolSystem

/// `spool-bench log`: append and read throughput of one partition log, with the raw disk and
/// memory figures of the same run beside them.
struct LogBenchmark {
    static let help = """
        usage: spool-bench log [--mb N] [--dir DIR] [--json]

        Appends records with 100-byte values in RecordBatch v2 batches of 1, 16 and 256 records
        under each fsync policy (always, interval=5, never), each run into a fresh partition log
        (default config: 1 GiB segments). One producer keeps at most W = max(4, 1 MiB / batch
        bytes) batches in flight. Under always a batch is acknowledged by its whenDurable callback
        and the run ends when all are durable; under interval and never the append call is the
        acknowledgement and the run's time includes a final flushNow(). p50/p99 are per batch, from
        the append call to its acknowledgement.

        The durable 256-record log is then read back from offset 0 with read(from:maxBytes:) in
        1 MiB reads, loading every byte (from the page cache, where the data is at that point).

        Baselines measured in the same run:
          raw fdatasync  pwrite of the 256-record run's byte count in 1 MiB chunks, fdatasync after
                         each, into a fresh preallocated file beside the log; run just before and
                         just after the always/256 run, mean of the two
          memory sum     the read's per-byte work (64-bit loads, summed) over an in-memory buffer of
                         the same size; the read's target is measured against it
          memcpy         the same byte count copied in 1 MiB pieces between two 64 MiB buffers

        options:
          --mb N      MiB appended by each 16- and 256-record run (default 256, at most 4096);
                      1-record runs stop at min(N, 64) MiB or after 5 seconds, whichever is first
          --dir DIR   where to make the run's scratch directory (default ./.bench-tmp); it is
                      removed afterwards. Use a directory on the disk under test, not tmpfs.
          --json      also print one JSON object with the figures as the last line of stdout
          -h, --help  print this help
        """

    struct Options {
        var megabytes = 256
        var directory = ".bench-tmp"
        var json = false
        var help = false

        static let megabytesMax = 4096

        init(_ words: ArraySlice<String>) throws {
            var words = BenchWords(words)
            while let flag = try words.next() {
                switch flag {
                case "--mb": megabytes = try words.number(flag, 1...Self.megabytesMax)
                default: throw UsageError("unknown option '\(flag)'")
                }
            }
            (directory, json, help) = (words.directory, words.json, words.help)
        }
    }

    static let valueBytes = 100
    static let policies: [FsyncPolicy] = [.always, .interval(milliseconds: 5), .never]
    static let batchSizes = [1, 16, 256]
    /// The 1-record runs append at most this much, and for at most `singleRecordDurationMaxNs`.
    static let singleRecordBytesMax = 64 << 20
    static let singleRecordDurationMaxNs: UInt64 = 5_000_000_000
    /// Passes of the read and of each memory baseline; the best of each is reported.
    static let readPasses = 3

    let options: Options

    /// Runs on the main actor because the append loop blocks its thread while its window is full
    /// (see `LogAppendRun.measure`).
    @MainActor
    func run() async throws {
        let scratch = try ScratchDirectory(parent: options.directory, prefix: "spool-bench-log")
        defer { scratch.remove() }
        if scratch.isInMemory {
            FileHandle.standardError.write(Data("spool-bench log: warning: \(scratch.path) is on tmpfs; the fdatasync figures say nothing about a disk\n".utf8))
        }
        let bytes = options.megabytes << 20
        // One encoded batch per size, appended again and again (the log writes offsets into its copy).
        let batches = Self.batchSizes.map { (records: $0, bytes: LogAppendRun.makeBatch(records: $0, valueBytes: Self.valueBytes)) }

        var report = LogReport(directory: scratch.path, valueBytes: Self.valueBytes)
        for policy in Self.policies {
            for (batchRecords, batch) in batches {
                let run = LogAppendRun(
                    policy: policy, batch: batch, batchRecords: batchRecords,
                    bytesMax: batchRecords == 1 ? min(bytes, Self.singleRecordBytesMax) : bytes,
                    durationMaxNs: batchRecords == 1 ? Self.singleRecordDurationMaxNs : nil)
                let isHeadline = policy == .always && batchRecords == 256
                try await measure(run, in: scratch.path, headline: isHeadline, report: &report)
            }
        }
        let readBytes = report.read?.bytes ?? bytes
        report.memorySumMBps = Baselines.memorySum(bytes: readBytes, passes: Self.readPasses)
        report.memcpyMBps = Baselines.memcpy(bytes: readBytes, passes: Self.readPasses)

        print(report.table())
        if options.json { print(report.json()) }
    }

    /// One append run in its own fresh log, removed afterwards. The headline run (durable,
    /// 256-record batches) is bracketed by the raw disk baseline and followed, before its log is
    /// closed, by the read.
    @MainActor
    private func measure(_ run: LogAppendRun, in root: String, headline: Bool, report: inout LogReport) async throws {
        let directory = root + "/\(run.policy)-\(run.batchRecords)".replacingOccurrences(of: "=", with: "")
        // The same byte count as the headline run appends: whole batches, no deadline.
        let rawBytes = max(1, run.bytesMax / run.batch.count) * run.batch.count
        if headline { report.rawBeforeMBps = try Baselines.rawFdatasync(directory: root, bytes: rawBytes) }

        var config = LogConfig()
        config.fsync = run.policy
        let log = try PartitionLog.open(directory: directory, config: config)
        do {
            let append = try await run.measure(log)
            report.appends.append(append)
            if headline {
                report.rawAfterMBps = try Baselines.rawFdatasync(directory: root, bytes: rawBytes)
                report.read = try LogReadRun(passes: Self.readPasses, expectedBatches: append.batches, expectedRecords: append.records)
                    .measure(log)
            }
            try log.close()
        } catch {
            try? log.close()
            throw error
        }
        // Each run's data goes as soon as it is measured, so a large --mb needs one run's worth of disk.
        try? FileManager.default.removeItem(atPath: directory)
    }
}
