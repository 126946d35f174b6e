import Foundation
import SpoolBroker
import SpoolFormat
import Testing

@Suite struct GroupCoordinatorTests {
    static func coordinator() -> GroupCoordinator {
        var limits = GroupCoordinator.Limits()
        limits.sessionTimeoutMinMs = 50
        limits.tickMs = 10
        limits.initialRebalanceDelayMs = 100
        return GroupCoordinator(limits: limits)
    }

    static func request(_ memberId: String = "", group: String = "g", session: Int = 10_000, rebalance: Int = 5_000,
                        protocols: [GroupProtocol] = [GroupProtocol(name: "range", metadata: ConsumerProtocol.encode(.init(topics: ["jobs"])))],
                        type: String = "consumer") -> JoinGroupRequest {
        JoinGroupRequest(groupId: group, memberId: memberId, clientId: "test", clientHost: "127.0.0.1", sessionTimeoutMs: session,
                         rebalanceTimeoutMs: rebalance, protocolType: type, protocols: protocols, requireKnownMemberId: true)
    }

    /// The two-step join: MEMBER_ID_REQUIRED, then a join with that id.
    static func join(_ coordinator: GroupCoordinator, _ request: JoinGroupRequest) async -> JoinGroupResponse {
        var request = request
        let first = await coordinator.join(request)
        guard first.error == .memberIdRequired else { return first }
        request.memberId = first.memberId
        return await coordinator.join(request)
    }

    /// Round robin of `partitions` over the members, as a leader client would compute it.
    static func assign(_ members: [JoinedMember], partitions: Int) -> [String: [UInt8]] {
        let ids = members.map(\.memberId).sorted()
        var owned: [String: [Int32]] = [:]
        for partition in 0..<partitions { owned[ids[partition % ids.count], default: []].append(Int32(partition)) }
        return Dictionary(uniqueKeysWithValues: ids.map { ($0, ConsumerProtocol.encode(.init(partitions: [("jobs", owned[$0] ?? [])]))) })
    }

    static func partitions(_ assignment: [UInt8]) throws -> [Int32] {
        try ConsumerProtocol.decodeAssignment(assignment).partitions.flatMap(\.partitions)
    }

    /// Joins and syncs every member (the leader assigning round robin); returns member → partitions.
    static func rebalance(_ coordinator: GroupCoordinator, members: [String], partitions: Int, session: Int = 10_000,
                          rebalanceTimeout: Int = 5_000) async throws -> (Int32, [String: [Int32]]) {
        let joined = await withTaskGroup(of: JoinGroupResponse.self) { group in
            for member in members { group.addTask { await join(coordinator, request(member, session: session, rebalance: rebalanceTimeout)) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(joined.allSatisfy { $0.error == .none }, "\(joined.map(\.error))")
        let generation = joined[0].generationId
        #expect(joined.allSatisfy { $0.generationId == generation })
        let leaders = joined.filter { !$0.members.isEmpty }
        try #require(leaders.count == 1, "exactly one member is told it leads")
        let leader = leaders[0]
        #expect(joined.allSatisfy { $0.leaderId == leader.memberId })
        let assignments = assign(leader.members, partitions: partitions)
        let synced = await withTaskGroup(of: (String, SyncGroupResponse).self) { group in
            for response in joined where response.memberId != leader.memberId {
                group.addTask { (response.memberId, await coordinator.sync(groupId: "g", generationId: generation, memberId: response.memberId,
                                                                            groupInstanceId: nil, protocolType: "consumer", protocolName: "range", assignments: [:])) }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(20))  // followers sync first and wait for the leader
                return (leader.memberId, await coordinator.sync(groupId: "g", generationId: generation, memberId: leader.memberId, groupInstanceId: nil,
                                                                protocolType: "consumer", protocolName: "range", assignments: assignments))
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var owned: [String: [Int32]] = [:]
        for (member, response) in synced {
            #expect(response.error == .none)
            owned[member] = try Self.partitions(response.assignment)
        }
        return (generation, owned)
    }

    @Test func threeMembersShareThePartitionsAndRebalanceWhenOneLeaves() async throws {
        let coordinator = Self.coordinator()
        defer { coordinator.shutdown() }
        let (generation, owned) = try await Self.rebalance(coordinator, members: ["", "", ""], partitions: 6)
        #expect(owned.count == 3)
        #expect(owned.values.flatMap { $0 }.sorted() == [0, 1, 2, 3, 4, 5], "disjoint and covering")
        #expect(owned.values.allSatisfy { $0.count == 2 })
        #expect(coordinator.describe(groupId: "g").state == .stable)

        let leaving = owned.keys.sorted()[0]
        let staying = owned.keys.sorted().dropFirst()
        #expect(coordinator.leave(groupId: "g", memberIds: [leaving]).members[leaving] == KafkaErrorCode.none)
        for member in staying {
            #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: member, groupInstanceId: nil) == .rebalanceInProgress)
        }
        let (next, reowned) = try await Self.rebalance(coordinator, members: Array(staying), partitions: 6)
        #expect(next == generation + 1)
        #expect(Set(reowned.keys) == Set(staying))
        #expect(reowned.values.flatMap { $0 }.sorted() == [0, 1, 2, 3, 4, 5])
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: staying.first!, groupInstanceId: nil) == .illegalGeneration)
    }

    @Test func aSilentMemberIsExpelledAfterItsSessionTimeout() async throws {
        let coordinator = Self.coordinator()
        defer { coordinator.shutdown() }
        let (generation, owned) = try await Self.rebalance(coordinator, members: ["", ""], partitions: 4, session: 300)
        let ids = owned.keys.sorted()
        // Only the first keeps heartbeating.
        var expelled = false
        for _ in 0..<100 where !expelled {
            try await Task.sleep(for: .milliseconds(50))
            expelled = coordinator.heartbeat(groupId: "g", generationId: generation, memberId: ids[0], groupInstanceId: nil) == .rebalanceInProgress
        }
        #expect(expelled, "the survivor is told to rejoin")
        #expect(coordinator.describe(groupId: "g").members.map(\.memberId) == [ids[0]])
        let (_, reowned) = try await Self.rebalance(coordinator, members: [ids[0]], partitions: 4, session: 300)
        #expect(reowned == [ids[0]: [0, 1, 2, 3]])
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: ids[1], groupInstanceId: nil) == .unknownMemberId)
    }

    @Test func aMemberThatDoesNotRejoinIsDroppedWhenTheRebalanceTimesOut() async throws {
        let coordinator = Self.coordinator()
        defer { coordinator.shutdown() }
        let (_, owned) = try await Self.rebalance(coordinator, members: ["", ""], partitions: 2, rebalanceTimeout: 300)
        let ids = owned.keys.sorted()
        // A newcomer triggers a rebalance; of the old members only ids[0] rejoins (rebalance timeout 300 ms).
        async let newcomer = Self.join(coordinator, Self.request(rebalance: 300))
        try await Task.sleep(for: .milliseconds(50))
        let rejoined = await coordinator.join(Self.request(ids[0], rebalance: 300))
        let joined = await newcomer
        #expect(rejoined.error == .none && joined.error == .none)
        #expect(rejoined.generationId == joined.generationId)
        let members = coordinator.describe(groupId: "g").members.map(\.memberId)
        #expect(members.count == 2)
        #expect(!members.contains(ids[1]), "the member that never rejoined is gone")
    }

    @Test func errorsUseKafkasCodes() async throws {
        let coordinator = Self.coordinator()
        defer { coordinator.shutdown() }
        #expect(await coordinator.join(Self.request(group: "")).error == .invalidGroupId)
        #expect(await coordinator.join(Self.request(session: 10)).error == .invalidSessionTimeout)
        #expect(await coordinator.join(Self.request(protocols: [])).error == .inconsistentGroupProtocol)
        #expect(await coordinator.join(Self.request("nobody")).error == .unknownMemberId)
        let (generation, owned) = try await Self.rebalance(coordinator, members: [""], partitions: 1)
        let member = try #require(owned.keys.first)
        #expect(await Self.join(coordinator, Self.request(type: "connect")).error == .inconsistentGroupProtocol)
        #expect(await Self.join(coordinator, Self.request(protocols: [GroupProtocol(name: "sticky", metadata: [])])).error == .inconsistentGroupProtocol)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation - 1, memberId: member, groupInstanceId: nil) == .illegalGeneration)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: "ghost", groupInstanceId: nil) == .unknownMemberId)
        #expect(coordinator.heartbeat(groupId: "other", generationId: 1, memberId: member, groupInstanceId: nil) == .unknownMemberId)
        let staleSync = await coordinator.sync(groupId: "g", generationId: generation + 5, memberId: member, groupInstanceId: nil,
                                               protocolType: nil, protocolName: nil, assignments: [:])
        #expect(staleSync.error == .illegalGeneration)
        #expect(coordinator.heartbeat(groupId: "g", generationId: generation, memberId: member, groupInstanceId: nil) == .none)
        #expect(coordinator.leave(groupId: "g", memberIds: ["ghost"]).members["ghost"] == .unknownMemberId)
    }

    @Test func offsetCommitsAreCheckedAgainstTheGroup() async throws {
        let coordinator = Self.coordinator()
        defer { coordinator.shutdown() }
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: -1, memberId: "") == .none, "standalone commit, no group")
        let (generation, owned) = try await Self.rebalance(coordinator, members: [""], partitions: 1)
        let member = try #require(owned.keys.first)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: generation, memberId: member) == .none)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: -1, memberId: "") == .illegalGeneration, "the group has members")
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: generation - 1, memberId: member) == .illegalGeneration)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: generation, memberId: "ghost") == .unknownMemberId)
        #expect(coordinator.validateOffsetCommit(groupId: "", generationId: -1, memberId: "") == .invalidGroupId)
        _ = coordinator.leave(groupId: "g", memberIds: [member])
        #expect(coordinator.describe(groupId: "g").state == .empty)
        #expect(coordinator.validateOffsetCommit(groupId: "g", generationId: -1, memberId: "") == .none, "empty again")
    }

    @Test func listAndShutdown() async throws {
        let coordinator = Self.coordinator()
        _ = try await Self.rebalance(coordinator, members: [""], partitions: 1)
        #expect(coordinator.listGroups().map { "\($0.groupId) \($0.protocolType) \($0.state)" } == ["g consumer stable"])
        #expect(coordinator.describe(groupId: "unknown").state == .dead)
        // A join parked in a rebalance is answered when the coordinator shuts down.
        async let parked = Self.join(coordinator, Self.request())
        try await Task.sleep(for: .milliseconds(50))
        coordinator.shutdown()
        #expect(await parked.error == .coordinatorNotAvailable)
        #expect(await coordinator.join(Self.request()).error == .coordinatorNotAvailable)
    }
}
