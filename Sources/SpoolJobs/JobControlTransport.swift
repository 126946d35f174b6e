import SpoolFormat

/// What cancellation, pause and the job-state queries need from a broker beyond `JobTransport`:
/// a topic created with configs (the compacted control topic), a reader that follows a topic,
/// and a group's committed offsets read without joining the group. `EmbeddedTransport` and
/// `NetworkTransport` provide it; a worker over a transport without it runs without the control
/// topic (no cancellation, no pause), and the queries throw `JobControlError.unsupportedTransport`.
public protocol JobControlTransport: JobTransport {
    /// The topic's partition count; nil when there is no such topic (it is not created).
    func partitionCount(of topic: String) async throws -> Int?
    /// A reader of every partition of `topic` from its start, outside any group.
    func follow(topic: String) async throws -> any TopicFollower
    /// What `group` has committed for the topic's partitions (absent where nothing is), read
    /// without joining the group.
    func committedOffsets(group: String, topic: String) async throws -> [TopicPartition: CommittedOffset]
}

/// Reads a topic from its start, then what is appended to it.
public protocol TopicFollower: Sendable {
    /// The next records, or an empty array after waiting up to `maxWaitMs` for some.
    func poll(maxWaitMs: Int32) async throws -> [ConsumedRecord]
    /// The offset the follower reads next in `partition`; nil before its first read there.
    func position(_ partition: TopicPartition) -> Int64?
    /// Each partition's end now (the offset its next record will take).
    func ends() async throws -> [TopicPartition: Int64]
    func close() async
}
