import Foundation
import SpoolFormat

/// One member of a classic group. Lives inside the coordinator's lock.
final class GroupMember {
    /// Changes only when a static member rejoins and is given a new id (`ClassicGroup.replaceStaticMember`).
    var memberId: String
    var groupInstanceId: String?
    var clientId: String
    var clientHost: String
    var sessionTimeoutMs: Int
    var rebalanceTimeoutMs: Int
    var protocols: [GroupProtocol]
    var assignment: [UInt8] = []
    /// A JoinGroup waiting for the join phase to complete.
    var pendingJoin: CheckedContinuation<JoinGroupResponse, Never>?
    /// A SyncGroup waiting for the leader's assignment.
    var pendingSync: CheckedContinuation<SyncGroupResponse, Never>?
    /// Monotonic time of the last join, sync or heartbeat.
    var lastSeenNs: UInt64

    init(memberId: String, request: JoinGroupRequest, now: UInt64) {
        self.memberId = memberId
        groupInstanceId = request.groupInstanceId
        clientId = request.clientId
        clientHost = request.clientHost
        sessionTimeoutMs = request.sessionTimeoutMs
        rebalanceTimeoutMs = request.rebalanceTimeoutMs
        protocols = request.protocols
        lastSeenNs = now
    }

    func metadata(for protocolName: String?) -> [UInt8] {
        protocols.first { $0.name == protocolName }?.metadata ?? []
    }

    /// A member parked in a join or sync is kept alive: the rebalance timeout bounds it instead.
    func isExpired(now: UInt64) -> Bool {
        pendingJoin == nil && pendingSync == nil && now > lastSeenNs + UInt64(sessionTimeoutMs) * 1_000_000
    }
}

/// The state of one classic group: members, generation, leader, chosen protocol. Not
/// thread-safe: the coordinator's lock guards it. Methods that wake parked requests return the
/// wake-ups as effects, to run after the lock is released.
final class ClassicGroup {
    typealias Effect = @Sendable () -> Void

    /// The protocol type of Kafka consumers, whose member metadata is a `ConsumerProtocol` subscription.
    static let consumerProtocolType = "consumer"

    let groupId: String
    var state: GroupState = .empty
    var generation: Int32 = 0
    var protocolType: String?
    var protocolName: String?
    var leaderId: String?
    /// Members in the order they joined (the first is leader when there is none).
    private(set) var members: [GroupMember] = []
    /// Ids handed out with MEMBER_ID_REQUIRED, with the time they must rejoin by.
    var pendingMemberDeadlines: [String: UInt64] = [:]
    var rebalanceDeadlineNs: UInt64?
    /// Members of this generation that have not sent SyncGroup yet, and when they must have
    /// (a rebalance timeout after the join phase ended): past it they are removed and the group
    /// rebalances, as Kafka's coordinator does (`onExpirePendingSync`), so a leader that never
    /// assigns cannot keep its followers parked, nor a follower its partitions, for ever.
    var pendingSyncMembers: Set<String> = []
    var syncDeadlineNs: UInt64?
    /// The join phase of a group that was empty does not complete before this (the initial delay).
    var joinNotBeforeNs: UInt64 = 0
    /// Topics the members of a consumer group subscribe to, as of the last completed join phase;
    /// nil when unknown (not a consumer group, or a subscription that does not parse). Kafka
    /// computes it at the same point (`GroupMetadata.initNextGeneration`), for OffsetDelete.
    var subscribedTopics: Set<String>?
    /// Commits made for the empty group from outside it (an offset reset) still being stored: no
    /// join phase completes meanwhile, so a member joining then reads the new offsets.
    var standaloneCommitsInFlight = 0

    init(groupId: String) { self.groupId = groupId }

    func member(_ id: String) -> GroupMember? { members.first { $0.memberId == id } }

    /// Empty with no member id outstanding: nothing is lost when the coordinator forgets it.
    var isIdle: Bool { state == .empty && members.isEmpty && pendingMemberDeadlines.isEmpty && standaloneCommitsInFlight == 0 }

    func add(_ member: GroupMember) { members.append(member) }

    /// Whether `protocols` share a name with every current member other than `memberId`.
    func supports(_ protocols: [GroupProtocol], replacing memberId: String) -> Bool {
        let others = members.filter { $0.memberId != memberId }
        guard !others.isEmpty else { return true }
        return protocols.contains { candidate in others.allSatisfy { member in member.protocols.contains { $0.name == candidate.name } } }
    }

    /// Removes a member, answering its parked requests with `error`.
    func remove(_ memberId: String, error: KafkaErrorCode) -> [Effect] {
        guard let index = members.firstIndex(where: { $0.memberId == memberId }) else { return [] }
        let member = members.remove(at: index)
        pendingSyncMembers.remove(memberId)
        var effects: [Effect] = []
        if let join = member.pendingJoin { effects.append { join.resume(returning: .failure(error, memberId: memberId)) } }
        if let sync = member.pendingSync { effects.append { sync.resume(returning: .failure(error)) } }
        if leaderId == memberId { leaderId = nil }
        return effects
    }

    /// Starts (or restarts) the join phase: every member must rejoin. A group that was empty keeps
    /// the phase open for `initialDelayMs` so members starting together join one generation.
    func prepareRebalance(now: UInt64, initialDelayMs: Int = 0) -> [Effect] {
        var effects: [Effect] = []
        if state == .completingRebalance {
            for member in members {
                if let sync = member.pendingSync {
                    member.pendingSync = nil
                    effects.append { sync.resume(returning: .failure(.rebalanceInProgress)) }
                }
            }
        }
        pendingSyncMembers = []
        syncDeadlineNs = nil
        if state != .preparingRebalance {
            state = .preparingRebalance
            let timeoutMs = members.map(\.rebalanceTimeoutMs).max() ?? 0
            rebalanceDeadlineNs = now + UInt64(timeoutMs) * 1_000_000
            joinNotBeforeNs = now + UInt64(min(initialDelayMs, timeoutMs)) * 1_000_000
        }
        return effects + completeJoinIfReady(now: now)
    }

    /// Completes the join phase when every member has rejoined and no id handed out with
    /// MEMBER_ID_REQUIRED is still to come back (Kafka's `hasAllMembersJoined`), so members doing
    /// the two-step join together share a generation.
    func completeJoinIfReady(now: UInt64) -> [Effect] {
        guard state == .preparingRebalance, now >= joinNotBeforeNs, pendingMemberDeadlines.isEmpty, standaloneCommitsInFlight == 0,
              members.allSatisfy({ $0.pendingJoin != nil }) else { return [] }
        return completeJoin(now: now)
    }

    /// Ends the join phase: dynamic members that did not rejoin are dropped (static ones keep
    /// their place until their session expires, as in Kafka), the generation moves on, a protocol
    /// and a leader that rejoined are chosen and every parked JoinGroup is answered. When members
    /// remain but none rejoined (static members all away), the phase stays open for another
    /// rebalance timeout instead (Kafka's `maybeElectNewJoinedLeader` failing).
    func completeJoin(now: UInt64) -> [Effect] {
        var effects: [Effect] = []
        for member in members where member.pendingJoin == nil && member.groupInstanceId == nil {
            effects += remove(member.memberId, error: .unknownMemberId)
        }
        if !members.isEmpty, !members.contains(where: { $0.pendingJoin != nil }) {
            let timeoutMs = members.map(\.rebalanceTimeoutMs).max() ?? 0
            rebalanceDeadlineNs = now + UInt64(timeoutMs) * 1_000_000
            return effects
        }
        generation += 1
        rebalanceDeadlineNs = nil
        guard !members.isEmpty else {
            state = .empty
            protocolName = nil
            leaderId = nil
            subscribedTopics = protocolType == Self.consumerProtocolType ? [] : nil
            return effects
        }
        protocolName = chooseProtocol()
        if leaderId.flatMap(member)?.pendingJoin == nil { leaderId = members.first { $0.pendingJoin != nil }?.memberId }
        subscribedTopics = computeSubscribedTopics()
        state = .completingRebalance
        pendingSyncMembers = Set(members.map(\.memberId))
        syncDeadlineNs = now + UInt64(members.map(\.rebalanceTimeoutMs).max() ?? 0) * 1_000_000
        let everyone = members.map { JoinedMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: protocolName)) }
        for member in members {
            member.assignment = []
            member.lastSeenNs = now
            guard let join = member.pendingJoin else { continue }
            member.pendingJoin = nil
            let response = currentJoinResponse(for: member, everyone: everyone)
            effects.append { join.resume(returning: response) }
        }
        return effects
    }

    /// The union of the members' subscribed topics for the chosen protocol, or nil when the group
    /// is not a consumer group or a subscription does not parse (then every topic counts as
    /// subscribed, which is Kafka's safe answer).
    private func computeSubscribedTopics() -> Set<String>? {
        guard protocolType == Self.consumerProtocolType, protocolName != nil else { return nil }
        var topics: Set<String> = []
        for member in members {
            guard let subscription = try? ConsumerProtocol.decodeSubscription(member.metadata(for: protocolName)) else { return nil }
            topics.formUnion(subscription.topics)
        }
        return topics
    }

    func currentJoinResponse(for member: GroupMember, everyone: [JoinedMember]? = nil) -> JoinGroupResponse {
        let isLeader = member.memberId == leaderId
        let list = isLeader ? (everyone ?? members.map {
            JoinedMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: protocolName))
        }) : []
        return JoinGroupResponse(error: .none, generationId: generation, protocolType: protocolType, protocolName: protocolName,
                                 leaderId: leaderId ?? "", memberId: member.memberId, members: list)
    }

    /// Each member votes for its first protocol that every member supports; most votes wins, ties
    /// going to the earlier candidate in the first member's order (as Kafka and kfake do).
    func chooseProtocol() -> String? {
        let candidates = members[0].protocols.map(\.name).filter { name in
            members.allSatisfy { member in member.protocols.contains { $0.name == name } }
        }
        var votes: [String: Int] = [:]
        for member in members {
            if let choice = member.protocols.first(where: { candidates.contains($0.name) }) { votes[choice.name, default: 0] += 1 }
        }
        var best: String?
        var bestVotes = -1
        for name in candidates where votes[name] ?? 0 > bestVotes {
            best = name
            bestVotes = votes[name] ?? 0
        }
        return best
    }

    /// Stores the leader's assignments and answers every parked SyncGroup. Every member's session
    /// restarts (as Kafka's `propagateAssignment` does): a follower parked while the leader
    /// assigned must get a whole session to send its first heartbeat.
    func completeSync(assignments: [String: [UInt8]], now: UInt64) -> [Effect] {
        state = .stable
        var effects: [Effect] = []
        for member in members {
            member.lastSeenNs = now
            member.assignment = assignments[member.memberId] ?? []
            guard let sync = member.pendingSync else { continue }
            member.pendingSync = nil
            let response = SyncGroupResponse(error: .none, protocolType: protocolType, protocolName: protocolName, assignment: member.assignment)
            effects.append { sync.resume(returning: response) }
        }
        return effects
    }

    /// After a member left or expired: the rest rebalance.
    func membershipChanged(now: UInt64) -> [Effect] {
        switch state {
        case .stable, .completingRebalance: return prepareRebalance(now: now)
        case .preparingRebalance: return members.isEmpty ? completeJoin(now: now) : completeJoinIfReady(now: now)
        case .empty, .dead: return []
        }
    }

    /// Expires silent members, forgotten MEMBER_ID_REQUIRED ids and an overdue join phase.
    func tick(now: UInt64) -> [Effect] {
        pendingMemberDeadlines = pendingMemberDeadlines.filter { $0.value > now }
        var effects: [Effect] = []
        let expired = members.filter { $0.isExpired(now: now) }
        for member in expired { effects += remove(member.memberId, error: .unknownMemberId) }
        if !expired.isEmpty { effects += membershipChanged(now: now) }
        if state == .preparingRebalance, let deadline = rebalanceDeadlineNs, now >= deadline, standaloneCommitsInFlight == 0 {
            effects += completeJoin(now: now)
        } else {
            effects += completeJoinIfReady(now: now)
        }
        if state == .completingRebalance || state == .stable, let deadline = syncDeadlineNs, now >= deadline {
            syncDeadlineNs = nil
            let missing = pendingSyncMembers
            pendingSyncMembers = []
            if !missing.isEmpty {
                for memberId in missing { effects += remove(memberId, error: .unknownMemberId) }
                effects += membershipChanged(now: now)
            }
        }
        return effects
    }
}
