/// A dead letter as the console shows it: a job that exhausted its attempts, where it came from
/// and why it failed.
public struct ConsoleDeadLetter: Sendable, Encodable, Equatable {
    /// The job's id (`spool-job-id`), or `PARTITION:OFFSET` of the dead letter without one.
    public var id: String
    /// The job's key (its ordering group).
    public var key: EncodedBytes?
    /// The attempt that failed last.
    public var attempts: Int
    /// What the last attempt failed with (`spool-error`).
    public var error: String
    /// Where the job was when it failed (`spool-origin-*`).
    public var originTopic: String
    public var originPartition: Int32?
    public var originOffset: Int64?
    /// Milliseconds since the Unix epoch.
    public var failedAtMs: Int64?
    /// Where the dead letter itself is, in the dead-letter topic.
    public var partition: Int32
    public var offset: Int64
    /// Sent back to its topic already (or, in a hold, replayed).
    public var redriven: Bool
    /// The hold it belongs to (`ConsoleKeyHold.id`): a held key's dead job, or a job parked behind it.
    public var hold: String?
    /// For a parked job: the id of the dead job it waits behind.
    public var parkedBehind: String?
    /// The job's payload.
    public var value: EncodedBytes?
    /// Every header of the dead letter.
    public var headers: [EncodedHeader]

    public init(id: String, key: EncodedBytes?, attempts: Int, error: String, originTopic: String, originPartition: Int32?, originOffset: Int64?,
                failedAtMs: Int64?, partition: Int32, offset: Int64, redriven: Bool, value: EncodedBytes?, headers: [EncodedHeader],
                hold: String? = nil, parkedBehind: String? = nil) {
        self.id = id
        self.key = key
        self.attempts = attempts
        self.error = error
        self.originTopic = originTopic
        self.originPartition = originPartition
        self.originOffset = originOffset
        self.failedAtMs = failedAtMs
        self.partition = partition
        self.offset = offset
        self.redriven = redriven
        self.value = value
        self.headers = headers
        self.hold = hold
        self.parkedBehind = parkedBehind
    }
}

/// Where a job is in its life (SpoolJobs' `JobState`, named again here so that the server does not
/// link the job runtime).
public enum ConsoleJobState: String, Sendable, Encodable, CaseIterable {
    case queued, scheduled, running, retrying, dead, cancelled
}

/// One job as the console lists it (SpoolJobs' `JobStatus`).
public struct ConsoleJob: Sendable, Encodable, Equatable {
    public var state: ConsoleJobState
    public var id: String
    public var key: String?
    /// Where its record is in the job topic; nil while the broker holds it.
    public var partition: Int32?
    public var offset: Int64?
    /// Runs made so far (0 for a job that has not run).
    public var attempts: Int
    /// When it runs next, when that is known (milliseconds since the Unix epoch).
    public var nextRunAtMs: Int64?
    /// Why its last run failed, when that is stored.
    public var lastError: String?
    /// When it was cancelled (milliseconds since the Unix epoch).
    public var cancelledAtMs: Int64?

    public init(state: ConsoleJobState, id: String, key: String?, partition: Int32?, offset: Int64?, attempts: Int, nextRunAtMs: Int64?,
                lastError: String?, cancelledAtMs: Int64?) {
        self.state = state
        self.id = id
        self.key = key
        self.partition = partition
        self.offset = offset
        self.attempts = attempts
        self.nextRunAtMs = nextRunAtMs
        self.lastError = lastError
        self.cancelledAtMs = cancelledAtMs
    }
}

/// Input the job runtime refuses, and why: the API answers it with 400.
public struct ConsoleRefusal: Error, Sendable, Equatable {
    public var message: String

    public init(_ message: String) { self.message = message }
}

/// The job runtime as the console sees it (its Jobs pages and `/api/v1/jobs`, `/dead-letters`):
/// `spool serve` implements it with SpoolJobs' `JobQueue` over the broker it serves (in process),
/// so the console lists and redrives exactly as `spool dlq list` and `spool dlq redrive` do. What
/// else the job runtime can tell about its jobs belongs here too, so that the server never links
/// the job runtime itself.
public protocol ConsoleJobs: Sendable {
    /// The dead letters of a job topic (`TOPIC` or `TOPIC.dlq`), oldest first, redriven ones included.
    func deadLetters(of topic: String) async throws -> [ConsoleDeadLetter]
    /// Sends back the ones with these ids, or every one not sent back yet (`ids: nil`); returns
    /// the ids sent. A held key's dead letter is not sent alone: its hold is replayed in order.
    func redrive(_ topic: String, ids: Set<String>?) async throws -> [String]
    /// The keys held in a job topic (every group's), oldest first.
    func holds(of topic: String) async throws -> [ConsoleKeyHold]
    /// The jobs of `topic` in `state`, oldest first; `queued` needs `group` (what is queued
    /// depends on its committed offsets), `retrying` with `group` adds the jobs it retries in place,
    /// `running` with `group` keeps to its workers, and `dead` with `group` adds the jobs it
    /// dead-lettered above its commit point whose dead letter is gone from the dead-letter topic.
    func jobs(in topic: String, state: ConsoleJobState, group: String?) async throws -> [ConsoleJob]
    /// How many jobs of `topic` each listing of `jobs(in:state:group:)` has, without a group and
    /// for each of `groups` (SpoolJobs' `JobQueue.jobCounts(in:groups:)`), from one read of each
    /// topic those listings read.
    func counts(of topic: String, groups: [String]) async throws -> ConsoleJobCounts
    /// The topics a job of job topic `topic` may wait in: the topic and its priority topics
    /// (`TOPIC.high`, `TOPIC.low`), whether they exist or not. A group reading any of them reads the job topic.
    func jobTopics(of topic: String) -> [String]
    /// The job with this id in `topic` (SpoolJobs' `JobQueue.job(id:in:groups:)`): what each
    /// group-less listing and each of `groups`' listings of `jobs(in:state:group:)` say of it, and
    /// its records in the topic, from one read of each topic those listings read.
    func job(_ id: String, in topic: String, groups: [String]) async throws -> ConsoleJobLookup
    /// The group a listing of `state` uses, from the one asked for (an empty name is none), or why
    /// that group (or its absence) is refused: the job runtime's rule (SpoolJobs'
    /// `JobState.listingGroup`), so that the API refuses what `spool jobs list` refuses, in its words.
    func listingGroup(for state: ConsoleJobState, _ group: String?) throws(ConsoleRefusal) -> String?
    /// The live workers of job topic `topic` with their counts, as their last running reports
    /// (at most about a second old) tell them; none when no worker reports on the topic.
    func workers(of topic: String) async throws -> [ConsoleWorker]
}

extension ConsoleJobs {
    /// No worker reports: a job runtime that does not follow them.
    public func workers(of topic: String) async throws -> [ConsoleWorker] { [] }
}

/// Durations counted into buckets (SpoolJobs' `JobHistogram`).
public struct ConsoleHistogram: Sendable, Equatable {
    /// Upper bound of each bucket, in seconds.
    public var bounds: [Double]
    /// Observations per bucket, not cumulative: one per bound and the `+Inf` one last.
    public var counts: [Int]
    /// Sum of the observations, in seconds.
    public var sum: Double

    public init(bounds: [Double], counts: [Int], sum: Double) {
        // A histogram from a worker that counts into other buckets would be exported wrong.
        precondition(counts.count == bounds.count + 1, "a histogram needs one count per bound and one for +Inf")
        self.bounds = bounds
        self.counts = counts
        self.sum = sum
    }
}

/// One live worker of a job topic and what it has done since it started (SpoolJobs' `WorkerReport`).
public struct ConsoleWorker: Sendable, Equatable {
    public var topic: String
    public var group: String
    /// The worker instance.
    public var worker: String
    public var started: Int
    public var succeeded: Int
    public var failed: Int
    public var retried: Int
    public var deadLettered: Int
    public var cancelled: Int
    public var handlerSeconds: ConsoleHistogram
    public var enqueueToStartSeconds: ConsoleHistogram
    /// Gauges: jobs running, retried in place, and held by the worker until their time.
    public var running: Int
    public var retrying: Int
    public var scheduled: Int

    public init(topic: String, group: String, worker: String, started: Int, succeeded: Int, failed: Int, retried: Int, deadLettered: Int,
                cancelled: Int, handlerSeconds: ConsoleHistogram, enqueueToStartSeconds: ConsoleHistogram, running: Int, retrying: Int, scheduled: Int) {
        self.topic = topic
        self.group = group
        self.worker = worker
        self.started = started
        self.succeeded = succeeded
        self.failed = failed
        self.retried = retried
        self.deadLettered = deadLettered
        self.cancelled = cancelled
        self.handlerSeconds = handlerSeconds
        self.enqueueToStartSeconds = enqueueToStartSeconds
        self.running = running
        self.retrying = retrying
        self.scheduled = scheduled
    }
}
