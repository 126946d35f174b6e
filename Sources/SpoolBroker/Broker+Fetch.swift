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
    /// flush makes more visible or `maxWaitMs` passes (a long poll: no polling, no spinning),
    /// looks again, and parks again while still short; once complete, or at the deadline, it
    /// reads again and answers for every requested partition with what there is. `maxBytes`
    /// bounds the whole answer and each request's `maxBytes` its partition, as in Kafka: only the
    /// first partition that returns anything may exceed them, by its first batch, so a consumer
    /// always makes progress; every later partition gets only whole batches that fit in what is
    /// left (none, once nothing is left, but it is read all the same, for its errors and for
    /// what it holds).
    public func fetch(_ requests: [FetchPartitionRequest], maxWaitMs: Int, minBytes: Int, maxBytes: Int) async -> [FetchedPartition] {
        let deadline = DispatchTime.now() + .milliseconds(min(max(maxWaitMs, 0), config.fetchWaitMaxMs))
        let first = readOnce(requests, maxBytes: maxBytes)
        // As Kafka's `ReplicaManager.fetchMessages`: answered at once when it may not wait, asks
        // for nothing, read MinBytes (so a MinBytes of 0 or less is answered even with nothing to
        // read), or met an error.
        if maxWaitMs <= 0 || requests.isEmpty || first.bytes >= minBytes || first.hasError {
            return answered(first.results)
        }
        // Then parked as Kafka's DelayedFetch, which looks at once too: the bytes visible from the
        // fetch offsets may make up MinBytes where the bytes read, bounded by MaxBytes, do not.
        let parked = ParkedFetch(partitions: first.parked)
        var parks = 0
        while DispatchTime.now() < deadline {
            guard case let .wait(waits) = parked.check(minBytes: minBytes, ends: { log throws(LogError) in try log.highWatermarkPosition() }) else { break }
            await waitForData(waits, until: deadline)
            parks += 1
        }
        // The first read stands for the one Kafka makes on completing (`DelayedFetch.onComplete`)
        // when nothing was waited for: it was made a moment ago.
        return answered(parks == 0 ? first.results : readOnce(requests, maxBytes: maxBytes).results)
    }

    /// `results`, counted in the metrics as sent.
    private func answered(_ results: [FetchedPartition]) -> [FetchedPartition] {
        for result in results {
            guard let counted = result.records?.withUnsafeBytes({ BrokerMetrics.count($0) }) else { continue }
            metrics.recordsOut.add(counted.records, ordering: .relaxed)
            metrics.bytesOut.add(counted.bytes, ordering: .relaxed)
        }
        return results
    }

    /// One read of every requested partition, and what tells whether it answers the fetch.
    private struct FetchRead {
        var results: [FetchedPartition] = []
        /// Bytes read: what the answer carries.
        var bytes = 0
        var hasError = false
        /// Each partition read without an error, for the fetch to park on.
        var parked: [ParkedFetch.Partition] = []
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
                // A failed log is offline: Kafka answers KAFKA_STORAGE_ERROR for its partitions.
                if let failure = partitionRead.failure { throw BrokerError.from(failure) }
                result.highWatermark = partitionRead.highWatermark
                result.logStartOffset = partitionRead.logStartOffset
                result.records = partitionRead.slice
                read.parked.append(.init(log: log, fetchOffset: request.fetchOffset, maxBytes: request.maxBytes, start: partitionRead.start))
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

    /// Parks until a record beyond one of `waits`' offsets becomes visible in its log (each the
    /// high watermark the fetch last looked at, or its fetch offset when past it), or the
    /// deadline. Records already counted do not wake it: a fetch short of MinBytes would
    /// otherwise be woken at once and look at the same records again until its deadline. Kafka's
    /// DelayedFetch likewise looks again on new appends, not on what it has seen.
    private func waitForData(_ waits: [(log: PartitionLog, beyond: Int64)], until deadline: DispatchTime) async {
        let wake = OneShot()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            wake.arm(continuation)
            var registered: [(PartitionLog, VisibilityWait)] = []
            for (log, offset) in waits {
                if let wait = log.whenVisible(beyond: offset, { wake.fire() }) { registered.append((log, wait)) }
            }
            let all = registered
            metrics.fetchDeadlinesArmed.add(1, ordering: .relaxed)
            let timer = DeadlineTimer(deadline: deadline, settled: { [metrics] in metrics.fetchDeadlinesArmed.subtract(1, ordering: .relaxed) }) {
                wake.fire()
            }
            wake.onFire {
                timer.cancel()
                for (log, wait) in all { log.cancelVisibilityWait(wait) }
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
