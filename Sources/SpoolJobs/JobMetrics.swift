import Synchronization

/// Durations counted into fixed buckets, as a Prometheus histogram exports them.
///
/// The bounds are fixed and shared by every worker, so that histograms of several workers (and
/// of several releases) add up bucket by bucket: `sum by (le) (rate(..._bucket[5m]))`.
public struct JobHistogram: Codable, Sendable, Equatable {
    /// Upper bound of each bucket, in seconds: 1 ms to 1 h, roughly ×2.5 apart. A duration past
    /// the last bound falls in the `+Inf` bucket only.
    public static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]

    /// Observations per bucket (not cumulative): `bounds.count` buckets and the `+Inf` one last.
    public var counts: [Int]
    /// Sum of the observed durations, in seconds.
    public var sum: Double

    public init() {
        counts = [Int](repeating: 0, count: Self.bounds.count + 1)
        sum = 0
    }

    private enum CodingKeys: String, CodingKey { case counts, sum }

    /// Reports come from other processes: a histogram of other buckets (another version's) or
    /// with negative counts does not decode, rather than be exported wrong.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        counts = try container.decode([Int].self, forKey: .counts)
        sum = try container.decode(Double.self, forKey: .sum)
        guard counts.count == Self.bounds.count + 1, counts.allSatisfy({ $0 >= 0 }), sum >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .counts, in: container, debugDescription: "not a histogram of JobHistogram.bounds")
        }
    }

    /// Observations in all.
    public var count: Int { counts.reduce(0, +) }

    /// Counts `seconds` (a negative duration, from clocks that disagree, counts as 0).
    mutating func observe(_ seconds: Double) {
        let value = max(0, seconds)
        // 20 bounds: a linear scan is as quick as a search and needs no care at the edges.
        let bucket = Self.bounds.firstIndex { value <= $0 } ?? Self.bounds.count
        counts[bucket] += 1
        sum += value
    }
}

/// What one worker has done since it started, as its running reports carry it to the broker's
/// `/metrics` (docs/http-api.md, "Job metrics"). Counters only grow while the worker runs; a new
/// worker (a new instance id) starts from zero, as Prometheus expects of a restarted target.
public struct JobMetrics: Codable, Sendable, Equatable {
    /// Handler runs begun (every attempt).
    public var started = 0
    /// Runs that returned normally.
    public var succeeded = 0
    /// Runs that threw (timed out, lease lost included); a cancelled run is not a failure.
    public var failed = 0
    /// Failed runs given another attempt (in place, or enqueued again through the broker).
    public var retried = 0
    /// Jobs sent to the dead-letter topic (after their last attempt, or undecodable).
    public var deadLettered = 0
    /// Jobs ended by a cancellation: skipped, or their run cancelled.
    public var cancelled = 0
    /// How long handler runs took, whatever their outcome.
    public var handlerSeconds = JobHistogram()
    /// From when a job was due (its record's timestamp, or its `spool-deliver-at`) to the start
    /// of its first run from that record.
    public var enqueueToStartSeconds = JobHistogram()
    /// Gauges when the report was made: jobs this worker holds until a later attempt (retried in
    /// place, `.key` and `.partition` ordering), and jobs it holds until their `spool-deliver-at`
    /// (a broker that does not hold them itself, such as Kafka).
    public var retryingInPlace = 0
    public var scheduledInWorker = 0

    public init() {}
}

/// A worker's cumulative counts, updated once when a run starts and once when it ends: one
/// uncontended lock each time, and no allocation but one after each `snapshot` (the histograms'
/// arrays are changed in place; a snapshot shares them, so the next change copies them once).
///
/// Each runner counts its runs in a shard of its own (`makeShard`), so runners on different
/// cores do not pass one lock's line between them on every job; a snapshot adds the shards up,
/// and a runner that ends folds its shard into the recorder's own counts (`drop`).
final class JobMetricsRecorder: Sendable {
    /// One runner's counts: the same updates as the recorder's.
    final class Shard: Sendable {
        fileprivate let metrics = Mutex(JobMetrics())

        func started(latencySeconds: Double?) { metrics.withLock { $0.started(latencySeconds: latencySeconds) } }

        func ended(after seconds: Double, _ outcome: Outcome?) { metrics.withLock { $0.ended(after: seconds, outcome) } }
    }

    private let shards = Mutex<[ObjectIdentifier: Shard]>([:])

    func makeShard() -> Shard {
        let shard = Shard()
        shards.withLock { $0[ObjectIdentifier(shard)] = shard }
        return shard
    }

    /// The runner is done with the shard: its counts move to the recorder's own, under the lock
    /// snapshots take, so no snapshot counts them twice or misses them.
    func drop(_ shard: Shard) {
        shards.withLock { shards in
            guard shards.removeValue(forKey: ObjectIdentifier(shard)) != nil else { return }
            let counted = shard.metrics.withLock { $0 }
            metrics.withLock { $0.add(counted) }
        }
    }

    /// How a run or a job ended, for the counter it adds to.
    enum Outcome { case succeeded, failed, cancelled }

    private let metrics = Mutex(JobMetrics())

    var snapshot: JobMetrics {
        shards.withLock { shards in
            var total = metrics.withLock { $0 }
            for shard in shards.values { total.add(shard.metrics.withLock { $0 }) }
            return total
        }
    }

    /// One value read under the lock, without a snapshot.
    func read<T>(_ body: (JobMetrics) -> T) -> T { body(snapshot) }

    /// A run starts; `latencySeconds` is the job's wait since it was due (nil: not measured).
    func started(latencySeconds: Double?) { metrics.withLock { $0.started(latencySeconds: latencySeconds) } }

    /// A run ended after `seconds`, with `outcome` (nil: counted apart, as a cancellation is by
    /// `count`, which also counts the jobs cancelled before they start).
    func ended(after seconds: Double, _ outcome: Outcome?) { metrics.withLock { $0.ended(after: seconds, outcome) } }

    /// A job ended that way outside a run's end (a cancellation).
    func count(_ outcome: Outcome) { metrics.withLock { $0.count(outcome) } }

    func retried() { metrics.withLock { $0.retried += 1 } }

    func deadLettered() { metrics.withLock { $0.deadLettered += 1 } }
}

extension JobMetrics {
    mutating func started(latencySeconds: Double?) {
        started += 1
        if let latencySeconds { enqueueToStartSeconds.observe(latencySeconds) }
    }

    mutating func ended(after seconds: Double, _ outcome: JobMetricsRecorder.Outcome?) {
        handlerSeconds.observe(seconds)
        if let outcome { count(outcome) }
    }

    mutating func count(_ outcome: JobMetricsRecorder.Outcome) {
        switch outcome {
        case .succeeded: succeeded += 1
        case .failed: failed += 1
        case .cancelled: cancelled += 1
        }
    }

    /// Adds another's counts (a runner's shard) to these: every field.
    mutating func add(_ other: JobMetrics) {
        started += other.started
        succeeded += other.succeeded
        failed += other.failed
        retried += other.retried
        deadLettered += other.deadLettered
        cancelled += other.cancelled
        handlerSeconds.add(other.handlerSeconds)
        enqueueToStartSeconds.add(other.enqueueToStartSeconds)
        retryingInPlace += other.retryingInPlace
        scheduledInWorker += other.scheduledInWorker
    }
}

extension JobHistogram {
    mutating func add(_ other: JobHistogram) {
        for bucket in counts.indices { counts[bucket] += other.counts[bucket] }
        sum += other.sum
    }
}
