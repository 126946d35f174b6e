import SpoolBroker
import SpoolClient
import SpoolEmbedded
import SpoolFormat
import SpoolJobs
import Synchronization
import Testing

/// What a worker learns of a partition's commit when it is assigned: the attempt counts and marks
/// in the commit's metadata must reach it, or its next commit writes over them.
@Suite struct AssignmentCommitsTests {
    @Test func theAssignmentHookGetsTheCommitTheJoinReadWithoutAskingAgain() async throws {
        let setup = try JobsTestBroker()
        defer { setup.stop() }
        let broker = setup.spool.broker
        try broker.createTopic("t", partitions: 1)
        let partition = TopicPartition("t", 0)
        let stored = CommittedOffset(offset: 0, metadata: "spool-attempts:0=3")
        try await broker.storeOffsets(group: "g", [partition: stored])
        // The join reads the commit; any OffsetFetch after it fails (a coordinator moving, say).
        let asked = Atomic(0)
        let transport = FreezableConsumerTransport(inner: EmbeddedConsumerTransport(broker: broker), frozen: { false },
                                                   refusesCommitted: { asked.add(1, ordering: .relaxed).newValue > 1 })
        let seen = Mutex<[TopicPartition: CommittedOffset?]?>(nil)
        let subscription = try await ConsumerSubscription.subscribe(
            hooks: SubscriptionHooks(revoked: { _ in }, assigned: { owned in seen.withLock { $0 = owned } }), clientId: "test"
        ) { options in try Consumer(transport: transport, group: "g", topics: ["t"], options: options) }
        _ = try await subscription.poll()
        let owned = try #require(seen.withLock { $0 })
        #expect(owned.keys.sorted() == [partition])
        #expect(owned[partition] == .some(stored))
        await subscription.close()
    }
}
