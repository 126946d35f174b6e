import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import Testing

/// Commits from outside a group (an offset reset, generation -1 and no member): accepted only
/// while the group is empty, and a member joining meanwhile is held until the commit is stored.
@Suite struct StandaloneCommitTests {
    @Test func aJoinWaitsForAStandaloneCommitInFlightAndACommitIsRefusedOnceAMemberJoined() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock) { $0.initialRebalanceDelayMs = 0 }
        defer { coordinator.shutdown() }
        #expect(coordinator.beginStandaloneCommit(groupId: "g") == .none)
        let join = Task { await coordinator.join(GroupTest.request(requireKnownMemberId: false)) }
        for _ in 0..<200 where GroupTest.parkedJoins(coordinator) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        GroupTest.advance(coordinator, clock, ms: 1_000)
        #expect(GroupTest.parkedJoins(coordinator) == 1, "the join phase stays open while the commit is stored")
        // The member is in the group now: another commit from outside is refused.
        #expect(coordinator.beginStandaloneCommit(groupId: "g") == .unknownMemberId)
        coordinator.endStandaloneCommit(groupId: "g")
        let joined = try #require(await GroupTest.within { await join.value })
        #expect(joined.error == .none && joined.generationId == 1)
        #expect(coordinator.beginStandaloneCommit(groupId: "") == .invalidGroupId)
    }

    @Test func theBrokerStoresAStandaloneCommitOnlyForAnEmptyGroup() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var config = data.config()
        config.groupLimits.initialRebalanceDelayMs = 0
        let broker = try Broker.open(config, fileSystem: LiveFileSystem(), clock: currentTimeMs)
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        let point = [TopicPartition("jobs", 0): CommittedOffset(offset: 0)]
        try await broker.commitOffsets(group: "g", generationId: -1, memberId: "", offsets: point)
        #expect(broker.committedOffsets(group: "g").mapValues(\.offset) == [TopicPartition("jobs", 0): 0])
        // Nothing is left in flight: a member joins at once.
        let joined = await GroupTest.within(5_000) { await broker.groups.join(GroupTest.request(requireKnownMemberId: false)) }
        #expect(joined?.error == KafkaErrorCode.none)
        await #expect(throws: BrokerError.group(.unknownMemberId)) {
            try await broker.commitOffsets(group: "g", generationId: -1, memberId: "", offsets: point)
        }
    }
}
