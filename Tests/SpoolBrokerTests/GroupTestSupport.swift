import Foundation
@testable import SpoolBroker
import SpoolFormat
import Synchronization
import Testing

/// Helpers for `GroupCoordinatorTests`: a coordinator with small timeouts, JoinGroup requests, the
/// two-step join, a leader's round-robin assignment, and waits that are always bounded in time.
enum GroupTest {
    /// The longest a test waits for any one answer. A parked join or sync that is never answered
    /// fails the test after this long instead of hanging the run. Generous, because a loaded
    /// machine can leave a task waiting seconds to run; only a failing test ever waits this long.
    static let answerWaitMs = 30_000
    static let topic = "jobs"

    /// A coordinator with small timeouts: sessions down to 50 ms, deadlines checked every 10 ms,
    /// and a 250 ms initial rebalance delay. With `clock` its deadlines pass only when the test
    /// moves that clock (`advance`); without, they run on the machine's monotonic clock.
    static func coordinator(clock: ManualClock? = nil,
                            _ configure: (inout GroupCoordinator.Limits) -> Void = { _ in }) -> GroupCoordinator {
        var limits = GroupCoordinator.Limits()
        limits.sessionTimeoutMinMs = 50
        limits.tickMs = 10
        limits.initialRebalanceDelayMs = 250
        configure(&limits)
        guard let clock else { return GroupCoordinator(limits: limits) }
        return GroupCoordinator(limits: limits, clock: { clock.now })
    }

    /// Moves `clock` on by `ms` and runs a deadline check, so that whatever falls due by then has
    /// happened when this returns (the coordinator's timer may run checks too; they see the same time).
    static func advance(_ coordinator: GroupCoordinator, _ clock: ManualClock, ms: Int) {
        clock.advance(ms: ms)
        coordinator.tick()
    }

    /// How many of `group`'s members have a JoinGroup parked.
    static func parkedJoins(_ coordinator: GroupCoordinator, group: String = "g") -> Int {
        coordinator.describe(groupId: group).members.filter { coordinator.isAwaitingJoin(groupId: group, memberId: $0.memberId) }.count
    }

    static func subscription(_ topics: [String] = [topic]) -> [UInt8] { ConsumerProtocol.encode(.init(topics: topics)) }

    static func request(_ memberId: String = "", group: String = "g", client: String = "test", session: Int = 10_000,
                        rebalance: Int = 5_000, protocols: [GroupProtocol]? = nil, type: String = "consumer",
                        requireKnownMemberId: Bool = true, instance: String? = nil, skipAssignment: Bool = false) -> JoinGroupRequest {
        JoinGroupRequest(groupId: group, memberId: memberId, groupInstanceId: instance, clientId: client, clientHost: "127.0.0.1",
                         sessionTimeoutMs: session, rebalanceTimeoutMs: rebalance, protocolType: type,
                         protocols: protocols ?? [GroupProtocol(name: "range", metadata: subscription())],
                         requireKnownMemberId: requireKnownMemberId, supportsSkippingAssignment: skipAssignment)
    }

    /// `operation`'s result, or nil when it takes longer than `ms`. An operation still parked
    /// then is left running: the test's `coordinator.shutdown()` answers it.
    static func within<T: Sendable>(_ ms: Int = answerWaitMs, _ operation: @escaping @Sendable () async -> T) async -> T? {
        let (stream, continuation) = AsyncStream<T>.makeStream(bufferingPolicy: .bufferingNewest(1))
        Task {
            continuation.yield(await operation())
            continuation.finish()
        }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(ms))
            continuation.finish()
        }
        defer { timer.cancel() }
        for await value in stream { return value }
        return nil
    }

    /// `operation`'s result; the test fails (and this throws) when it takes longer than `ms`.
    static func answer<T: Sendable>(_ ms: Int = answerWaitMs, _ what: String = "an answer",
                                    sourceLocation: SourceLocation = #_sourceLocation,
                                    _ operation: @escaping @Sendable () async -> T) async throws -> T {
        try #require(await within(ms, operation), "no \(what) within \(ms) ms", sourceLocation: sourceLocation)
    }

    /// Polls `condition` every 5 ms until it holds or `ms` pass; returns whether it held.
    static func eventually(_ ms: Int = answerWaitMs, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(ms)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    /// The two-step join: MEMBER_ID_REQUIRED with an id, then a join with that id. Bounded in time.
    static func join(_ coordinator: GroupCoordinator, _ request: JoinGroupRequest,
                     sourceLocation: SourceLocation = #_sourceLocation) async throws -> JoinGroupResponse {
        try await answer(answerWaitMs, "JoinGroup answer", sourceLocation: sourceLocation) {
            var request = request
            let first = await coordinator.join(request)
            guard first.error == .memberIdRequired else { return first }
            request.memberId = first.memberId
            return await coordinator.join(request)
        }
    }

    static func sync(_ coordinator: GroupCoordinator, group: String = "g", _ joined: JoinGroupResponse,
                     assignments: [String: [UInt8]] = [:], sourceLocation: SourceLocation = #_sourceLocation) async throws -> SyncGroupResponse {
        try await answer(answerWaitMs, "SyncGroup answer", sourceLocation: sourceLocation) {
            await coordinator.sync(groupId: group, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: nil,
                                   protocolType: joined.protocolType, protocolName: joined.protocolName, assignments: assignments)
        }
    }

    /// Round robin of `partitions` over the members (sorted by id), as a leader client computes it.
    static func roundRobin(_ members: [JoinedMember], partitions: Int) -> [String: [UInt8]] {
        let ids = members.map(\.memberId).sorted()
        var owned: [String: [Int32]] = [:]
        for partition in 0..<partitions { owned[ids[partition % ids.count], default: []].append(Int32(partition)) }
        return Dictionary(uniqueKeysWithValues: ids.map { ($0, ConsumerProtocol.encode(.init(partitions: [(topic, owned[$0] ?? [])]))) })
    }

    static func partitions(_ assignment: [UInt8]) throws -> [Int32] {
        try ConsumerProtocol.decodeAssignment(assignment).partitions.flatMap(\.partitions)
    }

    /// Joins every member concurrently, checks that they share one generation and one leader, and
    /// returns the responses. Dynamic members joining anew ("" member id, two-step join) are handed
    /// their ids one after another first: the join phase then waits for every id handed out
    /// (Kafka's `hasAllMembersJoined`), however late the second steps arrive. With `clock`, the
    /// initial delay passes only once every join has arrived (parked or answered), so members
    /// that join directly (static ones) share a generation on a machine of any speed too.
    static func joinAll(_ coordinator: GroupCoordinator, _ requests: [JoinGroupRequest], clock: ManualClock? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) async throws -> [JoinGroupResponse] {
        var ready = requests
        for index in ready.indices where ready[index].memberId.isEmpty && ready[index].requireKnownMemberId && ready[index].groupInstanceId == nil {
            let request = ready[index]
            let first = try await answer(answerWaitMs, "MEMBER_ID_REQUIRED", sourceLocation: sourceLocation) { await coordinator.join(request) }
            try #require(first.error == .memberIdRequired, "\(first.error)", sourceLocation: sourceLocation)
            ready[index].memberId = first.memberId
        }
        let answered = Tally()
        let joins = ready.map { request in
            Task {
                let response = await coordinator.join(request)
                answered.add()
                return response
            }
        }
        if let clock, let group = ready.first?.groupId {
            let arrived = await eventually { parkedJoins(coordinator, group: group) + answered.count == ready.count }
            try #require(arrived, "every JoinGroup arrives", sourceLocation: sourceLocation)
            advance(coordinator, clock, ms: coordinator.limits.initialRebalanceDelayMs)
        }
        var joined: [JoinGroupResponse] = []
        for join in joins {
            joined.append(try await answer(answerWaitMs, "JoinGroup answer", sourceLocation: sourceLocation) { await join.value })
        }
        try #require(joined.allSatisfy { $0.error == .none }, "\(joined.map(\.error))", sourceLocation: sourceLocation)
        #expect(Set(joined.map(\.generationId)).count == 1, "one generation", sourceLocation: sourceLocation)
        #expect(Set(joined.map(\.leaderId)).count == 1, "one leader", sourceLocation: sourceLocation)
        try #require(joined.filter { !$0.members.isEmpty }.count == 1, "exactly one member is sent the member list",
                     sourceLocation: sourceLocation)
        return joined
    }

    /// Joins and syncs every member: followers sync first and are checked to wait for the leader,
    /// whose round-robin assignment then reaches them. Returns the generation and member → partitions.
    static func rebalance(_ coordinator: GroupCoordinator, members: [String], partitions: Int, session: Int = 10_000,
                          rebalanceTimeout: Int = 5_000, clock: ManualClock? = nil,
                          sourceLocation: SourceLocation = #_sourceLocation) async throws -> (generation: Int32, owned: [String: [Int32]]) {
        let joined = try await joinAll(coordinator, members.map { request($0, session: session, rebalance: rebalanceTimeout) },
                                       clock: clock, sourceLocation: sourceLocation)
        let leader = try #require(joined.first { !$0.members.isEmpty }, sourceLocation: sourceLocation)
        #expect(Set(leader.members.map(\.memberId)) == Set(joined.map(\.memberId)), sourceLocation: sourceLocation)
        let followers = joined.filter { $0.memberId != leader.memberId }.map { response in
            Task { await coordinator.sync(groupId: "g", generationId: response.generationId, memberId: response.memberId,
                                          groupInstanceId: nil, protocolType: "consumer", protocolName: "range", assignments: [:]) }
        }
        for follower in joined where follower.memberId != leader.memberId {
            let parked = await eventually { coordinator.isAwaitingSync(groupId: "g", memberId: follower.memberId) }
            #expect(parked, "a follower's SyncGroup waits for the leader's", sourceLocation: sourceLocation)
        }
        let leaderSync = try await sync(coordinator, leader, assignments: roundRobin(leader.members, partitions: partitions),
                                        sourceLocation: sourceLocation)
        var owned = [leader.memberId: try Self.partitions(leaderSync.assignment)]
        #expect(leaderSync.error == .none, sourceLocation: sourceLocation)
        for (response, follower) in zip(joined.filter { $0.memberId != leader.memberId }, followers) {
            let synced = try await answer(answerWaitMs, "follower SyncGroup answer", sourceLocation: sourceLocation) { await follower.value }
            #expect(synced.error == .none, sourceLocation: sourceLocation)
            owned[response.memberId] = try Self.partitions(synced.assignment)
        }
        return (leader.generationId, owned)
    }
}

/// A count shared by concurrent tasks.
final class Tally: Sendable {
    private let value = Mutex(0)

    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}
