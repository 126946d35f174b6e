/// What a job power-cut run found. `attemptsRepeated`, `deadLettersDuplicated` and
/// `jobsRunPastMax` are what at-least-once allows after a cut (docs/reliability.md); every other
/// counter in `violations` must be zero.
public struct JobPowerCutOutcome: Sendable {
    public var seed: UInt64
    public var cuts = 0
    /// Cuts that came at their seeded disk operation, with the work under way (the others came
    /// after everything had settled and the workers had stopped).
    public var armedCuts = 0
    /// Jobs whose enqueue was answered before the cut.
    public var acknowledged = 0
    /// Handler runs recorded (before the cut of their life).
    public var runs = 0
    /// Jobs whose handler returned at least once.
    public var succeeded = 0
    /// Jobs in the dead-letter topic at the end.
    public var deadLettered = 0
    /// Acknowledged jobs that neither succeeded nor are in the dead-letter topic once settled.
    public var lost = 0
    /// A job that started before an earlier job of its key (acknowledged earlier) finished, or
    /// after a later one of its key in the same life.
    public var orderViolations = 0
    /// A run past `maxAttempts`, or not one attempt after the previous run in the same life.
    public var attemptsExceeded = 0
    /// A run below the job's previous run's attempt, or below the count the last acknowledged
    /// commit carried for it: a cut may repeat the attempt it interrupted, never go further back.
    public var attemptsLost = 0
    /// A job dead-lettered twice in one life, or more often than its last attempt failed in
    /// distinct lives, or a job that succeeds before its last attempt found dead-lettered.
    public var deadLettersUnexplained = 0
    /// Anything else that must not happen: a broker that does not open, workers that do not stop
    /// or settle, a call that fails before the cut.
    public var unexpected = 0
    /// Allowed: runs at an attempt that had run before, after a cut (its count not committed yet).
    public var attemptsRepeated = 0
    /// Allowed: dead-letter copies beyond the first (a cut between the dead letter and the commit).
    public var deadLettersDuplicated = 0
    /// Jobs whose handler ran more than `maxAttempts` times over all cuts: allowed only through
    /// repeated attempts (the other checks see to that).
    public var jobsRunPastMax = 0
    /// What went wrong, one line each (at most `failuresMax`).
    public var failures: [String] = []

    static let failuresMax = 50

    public init(seed: UInt64) { self.seed = seed }

    public var violations: Int { lost + orderViolations + attemptsExceeded + attemptsLost + deadLettersUnexplained + unexpected }

    /// The summary line of the long run.
    public var summary: String {
        "cuts=\(cuts) armed_cuts=\(armedCuts) lost=\(lost) order_violations=\(orderViolations) attempts_exceeded=\(attemptsExceeded) attempts_lost=\(attemptsLost)"
            + " dlq_unexplained=\(deadLettersUnexplained) unexpected=\(unexpected) dlq_duplicated=\(deadLettersDuplicated)"
            + " attempts_repeated=\(attemptsRepeated) jobs_run_past_max=\(jobsRunPastMax)"
            + " acknowledged=\(acknowledged) succeeded=\(succeeded) dead_lettered=\(deadLettered) runs=\(runs)"
    }

    mutating func fail(_ message: String) {
        if failures.count < Self.failuresMax { failures.append("seed \(seed), cut \(cuts): \(message)") }
    }

    /// Adds the counts and failures of another run.
    public mutating func add(_ other: JobPowerCutOutcome) {
        cuts += other.cuts
        armedCuts += other.armedCuts
        acknowledged += other.acknowledged
        runs += other.runs
        succeeded += other.succeeded
        deadLettered += other.deadLettered
        orderViolations += other.orderViolations
        attemptsExceeded += other.attemptsExceeded
        attemptsLost += other.attemptsLost
        unexpected += other.unexpected
        attemptsRepeated += other.attemptsRepeated
        deadLettersDuplicated += other.deadLettersDuplicated
        jobsRunPastMax += other.jobsRunPastMax
        lost += other.lost
        deadLettersUnexplained += other.deadLettersUnexplained
        failures += other.failures.prefix(max(0, Self.failuresMax - failures.count))
    }
}
