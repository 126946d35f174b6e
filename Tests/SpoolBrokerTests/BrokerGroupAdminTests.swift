import Foundation
@testable import SpoolBroker
import SpoolSystem
import Synchronization
import SpoolFormat
import Testing

/// DeleteGroups and OffsetDelete as Kafka's coordinator answers them, with deletions that a
/// restart does not undo.
@Suite struct BrokerGroupAdminTests {
    private func open(_ data: TestDataDirectory, offsetHooks: OffsetStore.Hooks = OffsetStore.Hooks()) throws -> Broker {
        var config = data.config()
        config.groupLimits.initialRebalanceDelayMs = 0
        return try Broker.open(config, fileSystem: LiveFileSystem(), clock: currentTimeMs, offsetHooks: offsetHooks)
    }

    /// A broker whose deletions stop, once decided and before they are stored, to run `meanwhile`
    /// on the broker: what another connection could do in that moment.
    private func openStoppingDeletions(_ data: TestDataDirectory, meanwhile: @escaping @Sendable (Broker) async throws -> Void) throws -> Broker {
        let opened = Mutex<Broker?>(nil)
        let broker = try open(data, offsetHooks: OffsetStore.Hooks(deletionDecided: {
            guard let broker = opened.withLock({ $0 }) else { return }
            do { try await meanwhile(broker) } catch { Issue.record("between the decision and the deletion: \(error)") }
        }))
        opened.withLock { $0 = broker }
        return broker
    }

    /// A member of `group` in a stable generation, subscribed (protocol "range") with `metadata`.
    private func stableMember(_ broker: Broker, group: String = "g", type: String = "consumer",
                              metadata: [UInt8] = GroupTest.subscription(["jobs"])) async throws -> JoinGroupResponse {
        let joined = try await GroupTest.answer {
            await broker.groups.join(GroupTest.request(group: group, protocols: [GroupProtocol(name: "range", metadata: metadata)], type: type,
                                                       requireKnownMemberId: false))
        }
        try #require(joined.error == .none)
        let synced = try await GroupTest.sync(broker.groups, group: group, joined, assignments: [joined.memberId: []])
        try #require(synced.error == .none)
        return joined
    }

    @Test func deleteGroupsRemovesCommittedOffsetsForGood() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try open(data)
        try broker.createTopic("jobs", partitions: 2)
        try await broker.storeOffsets(group: "old", [TopicPartition("jobs", 0): CommittedOffset(offset: 0), TopicPartition("jobs", 1): CommittedOffset(offset: 0)])
        try await broker.storeOffsets(group: "kept", [TopicPartition("jobs", 0): CommittedOffset(offset: 0)])
        #expect(broker.listGroups().map(\.groupId) == ["kept", "old"])

        let results = await broker.deleteGroups(["old", "old", "never", ""])
        #expect(results == ["old": .none, "never": .groupIdNotFound, "": .invalidGroupId])
        #expect(broker.committedOffsets(group: "old").isEmpty)
        #expect(broker.listGroups().map(\.groupId) == ["kept"])
        #expect(await broker.deleteGroup("old") == .groupIdNotFound, "already gone")
        #expect(await broker.deleteGroup(String(repeating: "g", count: 70_000)) == .invalidGroupId)
        try broker.close()

        broker = try open(data)
        #expect(broker.committedOffsets(group: "old").isEmpty, "the deletion survives a restart")
        #expect(broker.committedOffsets(group: "kept").mapValues(\.offset) == [TopicPartition("jobs", 0): 0], "other groups keep theirs")
        #expect(broker.listGroups().map(\.groupId) == ["kept"])
        try broker.close()
        #expect(await broker.deleteGroup("kept") == .coordinatorNotAvailable, "closed")
    }

    @Test func aGroupWithMembersIsNotDeleted() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try open(data)
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        let member = try await stableMember(broker)
        try await broker.commitOffsets(group: "g", generationId: member.generationId, memberId: member.memberId,
                                       offsets: [TopicPartition("jobs", 0): CommittedOffset(offset: 0)])
        #expect(await broker.deleteGroups(["g"]) == ["g": .nonEmptyGroup])
        #expect(broker.committedOffsets(group: "g").count == 1, "nothing deleted")
        #expect(broker.groups.describe(groupId: "g").members.count == 1)

        _ = broker.groups.leave(groupId: "g", memberIds: [member.memberId])
        #expect(await broker.deleteGroup("g") == .none)
        #expect(broker.committedOffsets(group: "g").isEmpty)
        #expect(broker.groups.describe(groupId: "g").state == .dead)
        #expect(broker.listGroups().isEmpty)
        // The old member's id means nothing now.
        let rejoin = try await GroupTest.answer { await broker.groups.join(GroupTest.request(member.memberId)) }
        #expect(rejoin.error == .unknownMemberId)

        // A group only the coordinator knows (no offsets) is deleted too.
        let pending = try await GroupTest.answer { await broker.groups.join(GroupTest.request(group: "fresh")) }
        #expect(pending.error == .memberIdRequired)
        #expect(await broker.deleteGroup("fresh") == .none)
        #expect(try await GroupTest.answer { await broker.groups.join(GroupTest.request(pending.memberId, group: "fresh")) }.error == .unknownMemberId)
    }

    @Test func offsetDeleteSparesTopicsAnActiveGroupSubscribesTo() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try open(data)
        try broker.createTopic("jobs")
        try broker.createTopic("other", partitions: 2)
        let commits: [TopicPartition: CommittedOffset] = [
            TopicPartition("jobs", 0): CommittedOffset(offset: 0), TopicPartition("other", 0): CommittedOffset(offset: 0),
            TopicPartition("other", 1): CommittedOffset(offset: 0),
        ]
        try await broker.storeOffsets(group: "g", commits)
        let member = try await stableMember(broker)

        let result = await broker.deleteOffsets(group: "g", partitions: [
            TopicPartition("jobs", 0), TopicPartition("other", 0), TopicPartition("missing", 0), TopicPartition("other", 9),
        ])
        #expect(result.error == .none)
        #expect(result.partitions == [
            TopicPartition("jobs", 0): .groupSubscribedToTopic, TopicPartition("other", 0): .none,
            TopicPartition("missing", 0): .unknownTopicOrPartition, TopicPartition("other", 9): .unknownTopicOrPartition,
        ])
        #expect(Set(broker.committedOffsets(group: "g").keys) == [TopicPartition("jobs", 0), TopicPartition("other", 1)])

        #expect(await broker.deleteOffsets(group: "nobody", partitions: [TopicPartition("jobs", 0)]) == OffsetDeleteResult(error: .groupIdNotFound))
        #expect(await broker.deleteOffsets(group: "", partitions: [TopicPartition("jobs", 0)]) == OffsetDeleteResult(error: .invalidGroupId))

        // Once the group is empty, its offsets on any topic may go; asking about a partition with
        // no committed offset is answered NONE too.
        _ = broker.groups.leave(groupId: "g", memberIds: [member.memberId])
        let emptied = await broker.deleteOffsets(group: "g", partitions: [TopicPartition("jobs", 0), TopicPartition("other", 0)])
        #expect(emptied == OffsetDeleteResult(error: .none, partitions: [TopicPartition("jobs", 0): .none, TopicPartition("other", 0): .none]))
        try broker.close()

        broker = try open(data)
        #expect(Array(broker.committedOffsets(group: "g").keys) == [TopicPartition("other", 1)], "deletions survive a restart")
        #expect(await broker.deleteOffsets(group: "g", partitions: [TopicPartition("other", 1)]).partitions == [TopicPartition("other", 1): .none],
                "a group known only by its offsets")
        #expect(broker.committedOffsets(group: "g").isEmpty)
        try broker.close()
        #expect(await broker.deleteOffsets(group: "g", partitions: []) == OffsetDeleteResult(error: .coordinatorNotAvailable))
    }

    @Test func offsetDeleteWithUnreadableSubscriptionsOrAnotherProtocolTypeDeletesNothing() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try open(data)
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        try broker.createTopic("other")
        let both: [TopicPartition: CommittedOffset] = [TopicPartition("jobs", 0): CommittedOffset(offset: 0), TopicPartition("other", 0): CommittedOffset(offset: 0)]
        for group in ["garbled", "connect"] { try await broker.storeOffsets(group: group, both) }

        // A consumer group whose subscription does not parse: every topic counts as subscribed.
        _ = try await stableMember(broker, group: "garbled", metadata: [0xFF])
        let garbled = await broker.deleteOffsets(group: "garbled", partitions: [TopicPartition("other", 0)])
        #expect(garbled == OffsetDeleteResult(error: .none, partitions: [TopicPartition("other", 0): .groupSubscribedToTopic]))

        // Members of another protocol type: the broker cannot tell what they use.
        _ = try await stableMember(broker, group: "connect", type: "connect")
        #expect(await broker.deleteOffsets(group: "connect", partitions: [TopicPartition("other", 0)]) == OffsetDeleteResult(error: .nonEmptyGroup))
        for group in ["garbled", "connect"] { #expect(broker.committedOffsets(group: group).count == 2) }
    }

    @Test func aFencedStaticMemberCannotCommit() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var config = data.config()
        config.groupLimits.initialRebalanceDelayMs = 0
        let broker = try Broker.open(config)
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        let first = try await GroupTest.answer { await broker.groups.join(GroupTest.request(instance: "worker-1")) }
        _ = try await GroupTest.sync(broker.groups, first, assignments: [first.memberId: []])
        let second = try await GroupTest.answer { await broker.groups.join(GroupTest.request(instance: "worker-1")) }
        #expect(second.generationId == first.generationId)
        let offsets = [TopicPartition("jobs", 0): CommittedOffset(offset: 0)]
        await #expect(throws: BrokerError.group(.fencedInstanceId)) {
            try await broker.commitOffsets(group: "g", generationId: first.generationId, memberId: first.memberId,
                                           groupInstanceId: "worker-1", offsets: offsets)
        }
        #expect(broker.committedOffsets(group: "g").isEmpty)
        try await broker.commitOffsets(group: "g", generationId: second.generationId, memberId: second.memberId,
                                       groupInstanceId: "worker-1", offsets: offsets)
        #expect(broker.committedOffsets(group: "g").count == 1)
    }

    @Test func aMemberThatJoinsWhileOffsetDeleteRunsKeepsWhatItCommits() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let member = Mutex<JoinGroupResponse?>(nil)
        var broker = try openStoppingDeletions(data) { broker in
            let joined = try await stableMember(broker)
            member.withLock { $0 = joined }
            try await broker.commitOffsets(group: "g", generationId: joined.generationId, memberId: joined.memberId,
                                           offsets: [TopicPartition("jobs", 0): CommittedOffset(offset: 42)])
        }
        try broker.createTopic("jobs", partitions: 2)
        try await broker.storeOffsets(group: "g", [TopicPartition("jobs", 0): CommittedOffset(offset: 7), TopicPartition("jobs", 1): CommittedOffset(offset: 7)])

        // The group is empty when OffsetDelete looks, so it answers NONE; the member's commit,
        // acknowledged after that look, is newer than the deletion and stays.
        let result = await broker.deleteOffsets(group: "g", partitions: [TopicPartition("jobs", 0)])
        #expect(result == OffsetDeleteResult(error: .none, partitions: [TopicPartition("jobs", 0): .none]))
        #expect(member.withLock { $0 } != nil, "the member joined between the decision and the deletion")
        #expect(broker.committedOffsets(group: "g").mapValues(\.offset) == [TopicPartition("jobs", 0): 42, TopicPartition("jobs", 1): 7])
        try broker.close()
        broker = try open(data)
        #expect(broker.committedOffsets(group: "g").mapValues(\.offset) == [TopicPartition("jobs", 0): 42, TopicPartition("jobs", 1): 7],
                "and after a restart")
        try broker.close()
    }

    @Test func aGroupRecreatedWhileDeleteGroupsRunsKeepsWhatItCommits() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try openStoppingDeletions(data) { broker in
            let joined = try await stableMember(broker)
            try await broker.commitOffsets(group: "g", generationId: joined.generationId, memberId: joined.memberId,
                                           offsets: [TopicPartition("jobs", 0): CommittedOffset(offset: 42)])
        }
        try broker.createTopic("jobs", partitions: 2)
        try await broker.storeOffsets(group: "g", [TopicPartition("jobs", 0): CommittedOffset(offset: 7), TopicPartition("jobs", 1): CommittedOffset(offset: 7)])

        #expect(await broker.deleteGroup("g") == .none)
        #expect(broker.committedOffsets(group: "g").mapValues(\.offset) == [TopicPartition("jobs", 0): 42],
                "the old offsets are gone; the new incarnation's commit stays")
        try broker.close()
        broker = try open(data)
        #expect(broker.committedOffsets(group: "g").mapValues(\.offset) == [TopicPartition("jobs", 0): 42], "and after a restart")
        try broker.close()
    }
}
