/// A dead letter as the console shows it: a job that exhausted its attempts, where it came from
/// and why it failed.
public struct ConsoleDeadLetter: Sendable, Encodable, Equatable {
    public var id: String
    public var key: EncodedBytes?
    public var attempts: Int
    public var error: String
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
    public var value: EncodedBytes?
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
