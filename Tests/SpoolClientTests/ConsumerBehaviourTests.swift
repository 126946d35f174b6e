import Foundation
@testable import SpoolBroker
import SpoolClient
import SpoolEmbedded
import SpoolFormat
import Synchronization
import Testing

/// One behaviour for the one consumer, whichever transport carries it: each test runs over the
/// Kafka protocol (to a server in this process) and over the embedded broker's transport.
@Suite("Consumer behaviour on both transports", .serialized)
struct ConsumerBehaviourTests {
    enum Kind: String, CaseIterable, Sendable { case network, embedded }

    /// A consumer factory over a fresh broker, for one test.
    final class Setup: Sendable {
        let server: ClientTestServer
        let kind: Kind
        let spool: EmbeddedBroker

        init(_ kind: Kind, _ name: String = #function) throws {
            server = try ClientTestServer(name + kind.rawValue)
            self.kind = kind
            spool = EmbeddedBroker(broker: server.broker)
        }

        var broker: Broker { server.broker }

        func consumer(group: String?, topics: [String], options: Consumer.Options = Setup.options, metadataMaxAgeMs: Int = 300_000) throws -> Consumer {
            switch kind {
            case .network: try Consumer(client: try server.client(metadataMaxAgeMs: metadataMaxAgeMs), group: group, topics: topics, options: options)
            case .embedded: try Consumer(transport: EmbeddedConsumerTransport(broker: broker), group: group, topics: topics, options: options)
            }
        }

        func send(_ topic: String, _ values: [String], partition: Int32 = 0) async throws {
            _ = try await spool.send(topic: topic, records: values.map { OutgoingRecord(key: nil, value: Array($0.utf8), partition: partition) })
        }

        static var options: Consumer.Options {
            var options = Consumer.Options()
            options.pollWaitMs = 100
            options.heartbeatIntervalMs = 100
            return options
        }

        /// A member of group "workers" that read `values` from topic "jobs" (one partition).
        func workerThatRead(_ values: [String]) async throws -> Consumer {
            try broker.createTopic("jobs", partitions: 1)
            try await send("jobs", values)
            let consumer = try consumer(group: "workers", topics: ["jobs"])
            #expect(try await ConsumerBehaviourTests.receive(consumer, count: values.count) == values)
            return consumer
        }

        func stop() { server.stop() }
    }

    /// Polls until `count` records came or 10 s passed, marking each consumed.
    static func receive(_ consumer: Consumer, count: Int) async throws -> [String] {
        var values: [String] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while values.count < count && ContinuousClock.now < deadline {
            for record in try await consumer.poll() {
                consumer.markConsumed(record)
                values.append(record.valueString ?? "")
            }
        }
        return values
    }

    @Test(arguments: Kind.allCases)
    func withoutCommittedOffsetsTheResetPolicyPicksTheStart(kind: Kind) async throws {
        let setup = try Setup(kind)
        defer { setup.stop() }
        try setup.broker.createTopic("events", partitions: 1)
        try await setup.send("events", ["old-1", "old-2"])
        var latest = Setup.options
        latest.offsetReset = .latest
        let fromEnd = try setup.consumer(group: "tail", topics: ["events"], options: latest)
        try await fromEnd.join()
        let fromStart = try setup.consumer(group: "all", topics: ["events"])
        try await setup.send("events", ["new-1"])
        #expect(try await Self.receive(fromEnd, count: 1) == ["new-1"])
        #expect(try await Self.receive(fromStart, count: 3) == ["old-1", "old-2", "new-1"])
        await fromEnd.close()
        await fromStart.close()
    }

    @Test(arguments: Kind.allCases)
    func partitionsAddedToASubscribedTopicAreAssignedAndRead(kind: Kind) async throws {
        // The group's leader sees the topic's new count once its metadata is old (at once in
        // process) and rejoins, as Kafka's consumer does: the new partition is assigned and read.
        let setup = try Setup(kind)
        defer { setup.stop() }
        try setup.broker.createTopic("grow", partitions: 1)
        let member = try setup.consumer(group: "g", topics: ["grow"], metadataMaxAgeMs: 200)
        try await member.join()
        #expect(member.assignment == [TopicPartition("grow", 0)])
        try setup.broker.createPartitions(topic: "grow", count: 2)
        try await setup.send("grow", ["new"], partition: 1)
        #expect(try await Self.receive(member, count: 1) == ["new"])
        #expect(member.assignment.sorted() == [TopicPartition("grow", 0), TopicPartition("grow", 1)])
        await member.close()
    }

    /// Rebalance callbacks in the order they ran.
    final class Calls: Sendable {
        private let list = Mutex<[String]>([])
        func add(_ call: String) { list.withLock { $0.append(call) } }
        var all: [String] { list.withLock { $0 } }
    }

    /// A member of group "g" that has consumed the one record of topic "t", with options that
    /// `configure` sets (its callbacks recording into the calls returned); the group then drops it.
    private static func droppedMember(_ setup: Setup, configure: (inout Consumer.Options, Calls) -> Void) async throws -> (Consumer, Calls) {
        try setup.broker.createTopic("t", partitions: 1)
        try await setup.send("t", ["r0"])
        let calls = Calls()
        var options = Setup.options
        options.onAssigned = { partitions in calls.add("assigned \(partitions.count)") }
        configure(&options, calls)
        let member = try setup.consumer(group: "g", topics: ["t"], options: options)
        #expect(try await Self.receive(member, count: 1) == ["r0"])
        _ = setup.broker.groups.leave(groupId: "g", memberIds: [member.memberId])
        return (member, calls)
    }

    @Test(arguments: Kind.allCases)
    func aCommitAnsweredThatTheMemberIsGoneHandsItsPartitionsToOnLost(kind: Kind) async throws {
        // The group dropped the member; its commit is refused (UNKNOWN_MEMBER_ID) before any
        // heartbeat says so. Its partitions may be another member's already: the rejoin must call
        // onLost (stop without committing), not onRevoked (finish, then commit).
        let setup = try Setup(kind)
        defer { setup.stop() }
        let (a, calls) = try await Self.droppedMember(setup) { options, calls in
            options.heartbeatIntervalMs = 5_000
            options.sessionTimeoutMs = 30_000
            options.onRevoked = { partitions in calls.add("revoked \(partitions.count)") }
            options.onLost = { partitions in calls.add("lost \(partitions.count)") }
        }
        await #expect(throws: ClientError.self) { try await a.commit() }
        _ = try await a.poll()
        #expect(calls.all == ["assigned 1", "lost 1", "assigned 1"])
        await a.close()
    }

    @Test(arguments: Kind.allCases)
    func aLossAHeartbeatFoundIsHandedOverBeforeTheRejoinAssignsAgain(kind: Kind) async throws {
        // The heartbeat hears the member is gone and calls onLost, which takes a while (a worker
        // cancelling its runs); the next poll rejoins. The new assignment must come after onLost
        // is done, or its late work would be taken for the new generation's.
        let setup = try Setup(kind)
        defer { setup.stop() }
        let (a, calls) = try await Self.droppedMember(setup) { options, calls in
            options.onLost = { _ in
                calls.add("lost")
                try? await Task.sleep(for: .milliseconds(300))
                calls.add("lost done")
            }
        }
        for _ in 0..<200 where !calls.all.contains("lost") { try await Task.sleep(for: .milliseconds(10)) }
        _ = try await a.poll()
        #expect(calls.all == ["assigned 1", "lost", "lost done", "assigned 1"])
        await a.close()
    }

    @Test(arguments: Kind.allCases)
    func aMemberThatLostAPartitionNeverCommitsItBackwardsOnceItOwnsItAgain(kind: Kind) async throws {
        // A consumes 4 records without committing and is dropped from the group; B takes the
        // partition, consumes to 10 and commits 10, then leaves. A owns the partition again: what
        // it had consumed before (4) must not be committed over B's 10.
        let setup = try Setup(kind)
        defer { setup.stop() }
        try setup.broker.createTopic("t", partitions: 1)
        try await setup.send("t", (0..<4).map { "r\($0)" })
        let a = try setup.consumer(group: "g", topics: ["t"])
        #expect(try await Self.receive(a, count: 4).count == 4)
        _ = setup.broker.groups.leave(groupId: "g", memberIds: [a.memberId])
        // A's heartbeat (every 100 ms) hears it is no longer a member.
        for _ in 0..<200 where !a.assignment.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(a.assignment.isEmpty)
        try await setup.send("t", (4..<10).map { "r\($0)" })
        let b = try setup.consumer(group: "g", topics: ["t"])
        #expect(try await Self.receive(b, count: 10).count == 10)
        try await b.commit()
        await b.close()
        let partition = TopicPartition("t", 0)
        for _ in 0..<200 where a.assignment.isEmpty { _ = try await a.poll() }
        #expect(a.assignment == [partition])
        try await a.commit()
        #expect(try await a.committed([partition])[partition]?.offset == 10)
        await a.close()
    }

    @Test(arguments: Kind.allCases)
    func aCommittedGroupResumesAfterItsCommitWithItsMetadata(kind: Kind) async throws {
        let setup = try Setup(kind)
        defer { setup.stop() }
        try setup.broker.createTopic("jobs", partitions: 2)
        try await setup.send("jobs", ["a0", "a1", "a2"], partition: 0)
        try await setup.send("jobs", ["b0"], partition: 1)
        let first = try setup.consumer(group: "workers", topics: ["jobs"])
        #expect(Set(try await Self.receive(first, count: 4)) == ["a0", "a1", "a2", "b0"])
        try await first.commit([TopicPartition("jobs", 0): CommittedOffset(offset: 2, metadata: "note")])
        #expect(try await first.committed([TopicPartition("jobs", 0), TopicPartition("jobs", 1)])
                    == [TopicPartition("jobs", 0): CommittedOffset(offset: 2, metadata: "note")])
        await first.close()
        let second = try setup.consumer(group: "workers", topics: ["jobs"])
        #expect(Set(try await Self.receive(second, count: 2)) == ["a2", "b0"], "partition 0 after its commit, partition 1 from its start")
        await second.close()
    }

    /// A commit naming a partition of a deleted topic stores the others and fails (OffsetCommit
    /// answers per partition): one gone partition must not hold back every later commit.
    @Test(arguments: Kind.allCases)
    func aCommitWithAnUnknownPartitionStoresTheOthers(kind: Kind) async throws {
        let setup = try Setup(kind)
        defer { setup.stop() }
        let consumer = try await setup.workerThatRead(["a0", "a1"])
        await #expect(throws: ClientError.self) {
            try await consumer.commit([TopicPartition("jobs", 0): CommittedOffset(offset: 1), TopicPartition("gone", 0): CommittedOffset(offset: 0)])
        }
        #expect(try await consumer.committed([TopicPartition("jobs", 0)])[TopicPartition("jobs", 0)]?.offset == 1)
        await consumer.close()
    }

    /// A partition that cannot be read answers its fetch at once; the consumer waits a moment
    /// before it fetches again instead of spinning.
    @Test(arguments: Kind.allCases)
    func pollsBackOffWhileAPartitionCannotBeRead(kind: Kind) async throws {
        let setup = try Setup(kind)
        defer { setup.stop() }
        try setup.broker.createTopic("brief", partitions: 1)
        try await setup.send("brief", ["b0"])
        let consumer = try setup.consumer(group: nil, topics: ["brief"])
        #expect(try await Self.receive(consumer, count: 1) == ["b0"])
        try await setup.broker.deleteTopic("brief")
        // A poll that does not throw parks up to pollWaitMs (100 ms) for records, or backs off
        // as long: one that returns at once with nothing would have its caller spin.
        var quiet = 0
        for _ in 0..<5 {
            let start = ContinuousClock.now
            guard let records = try? await consumer.poll() else { continue }
            #expect(records.isEmpty)
            #expect(ContinuousClock.now - start >= .milliseconds(90), "a poll of an unreadable partition took \(ContinuousClock.now - start)")
            quiet += 1
        }
        #expect(quiet == 5, "a partition of a deleted topic is waited for, not thrown for")
        await consumer.close()
    }

    /// A subscribed topic that is deleted is waited for, as Kafka's consumer does: polls return
    /// nothing and throw nothing, the group's assignment drops the topic's partitions, and once
    /// the topic is created again they are assigned again and read from the reset point (the
    /// offsets committed for the old topic went with it).
    @Test(arguments: Kind.allCases)
    func aDeletedTopicIsWaitedForAndReadFromItsStartOnceCreatedAgain(kind: Kind) async throws {
        let setup = try Setup(kind)
        defer { setup.stop() }
        let consumer = try await setup.workerThatRead(["a0", "a1"])
        try await consumer.commit()
        try await setup.broker.deleteTopic("jobs")
        for _ in 0..<5 {
            let records = try await consumer.poll()
            #expect(records.isEmpty)
        }
        #expect(consumer.assignment.isEmpty, "the deleted topic's partition is no longer assigned")
        try setup.broker.createTopic("jobs", partitions: 1)
        try await setup.send("jobs", ["b0", "b1", "b2"])
        #expect(try await Self.receive(consumer, count: 3) == ["b0", "b1", "b2"])
        await consumer.close()
    }

    @Test(arguments: Kind.allCases)
    func aPositionBelowTheLogStartResetsToTheLogStart(kind: Kind) async throws {
        let setup = try Setup(kind)
        defer { setup.stop() }
        try setup.broker.createTopic("logs", partitions: 1)
        try await setup.send("logs", ["r0", "r1", "r2", "r3"])
        let consumer = try setup.consumer(group: "readers", topics: ["logs"])
        #expect(try await Self.receive(consumer, count: 1).first == "r0")
        try await consumer.commit([TopicPartition("logs", 0): CommittedOffset(offset: 1)])
        await consumer.close()
        // Records the group never read are deleted: its committed offset is now out of range.
        _ = try await setup.broker.deleteRecords(topic: "logs", partition: 0, before: 3)
        let again = try setup.consumer(group: "readers", topics: ["logs"])
        #expect(try await Self.receive(again, count: 1) == ["r3"])
        await again.close()
    }

    @Test(arguments: Kind.allCases)
    func anUnreadableBatchIsReportedAfterTheRecordsBeforeIt(kind: Kind) async throws {
        let setup = try Setup(kind)
        defer { setup.stop() }
        try setup.broker.createTopic("mixed", partitions: 1)
        try await setup.send("mixed", ["plain"])
        // Plain records under the zstd flag, appended past the produce path's checks (as a Spool
        // from before the broker read produced batches' records stored them).
        let unreadable = RecordBatch(producing: [ProducerRecord(value: Array("packed".utf8), timestamp: 1_000)], attributes: BatchAttributes(compression: .zstd)).encoded()
        _ = try unreadable.withUnsafeBytes { raw in try setup.broker.partition("mixed", 0).append(raw) }
        let consumer = try setup.consumer(group: nil, topics: ["mixed"])
        #expect(try await Self.receive(consumer, count: 1) == ["plain"])
        await #expect(throws: ClientError.protocolError(
            "the batch at offset 1 of mixed[0] cannot be read: records compressed with zstd do not inflate: not in zstd format")) {
            _ = try await consumer.poll()
        }
        await consumer.close()
    }

    @Test(arguments: Kind.allCases)
    func aSecondMemberRevokesAndReassignsThroughTheCallbacks(kind: Kind) async throws {
        let setup = try Setup(kind)
        defer { setup.stop() }
        try setup.broker.createTopic("shared", partitions: 2)
        let calls = Mutex<[String]>([])
        var options = Setup.options
        options.onAssigned = { partitions in calls.withLock { $0.append("assigned \(partitions)") } }
        options.onRevoked = { partitions in calls.withLock { $0.append("revoked \(partitions)") } }
        let first = try setup.consumer(group: "pair", topics: ["shared"], options: options)
        try await first.join()
        #expect(calls.withLock { $0 } == ["assigned [shared[0], shared[1]]"])
        let second = try setup.consumer(group: "pair", topics: ["shared"])
        async let joined: Void = second.join()
        let deadline = ContinuousClock.now + .seconds(20)
        while first.assignment.count == 2 && ContinuousClock.now < deadline { _ = try await first.poll() }
        try await joined
        // The range assignor gives each member one partition; which one follows the member ids.
        let after = calls.withLock { Array($0.dropFirst()) }
        #expect(after.count == 2 && after.first == "revoked [shared[0], shared[1]]" && first.assignment.count == 1)
        #expect(after.last == "assigned \(first.assignment)")
        #expect(Set(first.assignment + second.assignment) == [TopicPartition("shared", 0), TopicPartition("shared", 1)])
        await first.close()
        await second.close()
    }

    @Test(arguments: Kind.allCases)
    func aPollHandsOutMaxPollRecordsAndTheNextResumesWhereItStopped(kind: Kind) async throws {
        let setup = try Setup(kind)
        defer { setup.stop() }
        try setup.broker.createTopic("queue", partitions: 1)
        try await setup.send("queue", ["r0", "r1", "r2", "r3"])
        try await setup.send("queue", ["r4", "r5", "r6"])
        var options = Setup.options
        options.maxPollRecords = 3
        let consumer = try setup.consumer(group: "readers", topics: ["queue"], options: options)
        let partition = TopicPartition("queue", 0)
        var polls: [[String]] = []
        var positions: [Int64?] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while polls.joined().count < 7 && ContinuousClock.now < deadline {
            let records = try await consumer.poll()
            guard !records.isEmpty else { continue }
            polls.append(records.map { $0.valueString ?? "" })
            positions.append(consumer.position(partition))
            if let last = records.last { consumer.markConsumed(last) }
        }
        // Three at most a poll, across the two batches, each position just past what it handed out.
        #expect(polls == [["r0", "r1", "r2"], ["r3", "r4", "r5"], ["r6"]])
        #expect(positions == [3, 6, 7])
        try await consumer.commit()
        await consumer.close()
        let again = try setup.consumer(group: "readers", topics: ["queue"])
        try await setup.send("queue", ["r7"])
        #expect(try await Self.receive(again, count: 1) == ["r7"])
        await again.close()
    }

    @Test(arguments: Kind.allCases)
    func aPausedPartitionKeepsItsFetchedRecordsForWhenItIsResumed(kind: Kind) async throws {
        let setup = try Setup(kind)
        defer { setup.stop() }
        try setup.broker.createTopic("work", partitions: 1)
        try await setup.send("work", ["w0", "w1", "w2", "w3", "w4"])
        var options = Setup.options
        options.maxPollRecords = 2
        let consumer = try setup.consumer(group: nil, topics: ["work"], options: options)
        let partition = TopicPartition("work", 0)
        #expect(try await Self.receive(consumer, count: 2) == ["w0", "w1"])
        consumer.pause([partition])
        #expect(try await consumer.poll().isEmpty && !consumer.hasBuffered)
        #expect(consumer.position(partition) == 2)
        consumer.resume([partition])
        #expect(consumer.hasBuffered)
        // Handed out from what was fetched before the pause, without a fetch.
        #expect(try consumer.pollBuffered().map { $0.valueString ?? "" } == ["w2", "w3"])
        #expect(try await Self.receive(consumer, count: 1) == ["w4"])
        #expect(consumer.position(partition) == 5)
        await consumer.close()
    }
}
