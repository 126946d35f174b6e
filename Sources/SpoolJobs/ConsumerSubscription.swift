import SpoolClient
import SpoolFormat

/// A group `Consumer` seen through `JobSubscription`: the same adapter for either transport, since
/// the embedded broker and the network serve the same consumer.
public struct ConsumerSubscription: JobSubscription {
    public let consumer: Consumer

    /// Makes a consumer (with `make`, from options that run `hooks` on rebalances) and wraps it.
    /// The assignment hook also hands the worker what the group stored for each partition.
    public static func subscribe(hooks: SubscriptionHooks, clientId: String, session: GroupSession = GroupSession(),
                                 make: (Consumer.Options) async throws -> Consumer) async throws -> ConsumerSubscription {
        var options = Consumer.Options()
        options.sessionTimeoutMs = Int32(clamping: session.sessionTimeout.milliseconds)
        options.heartbeatIntervalMs = Int(max(1, session.heartbeatInterval.milliseconds))
        options.rebalanceTimeoutMs = Int32(clamping: session.rebalanceTimeout.milliseconds)
        options.pollWaitMs = 100
        options.clientId = clientId
        options.onRevoked = { partitions in await hooks.revoked(partitions) }
        if let lost = hooks.lost { options.onLost = { partitions in await lost(partitions) } }
        // The commits as the join read them: asked for again, a failed request handed the worker
        // no attempt counts or dead-letter marks, and its next commit wrote over them.
        options.onAssignedCommitted = { owned in await hooks.assigned(owned) }
        return ConsumerSubscription(consumer: try await make(options))
    }

    public func poll() async throws -> [ConsumedRecord] { try await consumer.poll() }
    public func pollBatchRecords() async throws -> [BatchRecord] { try await consumer.pollBatchRecords() }
    public func commit(_ offsets: [TopicPartition: CommittedOffset]) async throws { try await consumer.commit(offsets) }
    public func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: CommittedOffset] { try await consumer.committed(partitions) }
    public func pause(_ partitions: [TopicPartition]) { consumer.pause(partitions) }
    public func resume(_ partitions: [TopicPartition]) { consumer.resume(partitions) }
    public func position(_ partition: TopicPartition) -> Int64? { consumer.position(partition) }
    public func heartbeat() async -> Bool? { await consumer.heartbeatNow() }
    public func close() async { await consumer.close() }
}
