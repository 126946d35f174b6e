import SpoolBroker
import SpoolClient
import SpoolEmbedded
import SpoolFormat
import SpoolJobs
import Synchronization
import Testing

/// A group consumer's joins as a worker meets them: what it learns of a partition's commit when it
/// is assigned (the attempt counts and marks in the commit's metadata must reach it, or its next
/// commit writes over them), and a rebalance asked for while it joins.
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

    @Test func aRejoinAskedForWhileTheJoinReadsItsCommitsIsKept() async throws {
        // The first heartbeat of the new generation comes while the join still reads the commits
        // (slowly, here) and answers REBALANCE_IN_PROGRESS; later ones answer OK. The consumer must
        // still rejoin on its next poll: the group is rebalancing without it.
        let setup = try JobsTestBroker()
        defer { setup.stop() }
        let broker = setup.spool.broker
        try broker.createTopic("t", partitions: 1)
        let events = Mutex<[String]>([])
        let heartbeats = Atomic(0)
        let transport = FreezableConsumerTransport(
            inner: EmbeddedConsumerTransport(broker: broker), frozen: { false }, committedDelay: .milliseconds(400),
            heartbeatAnswer: {
                guard heartbeats.add(1, ordering: .relaxed).newValue == 1 else { return nil }
                events.withLock { $0.append("rebalancing") }
                return KafkaErrorCode.rebalanceInProgress.rawValue
            },
            onJoin: { events.withLock { $0.append("join") } })
        var options = Consumer.Options()
        options.heartbeatIntervalMs = 100
        options.pollWaitMs = 50
        let consumer = try Consumer(transport: transport, group: "g", topics: ["t"], options: options)
        for _ in 0..<3 { _ = try await consumer.poll() }
        await consumer.close()
        let seen = events.withLock { $0 }
        let answered = try #require(seen.firstIndex(of: "rebalancing"), "\(seen)")
        #expect(seen[answered...].contains("join"), "no JoinGroup after the answer: \(seen)")
    }
}

