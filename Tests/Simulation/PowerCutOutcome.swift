/// What a power-cut run found. Every counter but `redelivered` must be zero.
public struct PowerCutOutcome: Sendable {
    public var seed: UInt64
    public var cuts = 0
    /// Acknowledged records missing after a restart.
    public var lost = 0
    /// Records stored more than once (a delayed record delivered again is `redelivered` instead),
    /// or stored although their idempotency key had been accepted before.
    public var duplicated = 0
    /// Committed offsets behind the last acknowledged commit, or past the log end.
    public var committedBackwards = 0
    /// Batches served whose checksum or framing is wrong.
    public var corruptServed = 0
    /// Keys whose records a partition serves out of the order they were produced in.
    public var outOfOrder = 0
    /// Anything else that must not happen: a broker that fails to open, a call that fails before
    /// the cut, a record served in a partition it was never produced to, recovery that does not
    /// report what it cut.
    public var unexpected = 0
    /// Delayed records delivered more than once (a crash between delivery and its marker):
    /// allowed, at least once.
    public var redelivered = 0
    /// Records acknowledged over the run.
    public var acknowledged = 0
    /// Checks after which the committed-offsets log started later than at the check before: its
    /// compaction deleted segments (the scenario's small `offsetsCompactionBytes` is there to make
    /// that happen; the tests require it).
    public var offsetsLogCompactions = 0
    /// What went wrong, one line each (at most `failuresMax`).
    public var failures: [String] = []

    static let failuresMax = 50

    public init(seed: UInt64) { self.seed = seed }

    public var violations: Int { lost + duplicated + committedBackwards + corruptServed + outOfOrder + unexpected }

    /// The summary line of the long run.
    public var summary: String {
        "cuts=\(cuts) lost=\(lost) duplicated=\(duplicated) committed_backwards=\(committedBackwards) corrupt_served=\(corruptServed) redelivered=\(redelivered)"
            + " out_of_order=\(outOfOrder) unexpected=\(unexpected) acknowledged=\(acknowledged) offsets_log_compactions=\(offsetsLogCompactions)"
    }

    mutating func fail(_ message: String) {
        if failures.count < Self.failuresMax { failures.append("seed \(seed), cut \(cuts): \(message)") }
    }

    /// Adds the counts and failures of another run.
    public mutating func add(_ other: PowerCutOutcome) {
        cuts += other.cuts
        lost += other.lost
        duplicated += other.duplicated
        committedBackwards += other.committedBackwards
        corruptServed += other.corruptServed
        outOfOrder += other.outOfOrder
        unexpected += other.unexpected
        redelivered += other.redelivered
        acknowledged += other.acknowledged
        offsetsLogCompactions += other.offsetsLogCompactions
        failures += other.failures.prefix(max(0, Self.failuresMax - failures.count))
    }
}
