import SpoolFormat

/// How a worker keeps its place in its consumer group: Kafka's session timeout, heartbeat interval
/// and rebalance timeout.
///
/// The session is the lease on every job the worker runs. Heartbeats renew it in the background
/// (on `HeartbeatExecutor`, never behind a busy handler), so a handler may run for hours; a worker
/// that dies stops renewing it, and once `sessionTimeout` passes without a heartbeat the group
/// rebalances and its partitions — its keys and their unfinished jobs — go to the other workers.
/// A short session hands a dead worker's keys on sooner, and costs a heartbeat per interval.
public struct GroupSession: Sendable, Equatable {
    /// How long the group waits for a silent worker before giving its partitions to others. The
    /// broker bounds it (`group.min.session.timeout.ms`, 6 s on Spool and Kafka, up to 30 min).
    public var sessionTimeout: Duration
    /// How often the worker heartbeats; a third of the session or less, so two lost heartbeats do
    /// not end it.
    public var heartbeatInterval: Duration
    /// How long a rebalance waits for members to rejoin. A worker whose partitions are taken away
    /// waits this long, less a margin, for their running jobs before it cancels them (they run
    /// again on the new owner).
    public var rebalanceTimeout: Duration

    public init(sessionTimeout: Duration = .seconds(10), heartbeatInterval: Duration? = nil, rebalanceTimeout: Duration = .seconds(30)) {
        self.sessionTimeout = sessionTimeout
        self.heartbeatInterval = heartbeatInterval ?? min(.seconds(1), sessionTimeout / 3)
        self.rebalanceTimeout = rebalanceTimeout
    }

    /// How long a worker whose partitions are being taken away waits for their running jobs:
    /// most of the rebalance timeout, leaving time to commit and rejoin before the group drops it.
    var revokeWait: Duration { max(.zero, min(rebalanceTimeout - .seconds(5), rebalanceTimeout * 0.8)) }
}

extension JobTransport {
    /// Transports that do not take topic configs create the topic with the broker's defaults.
    public func ensureTopic(_ topic: String, partitions: Int, configs: [String: String]) async throws {
        try await ensureTopic(topic, partitions: partitions)
    }

    /// Transports that subscribe to one topic at a time take a list of one; more is refused.
    public func subscribe(group: String, topics: [String], session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        guard topics.count == 1, let topic = topics.first else { throw JobTransportError.oneTopicOnly(topics) }
        return try await subscribe(group: group, topic: topic, session: session, hooks: hooks)
    }

    /// Transports that do not take session settings join with their defaults.
    public func subscribe(group: String, topic: String, session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await subscribe(group: group, topic: topic, hooks: hooks)
    }
}

extension JobSubscription {
    /// Subscriptions without a heartbeat of their own report the membership as held.
    public func heartbeat() async -> Bool? { true }
    /// Subscriptions that do not say where they read: the commit point follows the records alone.
    public func position(_ partition: TopicPartition) -> Int64? { nil }
}
