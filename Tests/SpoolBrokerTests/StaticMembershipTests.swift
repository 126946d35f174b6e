import Foundation
@testable import SpoolBroker
import SpoolFormat
import Testing

/// Static membership (KIP-345, `group.instance.id`) as Kafka 3.9's classic groups do it: a
/// restarted static member takes its place back under a new member id, fencing the old one, with
/// no rebalance; it keeps its place while away until its session expires; LeaveGroup can name it
/// by instance id. Every wait is bounded (`GroupTest.answerWaitMs`).
@Suite struct StaticMembershipTests {
    /// A stable group of static members (instance ids `instances`) sharing four partitions round
    /// robin. Returns the generation, each instance's join response and each instance's partitions.
    private func stableGroup(_ coordinator: GroupCoordinator, _ clock: ManualClock, instances: [String] = ["a", "b"], session: Int = 10_000,
                             rebalance: Int = 5_000,
                             protocols: [GroupProtocol]? = nil) async throws -> (generation: Int32, joined: [String: JoinGroupResponse], owned: [String: [Int32]]) {
        let responses = try await GroupTest.joinAll(coordinator, instances.map {
            GroupTest.request(session: session, rebalance: rebalance, protocols: protocols, instance: $0)
        }, clock: clock)
        var joined: [String: JoinGroupResponse] = [:]
        for instance in instances {
            let response: JoinGroupResponse = try #require(responses.first { $0.memberId.hasPrefix("\(instance)-") })
            joined[instance] = response
        }
        let leader = try #require(responses.first { !$0.members.isEmpty })
        #expect(Set(leader.members.compactMap(\.groupInstanceId)) == Set(instances), "the leader sees every instance id")
        let followers = responses.filter { $0.memberId != leader.memberId }.map { response in
            Task { await coordinator.sync(groupId: "g", generationId: response.generationId, memberId: response.memberId, groupInstanceId: nil,
                                          protocolType: "consumer", protocolName: response.protocolName, assignments: [:]) }
        }
        let leaderSync = try await GroupTest.sync(coordinator, leader, assignments: GroupTest.roundRobin(leader.members, partitions: 4))
        #expect(leaderSync.error == .none)
        for follower in followers {
            #expect(try await GroupTest.answer { await follower.value }.error == .none)
        }
        var owned: [String: [Int32]] = [:]
        for (instance, response) in joined {
            owned[instance] = try GroupTest.partitions(try #require(coordinator.assignments(groupId: "g")[response.memberId]))
        }
        #expect(coordinator.describe(groupId: "g").state == .stable)
        return (leader.generationId, joined, owned)
    }

    private func restart(_ coordinator: GroupCoordinator, _ instance: String, session: Int = 10_000, rebalance: Int = 5_000,
                         protocols: [GroupProtocol]? = nil, skipAssignment: Bool = false) async throws -> JoinGroupResponse {
        try await GroupTest.answer {
            await coordinator.join(GroupTest.request(session: session, rebalance: rebalance, protocols: protocols, instance: instance,
                                                     skipAssignment: skipAssignment))
        }
    }

    @Test func aRestartedStaticMemberGetsItsAssignmentBackWithoutARebalance() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let (generation, joined, owned) = try await stableGroup(coordinator, clock)
        let oldB = try #require(joined["b"]).memberId
        let a = try #require(joined["a"]).memberId
        let leaderBefore = coordinator.describe(groupId: "g").leaderId

        // "b" restarts: its JoinGroup carries its instance id and no member id, and is answered at once.
        let rejoined = try await restart(coordinator, "b")
        #expect(rejoined.error == .none)
        #expect(rejoined.memberId.hasPrefix("b-") && rejoined.memberId != oldB, "a new member id")
        #expect(rejoined.generationId == generation, "the generation stays")
        #expect(rejoined.members.isEmpty && rejoined.protocolName == "range")
        #expect(rejoined.leaderId == leaderBefore, "the answer names the leader as it was")
        let described = coordinator.describe(groupId: "g")
        #expect(described.state == .stable && described.generationId == generation)
        #expect(Set(described.members.map(\.memberId)) == [a, rejoined.memberId])
        #expect(Dictionary(uniqueKeysWithValues: described.members.map { ($0.memberId, $0.groupInstanceId) }) == [a: "a", rejoined.memberId: "b"])

        let synced = try await GroupTest.answer {
            await coordinator.sync(groupId: "g", generationId: generation, memberId: rejoined.memberId, groupInstanceId: "b",
                                   protocolType: "consumer", protocolName: "range", assignments: [:])
        }
        #expect(synced.error == .none)
        #expect(try GroupTest.partitions(synced.assignment) == owned["b"], "its previous assignment")
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: a, groupInstanceId: "a") == .none, "no rebalance")
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: rejoined.memberId, groupInstanceId: "b") == .none)

        // The old member id is fenced wherever it shows up with the instance id.
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: oldB, groupInstanceId: "b") == .fencedInstanceId)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: oldB, groupInstanceId: nil) == .unknownMemberId)
        let oldSync = try await GroupTest.answer {
            await coordinator.sync(groupId: "g", generationId: generation, memberId: oldB, groupInstanceId: "b",
                                   protocolType: nil, protocolName: nil, assignments: [:])
        }
        #expect(oldSync.error == .fencedInstanceId)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: generation, memberId: oldB, groupInstanceId: "b") == .fencedInstanceId)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: generation, memberId: oldB) == .unknownMemberId)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: generation, memberId: rejoined.memberId, groupInstanceId: "b") == .none)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: generation, memberId: a, groupInstanceId: "zzz") == .unknownMemberId)
        let oldJoin = try await GroupTest.answer { await coordinator.join(GroupTest.request(oldB, instance: "b")) }
        #expect(oldJoin.error == .fencedInstanceId && oldJoin.generationId == -1)
        let oldLeave = coordinator.leave(groupId: "g", members: [LeavingMember(memberId: oldB, groupInstanceId: "b")])
        #expect(oldLeave.error == .none && oldLeave.members == [LeftMember(memberId: oldB, groupInstanceId: "b", error: .fencedInstanceId)])

        let after = coordinator.describe(groupId: "g")
        #expect(after.state == .stable && after.generationId == generation && after.members.count == 2, "fenced requests changed nothing")
    }

    @Test func aRestartedStaticLeaderIsToldItLeadsOnlyWithSkipAssignment() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let (generation, joined, owned) = try await stableGroup(coordinator, clock)
        let leaderInstance = try #require(joined.first { !$0.value.members.isEmpty }).key
        let oldLeader = try #require(joined[leaderInstance]).memberId

        // Before JoinGroup v9 the rejoined leader is handed the old leader id, so it does not assign.
        let first = try await restart(coordinator, leaderInstance)
        #expect(first.error == .none && first.generationId == generation)
        #expect(first.leaderId == oldLeader && first.leaderId != first.memberId && first.members.isEmpty && !first.skipAssignment)
        #expect(coordinator.describe(groupId: "g").leaderId == first.memberId, "the group's leader is the new member id")

        // From v9 it is told it leads, with every member, and to skip the assignment.
        let second = try await restart(coordinator, leaderInstance, skipAssignment: true)
        #expect(second.error == .none && second.generationId == generation)
        #expect(second.leaderId == second.memberId && second.skipAssignment)
        #expect(Set(second.members.compactMap(\.groupInstanceId)) == ["a", "b"])
        let synced = try await GroupTest.answer {
            await coordinator.sync(groupId: "g", generationId: generation, memberId: second.memberId, groupInstanceId: leaderInstance,
                                   protocolType: "consumer", protocolName: "range", assignments: [:])
        }
        #expect(try GroupTest.partitions(synced.assignment) == owned[leaderInstance])
        #expect(coordinator.describe(groupId: "g").state == .stable && coordinator.describe(groupId: "g").generationId == generation)
    }

    @Test func aStaticRejoinRebalancesOnlyWhenTheGroupsProtocolWouldChange() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let both = [GroupProtocol(name: "range", metadata: GroupTest.subscription()), GroupProtocol(name: "roundrobin", metadata: GroupTest.subscription())]
        let (generation, joined, _) = try await stableGroup(coordinator, clock, protocols: both)
        let a = try #require(joined["a"]).memberId
        let oldB = try #require(joined["b"]).memberId

        // A new subscription under the same protocol: Kafka keeps the group stable.
        let wider = [GroupProtocol(name: "range", metadata: GroupTest.subscription(["jobs", "other"])), both[1]]
        let unchanged = try await restart(coordinator, "b", protocols: wider)
        #expect(unchanged.error == .none && unchanged.generationId == generation)
        #expect(coordinator.describe(groupId: "g").state == .stable)

        // A protocol no other member speaks is refused, and changes nothing.
        let sticky = [GroupProtocol(name: "sticky", metadata: GroupTest.subscription())]
        #expect(try await restart(coordinator, "b", protocols: sticky).error == .inconsistentGroupProtocol)
        #expect(coordinator.describe(groupId: "g").members.map(\.memberId).contains(unchanged.memberId))

        // Only roundrobin: the group's protocol would change, so everyone rebalances.
        let roundrobin = [both[1]]
        let parked = Task { try await restart(coordinator, "b", protocols: roundrobin) }
        #expect(await GroupTest.eventually {
            coordinator.heartbeat(groupId: "g", generationId: generation, memberId: a, groupInstanceId: "a") == .rebalanceInProgress
        })
        let aRejoined = try await GroupTest.answer { await coordinator.join(GroupTest.request(a, protocols: both, instance: "a")) }
        let bRejoined = try await parked.value
        #expect(aRejoined.error == .none && bRejoined.error == .none)
        #expect(aRejoined.generationId == generation + 1 && bRejoined.generationId == generation + 1)
        #expect(aRejoined.protocolName == "roundrobin" && bRejoined.protocolName == "roundrobin")
        #expect(![oldB, unchanged.memberId].contains(bRejoined.memberId))
    }

    /// librdkafka's test 0102: a static consumer closes without LeaveGroup and comes back within
    /// its session: no rebalance. Away longer, it is removed when its session expires, not before.
    @Test func aStaticMemberAwayKeepsItsPlaceUntilItsSessionExpires() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let (generation, joined, owned) = try await stableGroup(coordinator, clock, session: 3_000)
        let a = try #require(joined["a"]).memberId
        // "b" is gone for a second (no LeaveGroup) while "a" heartbeats.
        GroupTest.advance(coordinator, clock, ms: 1_000)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: a, groupInstanceId: "a") == .none)
        let back = try await restart(coordinator, "b", session: 3_000)
        #expect(back.error == .none && back.generationId == generation, "back within its session: no rebalance")
        let synced = try await GroupTest.answer {
            await coordinator.sync(groupId: "g", generationId: generation, memberId: back.memberId, groupInstanceId: "b",
                                   protocolType: nil, protocolName: nil, assignments: [:])
        }
        #expect(try GroupTest.partitions(synced.assignment) == owned["b"])

        // Now "b" goes away for good: "a" sees the rebalance only once b's session has run out.
        GroupTest.advance(coordinator, clock, ms: 2_000)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: a, groupInstanceId: "a") == .none)
        GroupTest.advance(coordinator, clock, ms: 1_000)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: a, groupInstanceId: "a") == .none,
                "b keeps its place until its session has run out")
        #expect(coordinator.describe(groupId: "g").members.count == 2)
        GroupTest.advance(coordinator, clock, ms: 1)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: a, groupInstanceId: "a") == .rebalanceInProgress)
        let alone = try await GroupTest.join(coordinator, GroupTest.request(a, session: 3_000, instance: "a"))
        #expect(alone.error == .none && alone.generationId == generation + 1, "\(alone.error) generation \(alone.generationId)")
        #expect(alone.members.map(\.groupInstanceId) == ["a"], "b was removed")
    }

    @Test func staticMembersThatDoNotRejoinKeepTheirPlaceThroughARebalanceOthersStart() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let (generation, joined, _) = try await stableGroup(coordinator, clock, rebalance: 300)
        let a = try #require(joined["a"]).memberId
        let oldB = try #require(joined["b"]).memberId
        // A dynamic member joins; "a" rejoins, "b" (away) does not. The join phase ends at the
        // rebalance timeout, with "b" kept: it is static.
        async let c = GroupTest.join(coordinator, GroupTest.request(client: "dyn", rebalance: 300))
        #expect(await GroupTest.eventually { coordinator.describe(groupId: "g").members.count == 3 })
        async let aJoin = GroupTest.join(coordinator, GroupTest.request(a, rebalance: 300, instance: "a"))
        #expect(await GroupTest.eventually { GroupTest.parkedJoins(coordinator) == 2 }, "a and the newcomer wait for b")
        GroupTest.advance(coordinator, clock, ms: 299)
        #expect(GroupTest.parkedJoins(coordinator) == 2, "the phase stays open for the whole rebalance timeout")
        GroupTest.advance(coordinator, clock, ms: 1)
        let aJoined = try await aJoin
        let cJoined = try await c
        #expect(aJoined.generationId == generation + 1 && cJoined.generationId == generation + 1)
        let leader = try #require([aJoined, cJoined].first { !$0.members.isEmpty })
        #expect(leader.leaderId == leader.memberId && leader.leaderId != oldB, "the leader is a member that rejoined")
        #expect(Set(leader.members.map(\.memberId)) == [a, cJoined.memberId, oldB])
        let described = coordinator.describe(groupId: "g")
        #expect(Set(described.members.map(\.groupInstanceId)) == ["a", "b", nil])

        let assignments = GroupTest.roundRobin(leader.members, partitions: 6)
        let follower = try #require([aJoined, cJoined].first { $0.memberId != leader.memberId })
        let followerSync = Task { try await GroupTest.sync(coordinator, follower) }
        _ = try await GroupTest.sync(coordinator, leader, assignments: assignments)
        _ = try await followerSync.value
        #expect(coordinator.describe(groupId: "g").state == .stable)

        // "b" comes back and gets what the leader gave its place.
        let back = try await restart(coordinator, "b", rebalance: 300)
        #expect(back.error == .none && back.generationId == generation + 1)
        let synced = try await GroupTest.answer {
            await coordinator.sync(groupId: "g", generationId: back.generationId, memberId: back.memberId, groupInstanceId: "b",
                                   protocolType: nil, protocolName: nil, assignments: [:])
        }
        #expect(synced.assignment == assignments[oldB])
        #expect(coordinator.describe(groupId: "g").generationId == generation + 1)
    }

    @Test func leaveGroupNamesStaticMembersByInstanceId() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let (generation, joined, _) = try await stableGroup(coordinator, clock, instances: ["a", "b", "c"])
        let a = try #require(joined["a"]).memberId
        let c = try #require(joined["c"]).memberId
        let left = coordinator.leave(groupId: "g", members: [
            LeavingMember(memberId: "", groupInstanceId: "b"),
            LeavingMember(memberId: "", groupInstanceId: "zzz"),
            LeavingMember(memberId: ""),
            LeavingMember(memberId: "wrong-id", groupInstanceId: "a"),
            LeavingMember(memberId: a, groupInstanceId: "c"),
            LeavingMember(memberId: "", groupInstanceId: "b"),
        ])
        #expect(left.error == .none)
        #expect(left.members.map(\.error) == [.none, .unknownMemberId, .unknownMemberId, .fencedInstanceId, .fencedInstanceId, .unknownMemberId])
        #expect(left.members.map(\.groupInstanceId) == ["b", "zzz", nil, "a", "c", "b"], "answered in request order")
        #expect(Set(coordinator.describe(groupId: "g").members.map(\.memberId)) == [a, c])
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: a, groupInstanceId: "a") == .rebalanceInProgress)

        let both = coordinator.leave(groupId: "g", members: [LeavingMember(memberId: a, groupInstanceId: "a"), LeavingMember(memberId: c)])
        #expect(both.members.map(\.error) == [.none, .none])
        #expect(coordinator.describe(groupId: "g").state == .empty)
        let unknownGroup = coordinator.leave(groupId: "nope", members: [LeavingMember(memberId: "", groupInstanceId: "a")])
        #expect(unknownGroup.members == [LeftMember(memberId: "", groupInstanceId: "a", error: .unknownMemberId)])
    }

    @Test func aDuplicateInstanceWaitingInAJoinPhaseIsFenced() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let (generation, joined, _) = try await stableGroup(coordinator, clock)
        let oldA = try #require(joined["a"]).memberId
        let b = try #require(joined["b"]).memberId
        // A newcomer starts a rebalance; the old "a" rejoins and waits for "b".
        let newcomer = Task { try await GroupTest.join(coordinator, GroupTest.request(client: "dyn")) }
        #expect(await GroupTest.eventually { coordinator.describe(groupId: "g").members.count == 3 })
        let oldJoin = Task { try await GroupTest.answer { await coordinator.join(GroupTest.request(oldA, instance: "a")) } }
        #expect(await GroupTest.eventually { coordinator.isAwaitingJoin(groupId: "g", memberId: oldA) })
        // A second process with the same instance id joins: the first is fenced at once.
        let replacement = Task { try await restart(coordinator, "a") }
        #expect(try await oldJoin.value.error == .fencedInstanceId)
        let bJoined = try await GroupTest.join(coordinator, GroupTest.request(b, instance: "b"))
        let newA = try await replacement.value
        let dynamic = try await newcomer.value
        #expect([bJoined, newA, dynamic].map(\.generationId) == Array(repeating: generation + 1, count: 3))
        #expect(newA.memberId.hasPrefix("a-") && newA.memberId != oldA)
        #expect(Set(coordinator.describe(groupId: "g").members.map(\.memberId)) == [newA.memberId, b, dynamic.memberId])
    }

    @Test func aJoinPhaseNoMemberRejoinedStaysOpenForTheStaticMembers() async throws {
        let clock = ManualClock()
        let coordinator = GroupTest.coordinator(clock: clock)
        defer { coordinator.shutdown() }
        let (generation, joined, _) = try await stableGroup(coordinator, clock, instances: ["a", "b", "c"], rebalance: 200)
        let a = try #require(joined["a"]).memberId
        // "c" leaves, which starts a rebalance; "a" and "b" remain and neither has rejoined.
        let left = coordinator.leave(groupId: "g", members: [LeavingMember(memberId: "", groupInstanceId: "c")])
        #expect(left.members.map(\.error) == [.none])
        // Past the rebalance timeout, a deadline check keeps the phase open (Kafka waits another
        // rebalance timeout) rather than starting a generation nobody joined.
        GroupTest.advance(coordinator, clock, ms: 200)
        let waiting = coordinator.describe(groupId: "g")
        #expect(waiting.state == .preparingRebalance && waiting.generationId == generation && waiting.members.count == 2)
        // "a" rejoins; "b" stays away, so the phase ends at the timeout with "a" leading and "b" kept.
        async let aJoin = GroupTest.join(coordinator, GroupTest.request(a, rebalance: 200, instance: "a"))
        #expect(await GroupTest.eventually { coordinator.isAwaitingJoin(groupId: "g", memberId: a) })
        GroupTest.advance(coordinator, clock, ms: 200)
        let aJoined = try await aJoin
        #expect(aJoined.error == .none && aJoined.generationId == generation + 1 && aJoined.leaderId == a)
        #expect(Set(aJoined.members.compactMap(\.groupInstanceId)) == ["a", "b"])
    }
}
