import SpoolFormat
import SpoolLog
import SpoolSystem
import Synchronization

/// One append workload of `spool-bench log`: the same encoded batch appended again and again to a
/// fresh log by one producer that keeps a bounded window of batches in flight.
struct LogAppendRun {
    /// Bytes of batches a producer keeps in flight, as a Kafka producer keeps about 1 MiB of
    /// requests outstanding (5 in-flight requests of up to 1 MiB batches, less in practice).
    static let windowBytes = 1 << 20
    /// The window holds at least this many batches, so that large batches still pipeline.
    static let windowBatchesMin = 4

    let policy: FsyncPolicy
    /// One whole RecordBatch v2, appended as is each time: the log writes the offset into its copy.
    let batch: [UInt8]
    let batchRecords: Int
    /// Stop after this many bytes of whole batches (at least one batch).
    let bytesMax: Int
    /// Also stop after this long, if set (the 1-record runs, which would otherwise take minutes).
    let durationMaxNs: UInt64?

    /// Batches in flight at most: W = max(4, 1 MiB / batch bytes).
    var window: Int { max(Self.windowBatchesMin, Self.windowBytes / batch.count) }

    /// A batch of `records` records with 100-byte values and null keys, as kafka-producer-perf-test
    /// sends with --record-size 100.
    static func makeBatch(records: Int, valueBytes: Int) -> [UInt8] {
        let now = currentTimeMs()
        let value = (0..<valueBytes).map { UInt8(truncatingIfNeeded: 0x41 + $0 % 26) }
        return RecordBatch(producing: (0..<records).map { _ in ProducerRecord(key: nil, value: value, timestamp: now) }).encoded()
    }

    /// Appends to `log` (fresh, with this run's fsync policy) until the byte or time budget is
    /// spent, then waits for the acknowledgements: the durable callbacks under `always`, a final
    /// `flushNow()` under `interval` and `never`, whose time is part of the run's.
    ///
    /// Blocks its thread while the window is full, so it runs on the main actor (the main
    /// thread), never on a concurrency-pool thread; the log's callbacks come on its flusher queue.
    @MainActor
    func measure(_ log: PartitionLog) async throws -> AppendMeasurement {
        precondition(log.config.fsync == policy, "the log was opened with fsync=\(log.config.fsync), not \(policy)")
        let durable = policy == .always
        let window = InFlightWindow(limit: window)
        let batchesMax = max(1, bytesMax / batch.count)
        let latencies = LatencyRecorder(capacity: batchesMax)
        let flushFailure = FirstError()
        var appendFailure: LogError?
        var batches = 0
        let started = monotonicNanoseconds()
        let deadline = durationMaxNs.map { started + $0 }
        batch.withUnsafeBytes { bytes in
            while batches < batchesMax {
                if let deadline, monotonicNanoseconds() >= deadline { break }
                window.acquire()
                let index = batches
                let appendStarted = monotonicNanoseconds()
                let result: AppendResult
                do throws(LogError) { result = try log.append(bytes) } catch {
                    window.release()
                    appendFailure = error
                    break
                }
                batches += 1
                if durable {
                    log.whenDurable(result.lastOffset) { outcome in
                        latencies.record(index, monotonicNanoseconds() - appendStarted)
                        if case let .failure(error) = outcome { flushFailure.keep(error) }
                        window.release()
                    }
                } else {
                    latencies.record(index, monotonicNanoseconds() - appendStarted)
                    window.release()
                }
            }
        }
        // Every batch appended is acknowledged (or failed) before the run ends, even after an
        // error, so no callback outlives the window it releases.
        window.drain()
        if let appendFailure { throw appendFailure }
        if let error = flushFailure.error { throw error }
        if !durable { try await log.flushNow() }
        let elapsed = seconds(since: started)
        precondition(log.durableOffset == log.logEndOffset, "the run ended with appended batches not yet durable")
        return AppendMeasurement(
            policy: policy, batchRecords: batchRecords, batchBytes: batch.count, window: window.limit, batches: batches,
            seconds: elapsed, latency: LatencySummary(nanoseconds: latencies.samples(batches)))
    }
}

/// What one append run measured.
struct AppendMeasurement {
    var policy: FsyncPolicy
    var batchRecords: Int
    var batchBytes: Int
    /// Batches in flight at most.
    var window: Int
    var batches: Int
    var seconds: Double
    /// Append call to acknowledgement, per batch.
    var latency: LatencySummary

    var bytes: Int { batches * batchBytes }
    var records: Int { batches * batchRecords }
    var mbPerSecond: Double { Double(bytes) / 1_048_576 / seconds }
    var recordsPerSecond: Double { Double(records) / seconds }
}

/// The first error reported by any of many callbacks.
final class FirstError: Sendable {
    private let first = Mutex<LogError?>(nil)

    func keep(_ error: LogError) { first.withLock { $0 = $0 ?? error } }

    var error: LogError? { first.withLock { $0 } }
}
