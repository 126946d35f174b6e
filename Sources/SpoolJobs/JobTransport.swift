import SpoolFormat

/// How a worker's group membership tells it about rebalances.
public struct SubscriptionHooks: Sendable {
    /// Called before partitions are taken away: finish or stop their jobs and commit.
    public var revoked: @Sendable ([TopicPartition]) async -> Void
    /// Called with every partition owned after a join, and what the group stored for each.
    public var assigned: @Sendable ([TopicPartition: CommittedOffset?]) async -> Void
    /// Called when the member finds its partitions already gone (its session ended): stop their
    /// jobs without committing. Nil: `revoked`.
    public var lost: (@Sendable ([TopicPartition]) async -> Void)?

    public init(revoked: @escaping @Sendable ([TopicPartition]) async -> Void, assigned: @escaping @Sendable ([TopicPartition: CommittedOffset?]) async -> Void,
                lost: (@Sendable ([TopicPartition]) async -> Void)? = nil) {
        self.revoked = revoked
        self.assigned = assigned
        self.lost = lost
    }
}

/// One member of a consumer group reading one topic.
public protocol JobSubscription: Sendable {
    /// The next records (an empty array after a short wait when there are none). Rebalances run
    /// the hooks from inside this call.
    func poll() async throws -> [ConsumedRecord]
    /// `poll`'s records read in place (`BatchRecord`), for a worker, which needs few of each
    /// record's fields. By default `poll`'s records, each laid out as a `BatchRecord`.
    func pollBatchRecords() async throws -> [BatchRecord]
    /// Stores offsets durably; fails when the member no longer owns a partition.
    func commit(_ offsets: [TopicPartition: CommittedOffset]) async throws
    /// What the group has stored for these partitions.
    func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: CommittedOffset]
    func pause(_ partitions: [TopicPartition])
    func resume(_ partitions: [TopicPartition])
    /// Where the partition's next records start: past the last record handed out, and past
    /// batches that held no record (nil when unknown).
    func position(_ partition: TopicPartition) -> Int64?
    /// Renews the membership now: true while the member still belongs to the group's current
    /// generation, false when it must rejoin, nil when the group could not be asked.
    func heartbeat() async -> Bool?
    /// Leaves the group (without committing).
    func close() async
}

extension JobSubscription {
    public func pollBatchRecords() async throws -> [BatchRecord] { try await poll().map(BatchRecord.init) }
}

/// A transport could not do what the job runtime asked of it.
public enum JobTransportError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The transport subscribes to one topic at a time; a worker with priorities needs three.
    case oneTopicOnly([String])

    public var description: String {
        switch self {
        case let .oneTopicOnly(topics): "this transport subscribes to one topic at a time, asked for \(topics.joined(separator: ", "))"
        }
    }
}

/// What the job runtime needs from a broker: the same worker code runs over the embedded broker,
/// over `spool serve`, or over a Kafka cluster.
public protocol JobTransport: Sendable {
    /// Creates the topic if it does not exist yet.
    func ensureTopic(_ topic: String, partitions: Int) async throws
    /// Creates the topic with these configs (`cleanup.policy` and the like) if it does not exist yet.
    func ensureTopic(_ topic: String, partitions: Int, configs: [String: String]) async throws
    /// Produces the records and returns, once they are durable, the offset of each (nil where the
    /// broker did not give one: held for later, or dropped as a duplicate whose first copy's
    /// offset it does not know, as while that copy is still being stored; a duplicate it knows is
    /// answered with that first offset).
    func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)]
    /// Joins `group` as a consumer of `topic`.
    func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription
    /// Joins `group` as a consumer of `topic` with these session settings.
    func subscribe(group: String, topic: String, session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription
    /// Joins `group` as a consumer of several topics at once (a job topic and its priority
    /// topics): one membership, one assignment over all of them.
    func subscribe(group: String, topics: [String], session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription
    /// Every record of the topic, from its start to its end at the time of the call.
    func readAll(topic: String) async throws -> [ConsumedRecord]
    /// Closes what the transport opened.
    func close() async
}
