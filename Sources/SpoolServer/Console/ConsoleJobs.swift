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
    /// Sent back to its topic already.
    public var redriven: Bool
    /// The job's payload.
    public var value: EncodedBytes?
    /// Every header of the dead letter.
    public var headers: [EncodedHeader]

    public init(id: String, key: EncodedBytes?, attempts: Int, error: String, originTopic: String, originPartition: Int32?, originOffset: Int64?,
                failedAtMs: Int64?, partition: Int32, offset: Int64, redriven: Bool, value: EncodedBytes?, headers: [EncodedHeader]) {
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
    }
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
    /// the ids sent.
    func redrive(_ topic: String, ids: Set<String>?) async throws -> [String]
}
