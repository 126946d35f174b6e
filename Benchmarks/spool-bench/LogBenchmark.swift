import Dispatch
import Foundation
import SpoolFormat
import SpoolLog
import SpoolSystem
import Synchronization

/// `spool-bench log`: append and read throughput of one partition log.
struct LogBenchmark {
    static let help = """
        usage: spool-bench log [--mb N] [--dir DIR] [--json]

        Appends 100-byte records in batches of 1, 16 and 256 records under each fsync policy
        (always, interval=5, never) to a fresh partition log, then reads the 256-record log back.
        Baselines measured in the same run: sequential pwrite + fdatasync per MiB of the same byte
        count (raw disk), and memcpy of the same bytes.

        Four producers append concurrently, each keeping about 1 MiB of batches in flight (at least
        8), as Kafka producers keep requests in flight; latency is from the append call to its
        acknowledgement (durable under always; appended under interval and never).

        options:
          --mb N      MiB appended per run with 16 and 256 records per batch (default 256;
                      1-record runs write a quarter of it, at most 5 seconds' worth)
          --dir DIR   where to put the logs (default: ./.bench-tmp); removed afterwards
          --json      print one JSON object with the figures as the last line
        """

    struct Options {
        var megabytes = 256
        var directory = ".bench-tmp"
        var json = false
        var help = false

        init(_ words: ArraySlice<String>) throws {
            var rest = words
            while let word = rest.popFirst() {
                switch word {
                case "--json": json = true
                case "--help", "-h": help = true
                case "--mb":
                    guard let text = rest.popFirst(), let value = Int(text), (1...65_536).contains(value) else {
                        throw UsageError("--mb needs a whole number of MiB from 1 to 65536")
                    }
                    megabytes = value
                case "--dir":
                    guard let text = rest.popFirst() else { throw UsageError("--dir needs a directory") }
                    directory = text
                default: throw UsageError("unknown option \(word)")
                }
            }
        }
    }

    struct UsageError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    let options: Options
    static let valueBytes = 100
    static let policies: [FsyncPolicy] = [.always, .interval(milliseconds: 5), .never]
    static let batchSizes = [1, 16, 256]
    /// Concurrent producers, each keeping about 1 MiB of batches in flight.
    static let producers = 4

    func run() async throws {
        let root = options.directory + "/spool-bench-\(getpid())"
        try LiveFileSystem().makeDirectories(root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let totalBytes = options.megabytes << 20

        var rows: [Measurement] = []
        var readRow: Measurement?
        var rawRuns: [Double] = []
        let copy = Baselines.memcpy(bytes: totalBytes)
        for policy in Self.policies {
            for batchRecords in Self.batchSizes {
                let directory = root + "/\(policy)-\(batchRecords)".replacingOccurrences(of: "=", with: "")
                let bytes = batchRecords == 1 ? totalBytes / 4 : totalBytes
                // This disk's fdatasync speed drifts from second to second: the headline run gets a
                // raw baseline measured just before and just after it.
                let headline = policy == .always && batchRecords == 256
                if headline { rawRuns.append(try Baselines.rawFdatasync(directory: root, bytes: totalBytes)) }
                rows.append(try await append(directory: directory, policy: policy, batchRecords: batchRecords, bytes: bytes))
                if headline {
                    rawRuns.append(try Baselines.rawFdatasync(directory: root, bytes: totalBytes))
                    readRow = try read(directory: directory, memcpyMBps: copy)
                }
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
        let raw = rawRuns.reduce(0, +) / Double(max(rawRuns.count, 1))
        for index in rows.indices {
            rows[index].baselineName = "raw fdatasync"
            rows[index].baselineMBps = raw
        }
        print(table(rows: rows, read: readRow, raw: raw, copy: copy))
        if options.json { print(json(rows: rows, read: readRow, raw: raw, copy: copy)) }
    }

    /// Appends batches of `batchRecords` records until `bytes` are written (or 5 s pass), keeping a
    /// window of batches in flight.
    private func append(directory: String, policy: FsyncPolicy, batchRecords: Int, bytes: Int) async throws -> Measurement {
        var config = LogConfig()
        config.fsync = policy
        let log = try PartitionLog.open(directory: directory, config: config)
        let batch = RecordBatch(producing: (0..<batchRecords).map { index in
            ProducerRecord(key: Array("user-\(index % 64)".utf8), value: [UInt8](repeating: UInt8(ascii: "v"), count: Self.valueBytes),
                           timestamp: currentTimeMs())
        }).encoded()
        let window = max(8, (1 << 20) / batch.count)
        let batchesMax = max(Self.producers, bytes / batch.count)
        let perProducer = batchesMax / Self.producers
        let latencies = LatencyRecorder(capacity: perProducer * Self.producers)
        let failure = Mutex<(any Error)?>(nil)
        let started = monotonicNanoseconds()
        let deadline = started + 5_000_000_000
        let appended = Mutex(0)
        let bytesToAppend = batch
        DispatchQueue.concurrentPerform(iterations: Self.producers) { producer in
            let inFlight = DispatchSemaphore(value: window)
            var count = 0
            bytesToAppend.withUnsafeBytes { raw in
                while count < perProducer && (batchRecords > 1 || monotonicNanoseconds() < deadline) {
                    inFlight.wait()
                    let appendStarted = monotonicNanoseconds()
                    let index = producer * perProducer + count
                    do {
                        let result = try log.append(raw)
                        if policy == .always {
                            log.whenDurable(result.lastOffset) { _ in
                                latencies.record(index, monotonicNanoseconds() - appendStarted)
                                inFlight.signal()
                            }
                        } else {
                            latencies.record(index, monotonicNanoseconds() - appendStarted)
                            inFlight.signal()
                        }
                    } catch {
                        failure.withLock { $0 = error }
                        inFlight.signal()
                        break
                    }
                    count += 1
                }
            }
            // Wait for this producer's last acknowledgements; libdispatch also refuses to free a
            // semaphore below its initial value, so take every slot back before leaving.
            for _ in 0..<window { inFlight.wait() }
            for _ in 0..<window { inFlight.signal() }
            appended.withLock { $0 += count }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        try await log.flushNow()
        let elapsed = seconds(since: started)
        let count = appended.withLock { $0 }
        try log.close()
        return Measurement(name: "append fsync=\(policy)", batchRecords: batchRecords, bytes: count * batch.count,
                           records: count * batchRecords, seconds: elapsed, latency: LatencySummary(nanoseconds: latencies.samples(perProducer * Self.producers).filter { $0 > 0 }),
                           baselineName: "", baselineMBps: 0)
    }

    /// Reads the whole log back through `read(from:maxBytes:)` and copies every slice out, as a
    /// server copies it to a socket: the same work per byte as the memcpy baseline, plus the
    /// log's lookups and the page faults of a fresh mapping.
    private func read(directory: String, memcpyMBps: Double) throws -> Measurement {
        let log = try PartitionLog.open(directory: directory)
        defer { try? log.close() }
        var next = log.logStartOffset
        var bytes = 0
        var records = 0
        var sum: UInt64 = 0
        let target = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 << 20, alignment: 64)
        defer { target.deallocate() }
        target.initializeMemory(as: UInt8.self, repeating: 0)
        let started = monotonicNanoseconds()
        while next < log.highWatermark {
            let slice = try log.read(from: next, maxBytes: 1 << 20).slice
            slice.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: target[0..<source.count]).copyMemory(from: source)
                sum &+= UInt64(target[source.count / 2])
            }
            try slice.forEachBatch { batch in
                let header = try RecordBatchHeader(parsing: batch)
                records += Int(header.recordsCount)
                next = header.nextOffset
            }
            bytes += slice.count
        }
        let elapsed = seconds(since: started)
        blackHole(sum)
        return Measurement(name: "read (page cache)", batchRecords: 256, bytes: bytes, records: records, seconds: elapsed,
                           latency: nil, baselineName: "memcpy", baselineMBps: memcpyMBps)
    }
}

/// Per-batch latencies written by flusher callbacks and read after every batch is acknowledged.
final class LatencyRecorder: Sendable {
    private let values: Mutex<[UInt64]>

    init(capacity: Int) { values = Mutex([UInt64](repeating: 0, count: capacity)) }

    func record(_ index: Int, _ nanoseconds: UInt64) { values.withLock { $0[index] = nanoseconds } }

    func samples(_ count: Int) -> [UInt64] { values.withLock { Array($0.prefix(count)) } }
}
