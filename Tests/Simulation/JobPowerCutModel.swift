import SpoolFormat
import SpoolJobs
import Synchronization

/// What the job power-cut workload enqueued, what the broker acknowledged before each cut, and
/// every run of a handler, checked as the runs happen. Worker threads call it from handlers and
/// from the recording transport, so its state is under one lock.
///
/// A "life" is one broker on one disk, from its opening to the next cut; handlers of an older life
/// that go on in the dead world after the cut are not recorded (they check their own disk).
final class JobPowerCutModel: Sendable {
    struct JobState {
        var key: String
        /// Attempts (by number) that throw; `maxAttempts` or more: the job always fails.
        var failures: Int
        var acknowledged = false
        /// Every run: its life and attempt.
        var runs: [(life: Int, attempt: Int)] = []
        var succeeded = false
        /// Lives in which its last attempt failed (each may leave one dead letter).
        var finalFailureLives: Set<Int> = []
        /// Dead letters of it acknowledged, by life.
        var deadLettersAcknowledged: [Int: Int] = [:]
        /// The life in which a run started and the job has not finished since (succeeded, or its
        /// dead letter acknowledged).
        var unfinishedLife: Int?
    }

    struct State {
        var life = 0
        var jobs: [JobState] = []
        /// Acknowledged jobs of each key, in the order they were acknowledged.
        var acknowledgedByKey: [String: [Int]] = [:]
        /// The last acknowledged commit of each partition: offset and the attempt counts it carried.
        var commits: [Int32: (offset: Int64, attempts: [Int64: Int])] = [:]
        var outcome: JobPowerCutOutcome
        /// Jobs already counted as lost, or as dead letters nothing explains (each counted once).
        var lost: Set<Int> = []
        var unexplained: Set<Int> = []
    }

    let maxAttempts: Int
    let topic: String
    private let state: Mutex<State>

    init(seed: UInt64, maxAttempts: Int, topic: String) {
        self.maxAttempts = maxAttempts
        self.topic = topic
        state = Mutex(State(outcome: JobPowerCutOutcome(seed: seed)))
    }

    var outcome: JobPowerCutOutcome { state.withLock { $0.outcome } }

    func withOutcome(_ body: (inout JobPowerCutOutcome) -> Void) { state.withLock { body(&$0.outcome) } }

    /// A new broker opened on the crash image.
    func startLife() { state.withLock { $0.life += 1 } }

    var life: Int { state.withLock { $0.life } }

    // MARK: Enqueueing

    /// Registers a job about to be enqueued; returns its sequence number (its id is `j<sequence>`).
    func register(key: String, failures: Int) -> Int {
        state.withLock { state in
            state.jobs.append(JobState(key: key, failures: failures))
            return state.jobs.count - 1
        }
    }

    /// The enqueue of `sequence` was answered before the power went.
    func acknowledge(_ sequence: Int) {
        state.withLock { state in
            state.jobs[sequence].acknowledged = true
            state.acknowledgedByKey[state.jobs[sequence].key, default: []].append(sequence)
            state.outcome.acknowledged += 1
        }
    }

    static func jobId(_ sequence: Int) -> String { "j\(sequence)" }

    static func sequence(ofJobId id: String?) -> Int? {
        guard let id, id.hasPrefix("j") else { return nil }
        return Int(id.dropFirst())
    }

    func failures(of sequence: Int) -> Int { state.withLock { $0.jobs[sequence].failures } }

    // MARK: Runs

    /// A handler of `life` starts `sequence` as `attempt`: checks order and attempt counts.
    func begin(_ sequence: Int, attempt: Int, life: Int, partition: Int32, offset: Int64) {
        state.withLock { state in
            guard state.jobs.indices.contains(sequence) else {
                state.outcome.unexpected += 1
                state.outcome.fail("a job that was never enqueued ran: j\(sequence)")
                return
            }
            checkOrder(&state, sequence, life: life)
            checkAttempt(&state, sequence, attempt: attempt, life: life, partition: partition, offset: offset)
            state.jobs[sequence].runs.append((life, attempt))
            state.jobs[sequence].unfinishedLife = life
            state.outcome.runs += 1
        }
    }

    /// A handler of `life` returned (`succeeded`) or threw as `attempt`.
    func end(_ sequence: Int, attempt: Int, life: Int, succeeded: Bool) {
        state.withLock { state in
            if succeeded {
                state.jobs[sequence].succeeded = true
                state.jobs[sequence].unfinishedLife = nil
            } else if attempt >= maxAttempts {
                state.jobs[sequence].finalFailureLives.insert(life)
            }
        }
    }

    /// Every earlier acknowledged job of the key has finished (succeeded or its dead letter
    /// acknowledged), none of them is unfinished in this life, and no later job of the key started
    /// in this life before it.
    private func checkOrder(_ state: inout State, _ sequence: Int, life: Int) {
        let job = state.jobs[sequence]
        for earlier in state.acknowledgedByKey[job.key] ?? [] where earlier < sequence {
            let before = state.jobs[earlier]
            let finished = before.succeeded || !before.deadLettersAcknowledged.isEmpty
            if !finished || before.unfinishedLife == life {
                state.outcome.orderViolations += 1
                state.outcome.fail("j\(sequence) (key \(job.key)) started in life \(life) before j\(earlier) finished")
            }
        }
        for later in state.jobs.indices where later > sequence && state.jobs[later].key == job.key {
            if state.jobs[later].runs.contains(where: { $0.life == life }) {
                state.outcome.orderViolations += 1
                state.outcome.fail("j\(sequence) (key \(job.key)) started in life \(life) after the later j\(later)")
            }
        }
    }

    /// No attempt past `maxAttempts`; within one life each run one attempt after the last; unless
    /// the job succeeded before (a later commit, durable but not acknowledged, may have dropped its
    /// count), never below the previous run's attempt, nor below the count the last acknowledged
    /// commit carried for it. An attempt run again after a cut (the run the cut interrupted: its
    /// count is committed only after it fails) is counted, not a violation.
    private func checkAttempt(_ state: inout State, _ sequence: Int, attempt: Int, life: Int, partition: Int32, offset: Int64) {
        let job = state.jobs[sequence]
        if attempt > maxAttempts || attempt < 1 {
            state.outcome.attemptsExceeded += 1
            state.outcome.fail("j\(sequence) ran as attempt \(attempt) of \(maxAttempts)")
        }
        if let last = job.runs.last(where: { $0.life == life }), attempt != last.attempt + 1 {
            state.outcome.attemptsExceeded += 1
            state.outcome.fail("j\(sequence) ran as attempt \(attempt) after attempt \(last.attempt) in the same life \(life)")
        }
        // A job that succeeded may run again from its first attempt: it was finished above the
        // commit point, and at least once redelivers it as it was enqueued.
        if let last = job.runs.last, attempt < last.attempt, !job.succeeded {
            state.outcome.attemptsLost += 1
            state.outcome.fail("j\(sequence) ran as attempt \(attempt) after attempt \(last.attempt) in life \(last.life)")
        }
        if let commit = state.commits[partition], commit.offset <= offset,
           let carried = commit.attempts[offset], attempt < carried, !job.succeeded {
            state.outcome.attemptsLost += 1
            state.outcome.fail("j\(sequence) ran as attempt \(attempt) in life \(life) after a commit carried \(carried) for it;"
                + " runs \(job.runs), succeeded \(job.succeeded), dead letters \(job.deadLettersAcknowledged)")
        }
        if job.runs.contains(where: { $0.attempt >= attempt }) { state.outcome.attemptsRepeated += 1 }
    }

    // MARK: Acknowledgements seen by the transport

    /// A send of `life` returned: dead letters are counted by job.
    func sent(_ topic: String, _ records: [OutgoingRecord], life: Int) {
        guard topic == JobQueue.deadLetterTopic(of: self.topic) else { return }
        state.withLock { state in
            for record in records {
                let id = record.headers.first { $0.key == SpoolHeaders.jobId }?.value.map { String(decoding: $0, as: UTF8.self) }
                guard let sequence = Self.sequence(ofJobId: id), state.jobs.indices.contains(sequence) else { continue }
                state.jobs[sequence].deadLettersAcknowledged[life, default: 0] += 1
                if state.jobs[sequence].unfinishedLife == life { state.jobs[sequence].unfinishedLife = nil }
                if state.jobs[sequence].deadLettersAcknowledged[life] == 2 {
                    state.outcome.deadLettersUnexplained += 1
                    state.outcome.fail("j\(sequence) was dead-lettered twice in life \(life)")
                }
            }
        }
    }

    func committed(_ offsets: [TopicPartition: CommittedOffset]) {
        state.withLock { state in
            for (partition, stored) in offsets where partition.topic == topic {
                state.commits[partition.partition] = (stored.offset, Self.attemptCounts(stored.metadata))
            }
        }
    }

    /// The counts in a commit's metadata ("spool-attempts:OFFSET=ATTEMPT,…", docs/jobs.md).
    static func attemptCounts(_ metadata: String) -> [Int64: Int] {
        let prefix = "spool-attempts:"
        guard metadata.hasPrefix(prefix) else { return [:] }
        var counts: [Int64: Int] = [:]
        for item in metadata.dropFirst(prefix.count).split(separator: ",") {
            let parts = item.split(separator: "=")
            if parts.count == 2, let offset = Int64(parts[0]), let attempt = Int(parts[1]) { counts[offset] = attempt }
        }
        return counts
    }

    // MARK: Checks after a restart

    /// After the new broker's workers settled everything: every acknowledged job succeeded or is
    /// in the dead-letter topic (`deadLetters`: copies by sequence), and no job is there more
    /// often than its last attempt failed in distinct lives.
    func checkSettled(deadLetters: [Int: Int]) {
        state.withLock { state in
            for sequence in state.jobs.indices {
                let job = state.jobs[sequence]
                let copies = deadLetters[sequence] ?? 0
                if job.acknowledged && !job.succeeded && copies == 0 && state.lost.insert(sequence).inserted {
                    state.outcome.lost += 1
                    state.outcome.fail("j\(sequence) (key \(job.key)) was acknowledged and neither succeeded nor is a dead letter")
                }
                if copies > job.finalFailureLives.count && state.unexplained.insert(sequence).inserted {
                    state.outcome.deadLettersUnexplained += 1
                    state.outcome.fail("j\(sequence) is a dead letter \(copies) times, its last attempt failed in \(job.finalFailureLives.count) lives")
                }
                if copies > 0 && job.failures < maxAttempts && state.unexplained.insert(sequence).inserted {
                    state.outcome.deadLettersUnexplained += 1
                    state.outcome.fail("j\(sequence) fails \(job.failures) times and is a dead letter")
                }
            }
        }
    }

    /// At the end of the run: the totals that are allowed and reported.
    func finish(deadLetters: [Int: Int]) {
        state.withLock { state in
            state.outcome.deadLettered = deadLetters.count
            state.outcome.deadLettersDuplicated = deadLetters.values.reduce(0) { $0 + max(0, $1 - 1) }
            state.outcome.succeeded = state.jobs.filter(\.succeeded).count
            state.outcome.jobsRunPastMax = state.jobs.filter { $0.runs.count > maxAttempts }.count
        }
    }
}
