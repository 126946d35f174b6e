import Dispatch
import SpoolLog
import SpoolSystem
import Synchronization
import SpoolFormat

/// One partition of a fetch.
public struct FetchPartitionRequest: Sendable {
    public var topicPartition: TopicPartition
    public var fetchOffset: Int64
    /// Most bytes to return for this partition (at least one batch is returned regardless).
    public var maxBytes: Int

    public init(_ topicPartition: TopicPartition, fetchOffset: Int64, maxBytes: Int = 1 << 20) {
        self.topicPartition = topicPartition
        self.fetchOffset = fetchOffset
        self.maxBytes = maxBytes
    }
}

/// One partition of a fetch's answer.
public struct FetchedPartition: Sendable {
    public var topicPartition: TopicPartition
    public var error: KafkaErrorCode
    public var highWatermark: Int64
    public var logStartOffset: Int64
    /// Whole stored batches, as they are on disk (empty at the high watermark or on error).
    public var records: LogSlice?
}

extension Broker {
    /// Reads every requested partition. When fewer than `minBytes` are available it parks until a
    /// flush makes more visible or `maxWaitMs` passes (a long poll: no polling, no spinning), reads
    /// again, and parks again while still short; at the deadline it answers for every requested
    /// partition with what there is. `maxBytes` bounds the whole answer and each request's
    /// `maxBytes` its partition, as in Kafka: only the first partition that returns anything may
    /// exceed them, by its first batch, so a consumer always makes progress; every later partition
    /// gets only whole batches that fit in what is left (none, once nothing is left, but it is
    /// read all the same, for its errors and for what it holds).
    public func fetch(_ requests: [FetchPartitionRequest], maxWaitMs: Int, minBytes: Int, maxBytes: Int) async -> [FetchedPartition] {
        let deadline = DispatchTime.now() + .milliseconds(min(max(maxWaitMs, 0), config.fetchWaitMaxMs))
        while true {
            let read = readOnce(requests, maxBytes: maxBytes)
            // As Kafka: enough once the bytes read reach MinBytes, so a MinBytes of 0 (or less)
            // is answered at once even with nothing to read, or once the bytes visible to the
            // reads do (each partition's from its fetch offset to its high watermark, up to its
            // MaxBytes: DelayedFetch.tryComplete), so a MinBytes above MaxBytes is answered with
            // what MaxBytes lets in when the data is there; and at once when a partition was
            // read from an older segment than its high watermark's (Kafka's DelayedFetch
            // completes then), as the records past that segment's end, visible already, would
            // not wake a wait and the fetch would sit out its deadline short of them.
            if read.bytes >= minBytes || read.available >= minBytes || read.hasError || read.olderSegment
                || DispatchTime.now() >= deadline || requests.isEmpty {
                for result in read.results {
                    guard let counted = result.records?.withUnsafeBytes({ BrokerMetrics.count($0) }) else { continue }
                    metrics.recordsOut.add(counted.records, ordering: .relaxed)
                    metrics.bytesOut.add(counted.bytes, ordering: .relaxed)
                }
                return read.results
            }
            await waitForData(requests, readAt: read.results, until: deadline)
        }
    }

    /// One read of every requested partition, and what tells whether it answers the fetch.
    private struct FetchRead {
        var results: [FetchedPartition] = []
        /// Bytes read: what the answer carries.
        var bytes = 0
        /// Bytes visible from each partition's fetch offset to its high watermark, each counted
        /// up to the partition's MaxBytes (Kafka's DelayedFetch `accumulatedSize`).
        var available = 0
        var hasError = false
        /// A partition was read from an older segment than the one its high watermark is in.
        var olderSegment = false
    }

    private func readOnce(_ requests: [FetchPartitionRequest], maxBytes: Int) -> FetchRead {
        var remaining = max(maxBytes, 1)
        var read = FetchRead()
        for request in requests {
            var result = FetchedPartition(topicPartition: request.topicPartition, error: .none, highWatermark: -1, logStartOffset: -1, records: nil)
            do {
                let log = try readableLog(request.topicPartition.topic, request.topicPartition.partition)
                result.highWatermark = log.highWatermark
                result.logStartOffset = log.logStartOffset
                // Once MaxBytes is used up, with 0 bytes (Kafka reads such a partition too).
                let partitionRead = try log.read(from: request.fetchOffset, maxBytes: min(max(request.maxBytes, 1), max(remaining, 0)),
                                                 minOneBatch: read.bytes == 0)
                result.highWatermark = partitionRead.highWatermark
                result.logStartOffset = partitionRead.logStartOffset
                result.records = partitionRead.slice
                read.olderSegment = read.olderSegment || partitionRead.olderSegmentThanHighWatermark
                read.available += min(partitionRead.bytesToHighWatermark, max(request.maxBytes, 0))
                remaining -= partitionRead.slice.count
                read.bytes += partitionRead.slice.count
            } catch let error as BrokerError {
                result.error = error.code
                read.hasError = true
            } catch let error as LogError {
                result.error = BrokerError.from(error).code
                read.hasError = true
            } catch {
                result.error = .unknownServerError
                read.hasError = true
            }
            read.results.append(result)
        }
        return read
    }

    /// Parks until a record that was not visible when `results` were read becomes visible in any
    /// requested partition (its high watermark passes both its fetch offset and the high watermark
    /// it was read at), or the deadline. Records already read do not wake it: a fetch short of
    /// MinBytes would otherwise be woken at once and read the same records again until its
    /// deadline. Kafka's DelayedFetch likewise completes on new appends, not on what it has seen.
    private func waitForData(_ requests: [FetchPartitionRequest], readAt results: [FetchedPartition], until deadline: DispatchTime) async {
        precondition(results.count == requests.count, "one result a requested partition")
        let logs = zip(requests, results).compactMap { request, result -> (PartitionLog, Int64)? in
            guard let log = try? readableLog(request.topicPartition.topic, request.topicPartition.partition) else { return nil }
            return (log, max(request.fetchOffset, result.highWatermark))
        }
        let wake = OneShot()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            wake.arm(continuation)
            var waits: [(PartitionLog, VisibilityWait)] = []
            for (log, offset) in logs {
                if let wait = log.whenVisible(beyond: offset, { wake.fire() }) { waits.append((log, wait)) }
            }
            let registered = waits
            metrics.fetchDeadlinesArmed.add(1, ordering: .relaxed)
            let timer = DeadlineTimer(deadline: deadline, settled: { [metrics] in metrics.fetchDeadlinesArmed.subtract(1, ordering: .relaxed) }) {
                wake.fire()
            }
            wake.onFire {
                timer.cancel()
                for (log, wait) in registered { log.cancelVisibilityWait(wait) }
            }
            metrics.fetchesParked.add(1, ordering: .relaxed)
            metrics.fetchParks.add(1, ordering: .relaxed)
        }
        metrics.fetchesParked.subtract(1, ordering: .relaxed)
    }
}

/// Resumes a continuation exactly once, whichever of several events comes first.
final class OneShot: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Void, Never>?
        var fired = false
        var cleanup: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    func arm(_ continuation: CheckedContinuation<Void, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    /// Runs `cleanup` once the shot has fired (at once if it already has).
    func onFire(_ cleanup: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.fired { return true }
            state.cleanup = cleanup
            return false
        }
        if runNow { cleanup() }
    }

    func fire() {
        let (continuation, cleanup) = state.withLock { state -> (CheckedContinuation<Void, Never>?, (@Sendable () -> Void)?) in
            guard !state.fired else { return (nil, nil) }
            state.fired = true
            defer {
                state.continuation = nil
                state.cleanup = nil
            }
            return (state.continuation, state.cleanup)
        }
        cleanup?()
        continuation?.resume()
    }
}
