@testable import SpoolBroker
import SpoolFormat
import Testing

/// The rebalance timeout a member asks for is the one the join phase waits, however long: a Java
/// consumer's is its max.poll.interval.ms, and Kafka bounds only the session timeout.
@Suite struct RebalanceTimeoutTests {
    @Test func aMemberBusyForLongerThanFiveMinutesKeepsItsPlaceThroughTheRebalance() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let session = 30_000
        // A consumer with max.poll.interval.ms = 10 min, alone and stable.
        let (generation, owned) = try await GroupTest.rebalance(coordinator, members: [""], partitions: 2, session: session,
                                                                rebalanceTimeout: 600_000, clock: clock)
        let busy = try #require(owned.keys.first)
        // A newcomer starts a rebalance; the busy member goes on heartbeating (its heartbeat thread
        // runs while its poll loop is busy) but does not rejoin until 6 minutes later.
        async let newcomer = GroupTest.join(coordinator, GroupTest.request(session: session, rebalance: 5_000))
        #expect(await GroupTest.eventually { GroupTest.parkedJoins(coordinator) == 1 }, "the newcomer waits for the busy member")
        /// Heartbeats every second for `ms`; the first answer other than REBALANCE_IN_PROGRESS.
        func heartbeat(forMs ms: Int) -> KafkaErrorCode {
            for _ in 0..<(ms / 1_000) {
                GroupTest.advance(coordinator, clock, ms: 1_000)
                let answer = coordinator.heartbeat(groupId: "g", generationId: generation, memberId: busy, groupInstanceId: nil)
                if answer != .rebalanceInProgress { return answer }
            }
            return .rebalanceInProgress
        }
        #expect(heartbeat(forMs: 301_000) == .rebalanceInProgress, "the busy member's heartbeats are answered as a member's")
        let described = coordinator.describe(groupId: "g")
        #expect(described.state == .preparingRebalance, "the join phase is still open after 301 s")
        #expect(described.members.contains { $0.memberId == busy }, "the busy member was not dropped at 300 s")
        #expect(GroupTest.parkedJoins(coordinator) == 1, "the newcomer's JoinGroup is still parked")
        try #require(heartbeat(forMs: 59_000) == .rebalanceInProgress)
        let rejoined = try await GroupTest.join(coordinator, GroupTest.request(busy, session: session, rebalance: 600_000))
        let joined = try await newcomer
        #expect(rejoined.error == .none && joined.error == .none)
        #expect(rejoined.generationId == generation + 1 && joined.generationId == generation + 1, "both are in the next generation")
        #expect(Set(coordinator.describe(groupId: "g").members.map(\.memberId)) == [busy, joined.memberId])
    }
}
