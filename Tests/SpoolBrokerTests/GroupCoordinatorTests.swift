import Foundation
@testable import SpoolBroker
import SpoolFormat
import Testing

/// The classic group protocol as Kafka's clients drive it: two-step joins, the leader's assignment
/// handed out by SyncGroup, heartbeats, session and rebalance timeouts, leaves, and the error codes
/// Kafka answers with. Every wait is bounded (`GroupTest.answerWaitMs`).
@Suite struct GroupCoordinatorTests {
    // MARK: - Lifecycle

    @Test func threeMembersShareSixPartitionsAndRebalanceWhenOneLeaves() async throws {
        let coordinator = GroupTest.coordinator()
        defer { coordinator.shutdown() }
        let (generation, owned) = try await GroupTest.rebalance(coordinator, members: ["", "", ""], partitions: 6)
        #expect(owned.count == 3)
        #expect(owned.values.flatMap { $0 }.sorted() == [0, 1, 2, 3, 4, 5], "disjoint and covering")
        #expect(owned.values.allSatisfy { $0.count == 2 })
        let described = coordinator.describe(groupId: "g")
        #expect(described.state == .stable && described.generationId == generation && described.members.count == 3)
        for member in owned.keys {
            #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: member, groupInstanceId: nil) == .none)
        }

        let leaving = owned.keys.sorted()[0]
        let staying = Array(owned.keys.sorted().dropFirst())
        let left = coordinator.leave(groupId: "g", memberIds: [leaving])
        #expect(left.error == .none && left.members == [leaving: .none])
        for member in staying {
            #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: member, groupInstanceId: nil) == .rebalanceInProgress)
        }
        let (next, reowned) = try await GroupTest.rebalance(coordinator, members: staying, partitions: 6)
        #expect(next == generation + 1)
        #expect(Set(reowned.keys) == Set(staying))
        #expect(reowned.values.flatMap { $0 }.sorted() == [0, 1, 2, 3, 4, 5], "disjoint and covering")
        #expect(reowned.values.allSatisfy { $0.count == 3 })
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: staying[0], groupInstanceId: nil) == .illegalGeneration)
        #expect(coordinator.heartbeat(groupId: "g", generationId: next, memberId: leaving, groupInstanceId: nil) == .unknownMemberId)
    }

    @Test func twelveMembersJoiningAtOnceLandInOneGeneration() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock) { $0.initialRebalanceDelayMs = 1_000 }
        defer { coordinator.shutdown() }
        let (_, owned) = try await GroupTest.rebalance(coordinator, members: Array(repeating: "", count: 12), partitions: 24, clock: clock)
        #expect(owned.count == 12)
        #expect(owned.values.flatMap { $0 }.sorted() == (0..<24).map { Int32($0) })
    }

    @Test func aDirectJoinWithoutMemberIdRequiredIsAcceptedAtOnce() async throws {
        let coordinator = GroupTest.coordinator()
        defer { coordinator.shutdown() }
        let joined = try await GroupTest.answer { await coordinator.join(GroupTest.request(client: "worker-1", requireKnownMemberId: false)) }
        #expect(joined.error == .none)
        #expect(joined.memberId.hasPrefix("worker-1-") && joined.memberId.count > "worker-1-".count)
        #expect(joined.generationId == 1 && joined.leaderId == joined.memberId)
        #expect(joined.protocolType == "consumer" && joined.protocolName == "range")
        #expect(joined.members.map(\.memberId) == [joined.memberId])
        #expect(joined.members.map(\.metadata) == [GroupTest.subscription()])
    }

    @Test func memberIdRequiredHandsOutAnIdThatExpiresWhenUnused() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let first = try await GroupTest.answer { await coordinator.join(GroupTest.request(client: "c", session: 500)) }
        #expect(first.error == .memberIdRequired && first.generationId == -1)
        #expect(first.memberId.hasPrefix("c-"))
        let second = try await GroupTest.answer { await coordinator.join(GroupTest.request(client: "c", session: 500)) }
        #expect(second.memberId != first.memberId, "every new member gets its own id")
        // Just inside the session the ids are still known (a LeaveGroup naming one finds it)...
        GroupTest.advance(coordinator, clock, ms: 499)
        #expect(coordinator.leave(groupId: "g", memberIds: [second.memberId]).members == [second.memberId: .none])
        // ...and once it has run out they are forgotten.
        GroupTest.advance(coordinator, clock, ms: 1)
        let late = try await GroupTest.answer { await coordinator.join(GroupTest.request(first.memberId, session: 500)) }
        #expect(late.error == .unknownMemberId, "the id was forgotten after its session timeout")
    }

    // MARK: - Timeouts

    @Test func aSilentMemberIsExpelledAfterItsSessionTimeout() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let (generation, owned) = try await GroupTest.rebalance(coordinator, members: ["", ""], partitions: 4, session: 3_000, clock: clock)
        let ids = owned.keys.sorted()
        // Both sessions restarted when the leader's assignment was handed out. Only ids[0] keeps
        // heartbeating; ids[1] stays in until its 3 s session has run out, and not a moment longer.
        GroupTest.advance(coordinator, clock, ms: 2_000)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: ids[0], groupInstanceId: nil) == .none)
        GroupTest.advance(coordinator, clock, ms: 1_000)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: ids[0], groupInstanceId: nil) == .none,
                "not expelled at the session timeout itself")
        #expect(coordinator.describe(groupId: "g").members.count == 2)
        GroupTest.advance(coordinator, clock, ms: 1)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: ids[0], groupInstanceId: nil) == .rebalanceInProgress,
                "the survivor is told to rejoin once the silent member's session has run out")
        #expect(coordinator.describe(groupId: "g").members.map(\.memberId) == [ids[0]])
        let (next, reowned) = try await GroupTest.rebalance(coordinator, members: [ids[0]], partitions: 4, session: 3_000, clock: clock)
        #expect(next == generation + 1)
        #expect(reowned == [ids[0]: [0, 1, 2, 3]])
        #expect(coordinator.heartbeat(groupId: "g", generationId: next, memberId: ids[1], groupInstanceId: nil) == .unknownMemberId)
    }

    @Test func aMemberThatDoesNotRejoinIsDroppedWhenTheRebalanceTimesOut() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let (generation, owned) = try await GroupTest.rebalance(coordinator, members: ["", ""], partitions: 2, rebalanceTimeout: 300, clock: clock)
        let ids = owned.keys.sorted()
        // A newcomer starts a rebalance; ids[0] rejoins, ids[1] only heartbeats (so its session stays alive).
        async let newcomer = GroupTest.join(coordinator, GroupTest.request(rebalance: 300))
        #expect(await GroupTest.eventually { coordinator.describe(groupId: "g").state == .preparingRebalance })
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: ids[1], groupInstanceId: nil) == .rebalanceInProgress)
        async let rejoin = GroupTest.join(coordinator, GroupTest.request(ids[0], rebalance: 300))
        #expect(await GroupTest.eventually { GroupTest.parkedJoins(coordinator) == 2 }, "the newcomer and ids[0] wait for ids[1]")
        // The join phase stays open for the whole rebalance timeout...
        GroupTest.advance(coordinator, clock, ms: 299)
        #expect(coordinator.describe(groupId: "g").state == .preparingRebalance && GroupTest.parkedJoins(coordinator) == 2)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: ids[1], groupInstanceId: nil) == .rebalanceInProgress)
        // ...and ends when it has run out, without ids[1].
        GroupTest.advance(coordinator, clock, ms: 1)
        let rejoined = try await rejoin
        let joined = try await newcomer
        #expect(rejoined.error == .none && joined.error == .none)
        #expect(rejoined.generationId == generation + 1 && joined.generationId == rejoined.generationId)
        #expect(Set(coordinator.describe(groupId: "g").members.map(\.memberId)) == [ids[0], joined.memberId])
        #expect(coordinator.heartbeat(groupId: "g", generationId: rejoined.generationId, memberId: ids[1], groupInstanceId: nil) == .unknownMemberId)
        let leaderResponse = [rejoined, joined].first { $0.memberId == $0.leaderId }
        #expect(leaderResponse?.members.count == 2)
        #expect(rejoined.leaderId == ids[0], "the old leader leads again, or else the longest-standing member")
    }

    @Test func anExpiredMemberNoLongerHoldsUpTheJoinPhase() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let (generation, owned) = try await GroupTest.rebalance(coordinator, members: ["", ""], partitions: 2, session: 1_500, clock: clock)
        let description = coordinator.describe(groupId: "g")
        let leader = description.leaderId
        let follower = try #require(owned.keys.first { $0 != leader })
        // The leader rejoins (a rebalance); the follower has gone silent. Its session (1.5 s), not
        // the rebalance timeout (20 s), ends the join phase.
        async let rejoin = GroupTest.join(coordinator, GroupTest.request(leader, session: 1_500, rebalance: 20_000))
        #expect(await GroupTest.eventually { coordinator.isAwaitingJoin(groupId: "g", memberId: leader) })
        GroupTest.advance(coordinator, clock, ms: 1_500)
        #expect(coordinator.isAwaitingJoin(groupId: "g", memberId: leader), "the follower's session has not run out yet")
        GroupTest.advance(coordinator, clock, ms: 1)
        let rejoined = try await rejoin
        #expect(rejoined.error == .none && rejoined.generationId == generation + 1)
        #expect(rejoined.members.map(\.memberId) == [leader])
        #expect(coordinator.heartbeat(groupId: "g", generationId: rejoined.generationId, memberId: follower, groupInstanceId: nil) == .unknownMemberId)
    }

    // MARK: - Rejoins and the protocol vote

    @Test func rejoiningInAStableGroup() async throws {
        // On a clock that stands still no deadline can answer a parked join, so an answer is one
        // the coordinator gave at once.
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let (generation, owned) = try await GroupTest.rebalance(coordinator, members: ["", ""], partitions: 2, clock: clock)
        let leader = coordinator.describe(groupId: "g").leaderId
        let follower = try #require(owned.keys.first { $0 != leader })

        // A follower rejoining unchanged is answered at once with the current generation.
        let same = try await GroupTest.answer { await coordinator.join(GroupTest.request(follower)) }
        #expect(same.error == .none && same.generationId == generation && same.leaderId == leader && same.members.isEmpty)
        #expect(coordinator.describe(groupId: "g").state == .stable)

        // The leader rejoining starts a rebalance (Kafka lets the leader force one this way).
        async let leaderRejoin = GroupTest.join(coordinator, GroupTest.request(leader))
        #expect(await GroupTest.eventually { coordinator.describe(groupId: "g").state == .preparingRebalance })
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: follower, groupInstanceId: nil) == .rebalanceInProgress)
        let followerRejoin = try await GroupTest.join(coordinator, GroupTest.request(follower))
        let leaderRejoined = try await leaderRejoin
        #expect(leaderRejoined.generationId == generation + 1 && followerRejoin.generationId == generation + 1)
        #expect(leaderRejoined.leaderId == leader, "the leader stays leader")
        _ = try await GroupTest.sync(coordinator, leaderRejoined, assignments: GroupTest.roundRobin(leaderRejoined.members, partitions: 2))
        _ = try await GroupTest.sync(coordinator, followerRejoin)
        #expect(coordinator.describe(groupId: "g").state == .stable)

        // A follower whose metadata changed (a new subscription) starts a rebalance too.
        let changed = [GroupProtocol(name: "range", metadata: GroupTest.subscription(["jobs", "audit"]))]
        async let changedRejoin = GroupTest.join(coordinator, GroupTest.request(follower, protocols: changed))
        #expect(await GroupTest.eventually { coordinator.describe(groupId: "g").state == .preparingRebalance })
        let leaderAgain = try await GroupTest.join(coordinator, GroupTest.request(leader))
        #expect(try await changedRejoin.generationId == generation + 2)
        #expect(leaderAgain.members.first { $0.memberId == follower }?.metadata == changed[0].metadata)
    }

    @Test func theProtocolIsChosenByVote() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock) { $0.initialRebalanceDelayMs = 300 }
        defer { coordinator.shutdown() }
        func protocols(_ names: String...) -> [GroupProtocol] {
            names.map { GroupProtocol(name: $0, metadata: Array($0.utf8)) }
        }
        // Majority: two of three prefer roundrobin.
        let majority = try await GroupTest.joinAll(coordinator, [
            GroupTest.request(group: "g", protocols: protocols("range", "roundrobin")),
            GroupTest.request(group: "g", protocols: protocols("roundrobin", "range")),
            GroupTest.request(group: "g", protocols: protocols("roundrobin", "range")),
        ], clock: clock)
        #expect(majority.allSatisfy { $0.protocolName == "roundrobin" })
        let leader = try #require(majority.first { !$0.members.isEmpty })
        #expect(leader.members.allSatisfy { $0.metadata == Array("roundrobin".utf8) }, "each member's metadata for the chosen protocol")

        // Only protocols every member supports are candidates, whatever the preferences.
        let common = try await GroupTest.joinAll(coordinator, [
            GroupTest.request(group: "h", protocols: protocols("sticky", "range")),
            GroupTest.request(group: "h", protocols: protocols("range")),
        ], clock: clock)
        #expect(common.allSatisfy { $0.protocolName == "range" })

        // A tie goes to the first candidate; the first member to join leads. The initial delay
        // keeps the join phase open for the second until the test moves the clock.
        async let first = GroupTest.join(coordinator, GroupTest.request(group: "t", protocols: protocols("range", "roundrobin")))
        #expect(await GroupTest.eventually { GroupTest.parkedJoins(coordinator, group: "t") == 1 })
        async let joiningSecond = GroupTest.join(coordinator, GroupTest.request(group: "t", protocols: protocols("roundrobin", "range")))
        #expect(await GroupTest.eventually { GroupTest.parkedJoins(coordinator, group: "t") == 2 })
        GroupTest.advance(coordinator, clock, ms: 300)
        let second = try await joiningSecond
        let firstJoined = try await first
        #expect(firstJoined.protocolName == "range" && second.protocolName == "range")
        #expect(firstJoined.leaderId == firstJoined.memberId && second.leaderId == firstJoined.memberId)
    }

    // MARK: - CompletingRebalance

    @Test func aRebalanceWhileCompletingAnswersParkedSyncs() async throws {
        let coordinator = GroupTest.coordinator()
        defer { coordinator.shutdown() }
        let joined = try await GroupTest.joinAll(coordinator, [GroupTest.request(), GroupTest.request()])
        #expect(coordinator.describe(groupId: "g").state == .completingRebalance)
        let generation = joined[0].generationId
        for member in joined {
            #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: member.memberId, groupInstanceId: nil) == .none)
        }
        let follower = try #require(joined.first { $0.members.isEmpty })
        let leader = try #require(joined.first { !$0.members.isEmpty })
        let parked = Task { await coordinator.sync(groupId: "g", generationId: generation, memberId: follower.memberId, groupInstanceId: nil,
                                                   protocolType: "consumer", protocolName: "range", assignments: [:]) }
        #expect(await GroupTest.eventually { coordinator.isAwaitingSync(groupId: "g", memberId: follower.memberId) },
                "the follower waits for the leader")
        // A newcomer starts a rebalance: the parked sync is answered REBALANCE_IN_PROGRESS.
        async let newcomer = GroupTest.join(coordinator, GroupTest.request())
        let answered = try await GroupTest.answer { await parked.value }
        #expect(answered.error == .rebalanceInProgress)
        #expect(coordinator.describe(groupId: "g").state == .preparingRebalance)
        let lateLeaderSync = try await GroupTest.sync(coordinator, leader, assignments: GroupTest.roundRobin(leader.members, partitions: 2))
        #expect(lateLeaderSync.error == .rebalanceInProgress)
        let rejoined = try await GroupTest.joinAll(coordinator, [GroupTest.request(leader.memberId), GroupTest.request(follower.memberId)])
        let third = try await newcomer
        #expect(third.generationId == generation + 1 && rejoined.allSatisfy { $0.generationId == generation + 1 })
        #expect(rejoined.first { !$0.members.isEmpty }?.members.count == 3)
    }

    /// Two members joined under `clock` (a 5 s rebalance timeout), in CompletingRebalance: the
    /// coordinator (for the caller to shut down) and the leader's and the follower's answers.
    private func twoJoined(_ clock: ManualClock) async throws -> (GroupCoordinator, leader: JoinGroupResponse, follower: JoinGroupResponse) {
        let coordinator = GroupTest.coordinator(clock: clock)
        let joined = try await GroupTest.joinAll(coordinator, [GroupTest.request(), GroupTest.request()], clock: clock)
        return (coordinator, try #require(joined.first { !$0.members.isEmpty }), try #require(joined.first { $0.members.isEmpty }))
    }

    @Test func aLeaderThatNeverSyncsIsRemovedAfterTheRebalanceTimeoutAndItsFollowerRebalances() async throws {
        // The leader heartbeats but never sends SyncGroup (its assignor failed, say): a rebalance
        // timeout (5 s) after the join phase ended, it is removed and the parked follower is told
        // to rejoin, instead of waiting for ever.
        let clock = ManualClock()
        let (coordinator, leader, follower) = try await twoJoined(clock)
        defer { coordinator.shutdown() }
        let parked = Task { await coordinator.sync(groupId: "g", generationId: follower.generationId, memberId: follower.memberId, groupInstanceId: nil,
                                                   protocolType: "consumer", protocolName: "range", assignments: [:]) }
        #expect(await GroupTest.eventually { coordinator.isAwaitingSync(groupId: "g", memberId: follower.memberId) })
        for _ in 0..<12 {
            GroupTest.advance(coordinator, clock, ms: 500)
            _ = coordinator.heartbeat(groupId: "g", generationId: leader.generationId, memberId: leader.memberId, groupInstanceId: nil)
        }
        let answered = try await GroupTest.answer { await parked.value }
        #expect(answered.error == .rebalanceInProgress)
        #expect(coordinator.describe(groupId: "g").members.map(\.memberId) == [follower.memberId])
        #expect(coordinator.heartbeat(groupId: "g", generationId: leader.generationId, memberId: leader.memberId, groupInstanceId: nil) == .unknownMemberId)
    }

    @Test func membersThatSyncInTimeAreNotRemoved() async throws {
        let clock = ManualClock()
        let (coordinator, leader, follower) = try await twoJoined(clock)
        defer { coordinator.shutdown() }
        let parked = Task { try await GroupTest.sync(coordinator, follower, assignments: [:]) }
        #expect(await GroupTest.eventually { coordinator.isAwaitingSync(groupId: "g", memberId: follower.memberId) })
        #expect(try await GroupTest.sync(coordinator, leader, assignments: GroupTest.roundRobin(leader.members, partitions: 2)).error == .none)
        #expect(try await parked.value.error == .none)
        for _ in 0..<12 {
            GroupTest.advance(coordinator, clock, ms: 500)
            for member in [leader, follower] { _ = coordinator.heartbeat(groupId: "g", generationId: member.generationId, memberId: member.memberId, groupInstanceId: nil) }
        }
        #expect(coordinator.describe(groupId: "g").state == .stable)
        #expect(coordinator.describe(groupId: "g").members.count == 2)
    }

    // MARK: - Leave

    @Test func leaveAnswersAParkedJoinAndTheLastLeaveEmptiesTheGroup() async throws {
        let coordinator = GroupTest.coordinator()
        defer { coordinator.shutdown() }
        let (generation, owned) = try await GroupTest.rebalance(coordinator, members: [""], partitions: 1)
        let member = try #require(owned.keys.first)
        // A newcomer parks in the join phase (the old member has not rejoined), then leaves.
        let pending = try await GroupTest.answer { await coordinator.join(GroupTest.request()) }
        #expect(pending.error == .memberIdRequired)
        async let parked = GroupTest.join(coordinator, GroupTest.request(pending.memberId))
        #expect(await GroupTest.eventually { coordinator.describe(groupId: "g").members.count == 2 })
        #expect(coordinator.leave(groupId: "g", memberIds: [pending.memberId]).members == [pending.memberId: .none])
        #expect(try await parked.error == .unknownMemberId)

        let both = coordinator.leave(groupId: "g", memberIds: [member, "ghost"])
        #expect(both.error == .none && both.members == [member: .none, "ghost": .unknownMemberId])
        let description = coordinator.describe(groupId: "g")
        #expect(description.state == .empty && description.members.isEmpty)
        #expect(description.generationId == generation + 1, "the generation moves on even when no member remains")
        #expect(coordinator.listGroups().map(\.state) == [.empty])

        let unknownGroup = coordinator.leave(groupId: "nope", memberIds: ["a"])
        #expect(unknownGroup.error == .none && unknownGroup.members == ["a": .unknownMemberId])
    }

    /// Found by spool-fuzz-router (Tests/FuzzRegressionTests/Inputs/router/leave-group-duplicate-members.bin):
    /// a LeaveGroup v3 naming one member id twice, for a group that does not exist, trapped while
    /// building the answer and took the broker down. Duplicates are answered as their first mention.
    @Test func leaveWithAMemberIdListedTwiceAnswersItOnce() async throws {
        let coordinator = GroupTest.coordinator()
        defer { coordinator.shutdown() }
        let unknownGroup = coordinator.leave(groupId: "nope", memberIds: ["", "", "a"])
        #expect(unknownGroup.error == .none && unknownGroup.members == ["": .unknownMemberId, "a": .unknownMemberId])

        let (_, owned) = try await GroupTest.rebalance(coordinator, members: [""], partitions: 1)
        let member = try #require(owned.keys.first)
        let twice = coordinator.leave(groupId: "g", memberIds: [member, member])
        #expect(twice.error == .none && twice.members == [member: .none], "the member left, whatever the second mention found")
        #expect(coordinator.describe(groupId: "g").members.isEmpty)
    }

    @Test func leavingWithAnIdFromMemberIdRequiredForgetsIt() async throws {
        let coordinator = GroupTest.coordinator()
        defer { coordinator.shutdown() }
        let pending = try await GroupTest.answer { await coordinator.join(GroupTest.request()) }
        #expect(coordinator.leave(groupId: "g", memberIds: [pending.memberId]).members == [pending.memberId: .none])
        #expect(try await GroupTest.answer { await coordinator.join(GroupTest.request(pending.memberId)) }.error == .unknownMemberId)
    }

    // MARK: - Error paths

    @Test func joinValidation() async throws {
        let coordinator = GroupTest.coordinator()
        defer { coordinator.shutdown() }
        func error(_ request: JoinGroupRequest) async throws -> KafkaErrorCode {
            let response = try await GroupTest.answer { await coordinator.join(request) }
            if response.error != .none && response.error != .memberIdRequired { #expect(response.generationId == -1) }
            return response.error
        }
        #expect(try await error(GroupTest.request(group: "")) == .invalidGroupId)
        #expect(try await error(GroupTest.request(session: 49)) == .invalidSessionTimeout)
        #expect(try await error(GroupTest.request(session: 1_800_001)) == .invalidSessionTimeout)
        #expect(try await error(GroupTest.request(protocols: [])) == .inconsistentGroupProtocol)
        #expect(try await error(GroupTest.request(type: "")) == .inconsistentGroupProtocol)
        #expect(try await error(GroupTest.request("nobody")) == .unknownMemberId)

        _ = try await GroupTest.rebalance(coordinator, members: [""], partitions: 1)
        #expect(try await error(GroupTest.request(type: "connect")) == .inconsistentGroupProtocol)
        #expect(try await error(GroupTest.request(protocols: [GroupProtocol(name: "sticky", metadata: [])])) == .inconsistentGroupProtocol)
        #expect(try await error(GroupTest.request("nobody")) == .unknownMemberId)
        #expect(coordinator.describe(groupId: "g").members.count == 1, "rejected joins change nothing")
    }

    @Test func heartbeatAndSyncErrors() async throws {
        let coordinator = GroupTest.coordinator()
        defer { coordinator.shutdown() }
        let (generation, owned) = try await GroupTest.rebalance(coordinator, members: [""], partitions: 1)
        let member = try #require(owned.keys.first)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation - 1, memberId: member, groupInstanceId: nil) == .illegalGeneration)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: "ghost", groupInstanceId: nil) == .unknownMemberId)
        #expect(coordinator.heartbeat(groupId: "other", generationId: generation, memberId: member, groupInstanceId: nil) == .unknownMemberId)

        func sync(group: String = "g", generation: Int32, member: String, type: String? = nil, name: String? = nil) async throws -> SyncGroupResponse {
            try await GroupTest.answer {
                await coordinator.sync(groupId: group, generationId: generation, memberId: member, groupInstanceId: nil,
                                       protocolType: type, protocolName: name, assignments: [:])
            }
        }
        #expect(try await sync(generation: generation - 1, member: member).error == .illegalGeneration)
        #expect(try await sync(generation: generation + 1, member: member).error == .illegalGeneration)
        #expect(try await sync(generation: generation, member: "ghost").error == .unknownMemberId)
        #expect(try await sync(group: "other", generation: generation, member: member).error == .unknownMemberId)
        #expect(try await sync(generation: generation, member: member, type: "connect").error == .inconsistentGroupProtocol)
        #expect(try await sync(generation: generation, member: member, name: "roundrobin").error == .inconsistentGroupProtocol)
        // In Stable a sync is answered with the member's current assignment.
        let again = try await sync(generation: generation, member: member, type: "consumer", name: "range")
        #expect(again.error == .none && again.protocolType == "consumer" && again.protocolName == "range")
        #expect(try GroupTest.partitions(again.assignment) == [0])
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: member, groupInstanceId: nil) == .none)
    }

    @Test func offsetCommitsAreCheckedAgainstTheGroup() async throws {
        let coordinator = GroupTest.coordinator()
        defer { coordinator.shutdown() }
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: -1, memberId: "") == .none, "standalone commit, no group")
        #expect(coordinator.validateOffsetCommit(groupId: "", generationId: -1, memberId: "") == .invalidGroupId)

        let joined = try await GroupTest.joinAll(coordinator, [GroupTest.request()])[0]
        #expect(coordinator.describe(groupId: "g").state == .completingRebalance)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: joined.generationId, memberId: joined.memberId) == .rebalanceInProgress)
        _ = try await GroupTest.sync(coordinator, joined, assignments: GroupTest.roundRobin(joined.members, partitions: 1))
        let generation = joined.generationId
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: generation, memberId: joined.memberId) == .none)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: -1, memberId: "") == .unknownMemberId, "the group has members")
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: generation - 1, memberId: joined.memberId) == .illegalGeneration)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: generation, memberId: "ghost") == .unknownMemberId)

        // While a rebalance is being prepared the current generation may still commit (as in Kafka).
        async let newcomer = GroupTest.join(coordinator, GroupTest.request())
        #expect(await GroupTest.eventually { coordinator.describe(groupId: "g").state == .preparingRebalance })
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: generation, memberId: joined.memberId) == .none)
        let left = coordinator.leave(groupId: "g", memberIds: [joined.memberId])
        #expect(left.members == [joined.memberId: .none])
        let newMember = try await newcomer
        _ = coordinator.leave(groupId: "g", memberIds: [newMember.memberId])
        #expect(coordinator.describe(groupId: "g").state == .empty)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: -1, memberId: "") == .none, "empty again")
    }

    // MARK: - Limits

    @Test func limitsAreEnforced() async throws {
        let coordinator = GroupTest.coordinator {
            $0.maxMembersPerGroup = 2
            $0.maxGroups = 2
            $0.metadataBytesMax = 16
        }
        defer { coordinator.shutdown() }
        func join(_ request: JoinGroupRequest) async throws -> JoinGroupResponse { try await GroupTest.answer { await coordinator.join(request) } }
        // Ids handed out with MEMBER_ID_REQUIRED count towards the group's size.
        #expect(try await join(GroupTest.request()).error == .memberIdRequired)
        #expect(try await join(GroupTest.request()).error == .memberIdRequired)
        #expect(try await join(GroupTest.request()).error == .groupMaxSizeReached)

        let big = [GroupProtocol(name: "range", metadata: Array(repeating: 1, count: 17))]
        #expect(try await join(GroupTest.request(group: "h", protocols: big)).error == .invalidRequest)
        let pending = try await join(GroupTest.request(group: "h"))
        #expect(pending.error == .memberIdRequired)
        #expect(try await join(GroupTest.request(group: "i")).error == .coordinatorNotAvailable, "at most two groups")

        let joined = try await GroupTest.joinAll(coordinator, [GroupTest.request(pending.memberId, group: "h")])[0]
        let oversized = try await GroupTest.sync(coordinator, group: "h", joined, assignments: [joined.memberId: Array(repeating: 1, count: 17)])
        #expect(oversized.error == .invalidRequest)
        let fits = try await GroupTest.sync(coordinator, group: "h", joined, assignments: [joined.memberId: Array(repeating: 1, count: 16)])
        #expect(fits.error == .none && fits.assignment.count == 16)
    }

    // MARK: - Inspection and shutdown

    @Test func listDescribeAndAssignmentsFollowTheGroup() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock) { $0.initialRebalanceDelayMs = 300 }
        defer { coordinator.shutdown() }
        #expect(coordinator.listGroups().isEmpty)
        let unknown = coordinator.describe(groupId: "nope")
        #expect(unknown.state == .dead && unknown.members.isEmpty && unknown.generationId == -1 && unknown.leaderId.isEmpty)
        #expect(coordinator.assignments(groupId: "nope").isEmpty)

        async let joining = GroupTest.answer { await coordinator.join(GroupTest.request(client: "cli", requireKnownMemberId: false)) }
        #expect(await GroupTest.eventually { coordinator.listGroups().first?.state == .preparingRebalance })
        GroupTest.advance(coordinator, clock, ms: 300)
        let joined = try await joining
        #expect(coordinator.listGroups().map { "\($0.groupId) \($0.protocolType) \($0.state)" } == ["g consumer completingRebalance"])
        let completing = coordinator.describe(groupId: "g")
        #expect(completing.state == .completingRebalance && completing.protocolName == "range" && completing.leaderId == joined.memberId)
        #expect(completing.members.map(\.clientId) == ["cli"] && completing.members.map(\.clientHost) == ["127.0.0.1"])
        #expect(completing.members.map(\.metadata) == [GroupTest.subscription()] && completing.members.map(\.assignment) == [[]])

        let assignment = ConsumerProtocol.encode(.init(partitions: [("jobs", [0, 1])]))
        _ = try await GroupTest.sync(coordinator, joined, assignments: [joined.memberId: assignment])
        #expect(coordinator.listGroups().map(\.state) == [.stable])
        #expect(coordinator.describe(groupId: "g").members.map(\.assignment) == [assignment])
        #expect(coordinator.assignments(groupId: "g") == [joined.memberId: assignment])
    }

    @Test func shutdownAnswersParkedJoinsAndSyncs() async throws {
        // The initial delay keeps the join to "other" parked until the shutdown: the clock stands still.
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock) { $0.initialRebalanceDelayMs = 1_000 }
        let joined = try await GroupTest.joinAll(coordinator, [GroupTest.request(), GroupTest.request()], clock: clock)
        let follower = try #require(joined.first { $0.members.isEmpty })
        let parkedSync = Task { await coordinator.sync(groupId: "g", generationId: follower.generationId, memberId: follower.memberId,
                                                       groupInstanceId: nil, protocolType: nil, protocolName: nil, assignments: [:]) }
        let parkedJoin = Task { try await GroupTest.join(coordinator, GroupTest.request(group: "other")) }
        #expect(await GroupTest.eventually { GroupTest.parkedJoins(coordinator, group: "other") == 1 })
        #expect(await GroupTest.eventually { coordinator.isAwaitingSync(groupId: "g", memberId: follower.memberId) },
                "the follower waits for the leader")

        coordinator.shutdown()
        #expect(try await parkedJoin.value.error == .coordinatorNotAvailable)
        #expect(try await GroupTest.answer { await parkedSync.value }.error == .coordinatorNotAvailable)
        #expect(try await GroupTest.answer { await coordinator.join(GroupTest.request()) }.error == .coordinatorNotAvailable)
        #expect(try await GroupTest.sync(coordinator, joined[0]).error == .coordinatorNotAvailable)
        #expect(coordinator.heartbeat(groupId: "g", generationId: follower.generationId, memberId: follower.memberId, groupInstanceId: nil)
            == .coordinatorNotAvailable)
        coordinator.shutdown()  // idempotent
    }

    // MARK: - Behaviour taken from Kafka's code

    @Test func theJoinPhaseWaitsForMembersHandedAnId() async throws {
        // Kafka's hasAllMembersJoined() also requires no MEMBER_ID_REQUIRED ids outstanding, so
        // members doing the two-step join together share a generation without the initial delay.
        // The clock stands still, so the 300 ms rebalance timeout cannot end the phase instead.
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock) { $0.initialRebalanceDelayMs = 0 }
        defer { coordinator.shutdown() }
        let first = try await GroupTest.answer { await coordinator.join(GroupTest.request(rebalance: 300)) }
        let second = try await GroupTest.answer { await coordinator.join(GroupTest.request(rebalance: 300)) }
        async let a = GroupTest.answer { await coordinator.join(GroupTest.request(first.memberId, rebalance: 300)) }
        // The first parks: the id handed to the second is still outstanding.
        #expect(await GroupTest.eventually { coordinator.isAwaitingJoin(groupId: "g", memberId: first.memberId) })
        let b = try await GroupTest.answer { await coordinator.join(GroupTest.request(second.memberId, rebalance: 300)) }
        let aJoined = try await a
        #expect(aJoined.generationId == b.generationId)
        #expect([aJoined, b].first { !$0.members.isEmpty }?.members.count == 2)
    }

    @Test func aSyncAnsweredLateRestartsTheMembersSessionTimer() async throws {
        // Kafka restarts every member's heartbeat deadline when the leader's assignment is handed
        // out, so a follower that waited long in SyncGroup still has a whole session to heartbeat.
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        // A rebalance timeout of 10 s: the leader may take that long to send its SyncGroup.
        let joined = try await GroupTest.joinAll(coordinator, [GroupTest.request(session: 3_000, rebalance: 10_000),
                                                               GroupTest.request(session: 3_000, rebalance: 10_000)], clock: clock)
        let leader = try #require(joined.first { !$0.members.isEmpty })
        let follower = try #require(joined.first { $0.members.isEmpty })
        let parked = Task { await coordinator.sync(groupId: "g", generationId: follower.generationId, memberId: follower.memberId,
                                                   groupInstanceId: nil, protocolType: nil, protocolName: nil, assignments: [:]) }
        #expect(await GroupTest.eventually { coordinator.isAwaitingSync(groupId: "g", memberId: follower.memberId) },
                "the follower's SyncGroup parks")
        // The leader takes 6 s (two sessions) to assign, heartbeating meanwhile; the parked
        // follower is kept in all that time.
        for _ in 0..<6 {
            GroupTest.advance(coordinator, clock, ms: 1_000)
            #expect(coordinator.heartbeat(groupId: "g", generationId: leader.generationId, memberId: leader.memberId, groupInstanceId: nil) == .none)
        }
        #expect(coordinator.isAwaitingSync(groupId: "g", memberId: follower.memberId))
        _ = try await GroupTest.sync(coordinator, leader, assignments: GroupTest.roundRobin(leader.members, partitions: 2))
        #expect(try await GroupTest.answer { await parked.value }.error == .none)
        // Its last sign of life was the join, 6 s ago: only a session restarted with the answer
        // keeps it in for another 3 s...
        GroupTest.advance(coordinator, clock, ms: 3_000)
        #expect(coordinator.heartbeat(groupId: "g", generationId: follower.generationId, memberId: follower.memberId, groupInstanceId: nil) == .none)
        // ...after which, silent, it is expelled like any member.
        GroupTest.advance(coordinator, clock, ms: 3_001)
        #expect(coordinator.heartbeat(groupId: "g", generationId: follower.generationId, memberId: follower.memberId, groupInstanceId: nil)
            == .unknownMemberId)
    }

    @Test func aJoinWithAnUnknownMemberIdCreatesNoGroup() async throws {
        let coordinator = GroupTest.coordinator()
        defer { coordinator.shutdown() }
        #expect(try await GroupTest.answer { await coordinator.join(GroupTest.request("nobody", group: "phantom")) }.error == .unknownMemberId)
        #expect(coordinator.listGroups().isEmpty)
        #expect(coordinator.describe(groupId: "phantom").state == .dead)
    }

    @Test func atMaxGroupsAnEmptyGroupMakesRoom() async throws {
        let coordinator = GroupTest.coordinator { $0.maxGroups = 1 }
        defer { coordinator.shutdown() }
        let joined = try await GroupTest.answer { await coordinator.join(GroupTest.request(group: "a", requireKnownMemberId: false)) }
        #expect(try await GroupTest.answer { await coordinator.join(GroupTest.request(group: "b")) }.error == .coordinatorNotAvailable)
        _ = coordinator.leave(groupId: "a", memberIds: [joined.memberId])
        #expect(coordinator.describe(groupId: "a").state == .empty, "an empty group stays listed until room is needed")
        #expect(try await GroupTest.answer { await coordinator.join(GroupTest.request(group: "b")) }.error == .memberIdRequired)
        #expect(coordinator.listGroups().map(\.groupId) == ["b"])
        // "b" has an id outstanding, so it is not idle: a third group is refused.
        #expect(try await GroupTest.answer { await coordinator.join(GroupTest.request(group: "c")) }.error == .coordinatorNotAvailable)
    }

    @Test func joinsAndSyncsRacingShutdownAreAllAnswered() async throws {
        // shutdown() may run between a request's first check and its taking the lock; the request
        // must then be refused, not parked where nothing will answer it.
        for round in 0..<200 {
            let coordinator = GroupTest.coordinator { $0.initialRebalanceDelayMs = 5_000 }
            let requests = (0..<4).map { GroupTest.request(group: "g\($0)", requireKnownMemberId: false) }
            let joins = requests.map { request in Task { await coordinator.join(request) } }
            if round % 2 == 1 { await Task.yield() }
            coordinator.shutdown()
            for join in joins {
                let answered = try await GroupTest.answer(GroupTest.answerWaitMs, "JoinGroup answer in round \(round)") { await join.value }
                #expect(answered.error == .coordinatorNotAvailable)
            }
        }
    }
}
