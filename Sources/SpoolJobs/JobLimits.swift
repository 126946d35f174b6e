/// Limits a worker puts on the jobs of each key, beside its own `concurrency`.
///
/// ```swift
/// // At most 2 jobs of one customer at a time, and 5 a second with bursts of 10.
/// let worker = Worker<Webhook>(queue: queue, group: "webhooks", ordering: .none,
///                              limits: .perKey(concurrency: 2, ratePerSecond: 5, burst: 10)) { job in … }
/// ```
///
/// A key's jobs all land in one partition, and a partition has one owner in the group at a time
/// (its runs end before it moves), so the owner enforces a key's limits on its own and they hold
/// across every worker of the group. A job over a limit waits in the worker, without holding back
/// other keys, until a job of its key finishes or its key's rate allows it. Jobs without a key are
/// not limited. See docs/jobs.md, "Per-key limits", for what a rebalance does to a rate.
public struct JobLimits: Sendable, Equatable {
    /// Jobs of one key running at once, at most; nil: no limit of its own (under `.key` and
    /// `.partition` ordering a key runs one job at a time anyway).
    public let keyConcurrency: Int?
    /// Jobs of one key started per second, at most, on average; nil: no rate limit.
    public let keyRatePerSecond: Double?
    /// Jobs of one key that may start at once after the key was idle: the rate's bucket size.
    public let keyBurst: Int

    /// No limits beyond the worker's `concurrency` and its ordering.
    public static let none = JobLimits(keyConcurrency: nil, keyRatePerSecond: nil, keyBurst: 1)

    /// Limits per key: at most `concurrency` jobs of a key running at once (nil: none), and at most
    /// `ratePerSecond` started per second (nil: none) with bursts of up to `burst` after an idle
    /// spell. A rate of 0.5 is one job every two seconds. Values that make no sense (a concurrency
    /// or burst below 1, a rate that is not a positive number, a burst without a rate) stop the
    /// program with a message saying which.
    public static func perKey(concurrency: Int? = nil, ratePerSecond: Double? = nil, burst: Int? = nil) -> JobLimits {
        if let concurrency { precondition(concurrency >= 1, "JobLimits.perKey: concurrency must be at least 1, got \(concurrency)") }
        if let ratePerSecond {
            precondition(ratePerSecond > 0 && ratePerSecond.isFinite, "JobLimits.perKey: ratePerSecond must be a positive number, got \(ratePerSecond)")
        }
        if let burst {
            precondition(ratePerSecond != nil, "JobLimits.perKey: burst is the size of a rate's bucket and needs ratePerSecond")
            precondition(burst >= 1, "JobLimits.perKey: burst must be at least 1, got \(burst)")
        }
        return JobLimits(keyConcurrency: concurrency, keyRatePerSecond: ratePerSecond, keyBurst: burst ?? 1)
    }

    /// Whether any per-key limit is set.
    public var limitsKeys: Bool { keyConcurrency != nil || keyRatePerSecond != nil }

    /// Why these limits cannot go with `ordering`, or nil when they can: more than one job of a key
    /// at once needs `.none`, the only ordering that runs a key's jobs side by side.
    public func conflict(with ordering: JobOrdering) -> String? {
        guard let keyConcurrency, keyConcurrency > 1, ordering != .none else { return nil }
        return "a per-key concurrency of \(keyConcurrency) needs ordering .none: under .\(ordering) a key's jobs run one at a time"
    }
}
