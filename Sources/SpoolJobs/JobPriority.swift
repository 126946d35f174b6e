/// How urgent a job is. Each priority has a topic of its own: `TOPIC` (normal), `TOPIC.high` and
/// `TOPIC.low`, since a partition's log cannot reorder the backlog already in it. A worker made
/// with `priorities:` reads all three and picks among their ready jobs by weight.
public enum JobPriority: String, Sendable, CaseIterable, Codable, Comparable {
    case high
    case normal
    case low

    /// The topic jobs of this priority wait in, for the job topic `topic`.
    public func topic(of topic: String) -> String {
        switch self {
        case .high: topic + ".high"
        case .normal: topic
        case .low: topic + ".low"
        }
    }

    /// 0 for high, 1 for normal, 2 for low: the book's level.
    var level: Int {
        switch self {
        case .high: 0
        case .normal: 1
        case .low: 2
        }
    }

    public static func < (lhs: JobPriority, rhs: JobPriority) -> Bool { lhs.level > rhs.level }
}

/// How a worker shares its slots among priorities when jobs of several are ready: a smooth
/// weighted round robin (as nginx balances upstreams). While high, normal and low jobs are all
/// ready, every `high + normal + low` starts hold exactly `high` high ones, `normal` normal ones and
/// `low` low ones, spread out rather than in runs; levels with nothing ready are passed over and
/// their share goes to the others. So a high job never waits behind a backlog of lower ones for
/// more than a few starts, and no level with a weight starves.
public struct JobPriorities: Sendable, Equatable {
    public let high: Int
    public let normal: Int
    public let low: Int

    /// 6 : 3 : 1, Sidekiq's usual weighting: 60 % of starts to high jobs while all three wait.
    public static let standard = JobPriorities.weighted(high: 6, normal: 3, low: 1)

    /// Weights of at least 1 each (a weight of 0 would starve its level; the program stops with a
    /// message saying so).
    public static func weighted(high: Int, normal: Int, low: Int) -> JobPriorities {
        precondition(high >= 1 && normal >= 1 && low >= 1, "JobPriorities.weighted: every weight must be at least 1, got \(high):\(normal):\(low)")
        return JobPriorities(high: high, normal: normal, low: low)
    }

    private init(high: Int, normal: Int, low: Int) {
        self.high = high
        self.normal = normal
        self.low = low
    }

    /// By level (high first).
    var weights: [Int] { [high, normal, low] }
}
