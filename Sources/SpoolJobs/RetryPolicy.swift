/// How often a failing job runs and how long it waits between runs.
public struct RetryPolicy: Sendable, Equatable {
    /// Runs in all, the first included; the run that fails at this number dead-letters the job.
    public var maxAttempts: Int
    /// The wait after the first failure; each later one doubles it, up to `max`.
    public var base: Duration
    public var max: Duration
    /// Wait a random time between half the delay and the full delay, so jobs that failed together
    /// do not all come back at once.
    public var jitter: Bool

    /// Exponential backoff: base, 2·base, 4·base, … capped at `max`.
    public static func exponential(maxAttempts: Int = 5, base: Duration = .seconds(1), max: Duration = .minutes(10), jitter: Bool = true) -> RetryPolicy {
        RetryPolicy(maxAttempts: Swift.max(1, maxAttempts), base: base, max: max, jitter: jitter)
    }

    /// One run; a failure dead-letters the job at once.
    public static let never = RetryPolicy(maxAttempts: 1, base: .zero, max: .zero, jitter: false)

    /// The wait before attempt `attempt + 1`, after attempt `attempt` failed.
    public func delay(afterAttempt attempt: Int) -> Duration {
        let doublings = Swift.min(Swift.max(attempt - 1, 0), 40)
        let baseMs = Double(base.components.seconds) * 1000 + Double(base.components.attoseconds) / 1e15
        let maxMs = Double(max.components.seconds) * 1000 + Double(max.components.attoseconds) / 1e15
        var ms = Swift.min(baseMs * Double(1 << doublings), maxMs)
        if jitter { ms = ms / 2 + Double.random(in: 0...(ms / 2)) }
        return .milliseconds(Int64(ms.rounded()))
    }
}

extension Duration {
    public static func minutes(_ minutes: Int) -> Duration { .seconds(minutes * 60) }

    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
