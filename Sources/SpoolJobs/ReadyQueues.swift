import SpoolFormat

/// The jobs ready to run, one FIFO queue per priority level, and which level goes next: a smooth
/// weighted round robin over the levels that have jobs (see `JobPriorities`). With one level it is
/// a plain queue.
///
/// A level's turn is spent only when a job of it starts (`started`): entries that turn out stale
/// when they come out (a revoked partition, a job handed out twice) cost no turn.
struct ReadyQueues<Item> {
    private var queues: [Fifo<Item>]
    private let weights: [Int]
    /// Each level's running credit in the round robin.
    private var credit: [Int]
    /// A topic's level; topics not listed are level `defaultLevel`.
    private let levels: [String: Int]
    private let defaultLevel: Int

    /// One level per weight (`[1]`: a single queue); `levels` gives each topic's level.
    init(weights: [Int] = [1], levels: [String: Int] = [:], defaultLevel: Int = 0) {
        precondition(!weights.isEmpty && weights.allSatisfy { $0 >= 1 } && defaultLevel < weights.count)
        self.weights = weights
        self.levels = levels
        self.defaultLevel = defaultLevel
        queues = Array(repeating: Fifo(), count: weights.count)
        credit = Array(repeating: 0, count: weights.count)
    }

    /// The level of a topic's jobs.
    func level(of topic: String) -> Int { queues.count == 1 ? 0 : levels[topic] ?? defaultLevel }

    /// No level holds an entry (stale ones count).
    var isEmpty: Bool { queues.allSatisfy(\.isEmpty) }

    /// Entries in every level, stale ones included.
    var count: Int { queues.reduce(0) { $0 + $1.count } }

    /// Adds a job at the end of its level (`level(of:)` its topic).
    mutating func append(_ item: Item, level: Int) {
        queues[level].append(item)
    }

    /// The next entry of the level whose turn it is, with its level; nil when all are empty.
    mutating func popFirst() -> (item: Item, level: Int)? {
        // Bound, not mapped: `map`'s closure copied the item out of the optional and the optional
        // was then destroyed, a retain and a release of each reference in it.
        guard queues.count > 1 else {
            guard let item = queues[0].popFirst() else { return nil }
            return (item, 0)
        }
        var chosen: Int?
        for level in queues.indices where !queues[level].isEmpty {
            if chosen.map({ credit[level] + weights[level] > credit[$0] + weights[$0] }) ?? true { chosen = level }
        }
        guard let chosen, let item = queues[chosen].popFirst() else { return nil }
        return (item, chosen)
    }

    /// A job of `level` started: every level with jobs (and this one) earns its weight, and this
    /// one pays the sum.
    mutating func started(_ level: Int) {
        guard queues.count > 1 else { return }
        var total = 0
        for other in queues.indices where other == level || !queues[other].isEmpty {
            credit[other] += weights[other]
            total += weights[other]
        }
        credit[level] -= total
    }
}
