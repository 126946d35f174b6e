import Dispatch
import Foundation
import SpoolSystem
import Synchronization
import SpoolFormat

/// Consumer groups with Kafka's classic protocol: members join, the leader's assignment is handed
/// out by SyncGroup, heartbeats keep members in, and session and rebalance timeouts drive
/// rebalances. Committed offsets are the broker's (`Broker.commitOffsets`); this type only says
/// whether a commit may be accepted.
///
/// Thread-safe. JoinGroup and SyncGroup park (as async calls) until the rebalance step they wait
/// for completes; one timer checks deadlines every `Limits.tickMs`. Nothing blocks under the lock:
/// parked requests are woken after it is released.
public final class GroupCoordinator: Sendable {
    /// Named limits on what clients may ask for.
    public struct Limits: Sendable {
        public var sessionTimeoutMinMs = 6_000
        public var sessionTimeoutMaxMs = 1_800_000
        public var maxMembersPerGroup = 1_000
        public var maxGroups = 100_000
        /// Largest member metadata (subscription) or assignment, in bytes.
        public var metadataBytesMax = 1 << 20
        /// Longest rebalance timeout taken from a JoinGroup; a longer one is taken as this. Kafka
        /// has no such bound (a Java consumer's rebalance timeout is its max.poll.interval.ms, and
        /// one dropped before it has run out has its partitions processed twice), so by default
        /// neither has Spool beyond what the wire's Int32 holds. Tests and fuzzing lower it so
        /// that no request parks for long.
        public var rebalanceTimeoutMaxMs = Int(Int32.max)
        /// How often deadlines are checked.
        public var tickMs = 100
        /// Kafka's `group.initial.rebalance.delay.ms`: when an empty group gets its first member,
        /// the join phase stays open this long (at most the rebalance timeout) so members starting
        /// together land in one generation instead of rebalancing once per member.
        public var initialRebalanceDelayMs = 3_000
        public init() {}
    }

    public let limits: Limits
    /// Every group by id. Extensions in other files (`GroupCoordinator+Admin.swift`) use it too.
    let groups = Mutex<[String: ClassicGroup]>([:])
    private let isShutDown = Atomic(false)
    private let timer: RepeatingTimer
    /// Monotonic nanoseconds, which every session, rebalance and initial-delay deadline is measured in.
    let clock: @Sendable () -> UInt64

    /// `clock` is monotonic nanoseconds; tests pass one they move by hand, so that a deadline
    /// passes when the test says and never because the machine was slow.
    public init(limits: Limits = Limits(), clock: @escaping @Sendable () -> UInt64 = monotonicNanoseconds) {
        self.limits = limits
        self.clock = clock
        timer = RepeatingTimer(queue: DispatchQueue(label: "spool.groups"), intervalMs: limits.tickMs)
        timer.start { [weak self] in self?.tick() }
    }

    func run(_ effects: [ClassicGroup.Effect]) { for effect in effects { effect() } }

    // MARK: - JoinGroup

    /// JoinGroup: parks until the join phase completes, or answers at once (an error,
    /// MEMBER_ID_REQUIRED, a follower rejoining a stable group, or a static member taking its
    /// place back in a stable group; see `StaticMembership.swift`).
    public func join(_ request: JoinGroupRequest) async -> JoinGroupResponse {
        if let error = validate(request) { return .failure(error, memberId: request.memberId) }
        var request = request
        request.rebalanceTimeoutMs = min(max(request.rebalanceTimeoutMs, 0), limits.rebalanceTimeoutMaxMs)
        return await withCheckedContinuation { (continuation: CheckedContinuation<JoinGroupResponse, Never>) in
            let (immediate, effects) = groups.withLock { groups in handleJoin(request, continuation, &groups) }
            if let immediate { continuation.resume(returning: immediate) }
            run(effects)
        }
    }

    private func validate(_ request: JoinGroupRequest) -> KafkaErrorCode? {
        if isShutDown.load(ordering: .acquiring) { return .coordinatorNotAvailable }
        if request.groupId.isEmpty { return .invalidGroupId }
        if !(limits.sessionTimeoutMinMs...limits.sessionTimeoutMaxMs).contains(request.sessionTimeoutMs) { return .invalidSessionTimeout }
        if request.protocolType.isEmpty || request.protocols.isEmpty { return .inconsistentGroupProtocol }
        if request.protocols.contains(where: { $0.metadata.count > limits.metadataBytesMax }) { return .invalidRequest }
        return nil
    }

    /// Under the lock: either an immediate answer, or the continuation parked in the group.
    private func handleJoin(_ request: JoinGroupRequest, _ continuation: CheckedContinuation<JoinGroupResponse, Never>,
                            _ groups: inout [String: ClassicGroup]) -> (JoinGroupResponse?, [ClassicGroup.Effect]) {
        // Checked again under the lock: shutdown() sweeps parked requests under it, so a join that
        // passed the first check but arrives after the sweep must not park (it would never be answered).
        if isShutDown.load(ordering: .acquiring) { return (.failure(.coordinatorNotAvailable), []) }
        let now = clock()
        // A rejoin to a group the coordinator does not know creates nothing (as in Kafka).
        if groups[request.groupId] == nil && !request.memberId.isEmpty { return (.failure(.unknownMemberId, memberId: request.memberId), []) }
        guard let group = groups[request.groupId] ?? makeGroup(request.groupId, &groups) else {
            return (.failure(.coordinatorNotAvailable), [])
        }
        groups[request.groupId] = group
        // A static member rejoining with an unknown member id stands in for its current holder.
        let holder = request.memberId.isEmpty ? request.groupInstanceId.flatMap(group.staticMember) : nil
        if !group.members.isEmpty, group.protocolType != request.protocolType
            || !group.supports(request.protocols, replacing: holder?.memberId ?? request.memberId) {
            return (.failure(.inconsistentGroupProtocol, memberId: request.memberId), [])
        }
        if let holder {
            return group.rejoinStaticMember(holder, newMemberId: newMemberId(request), request: request, continuation: continuation, now: now)
        }
        var memberId = request.memberId
        if memberId.isEmpty {
            guard group.members.count + group.pendingMemberDeadlines.count < limits.maxMembersPerGroup else {
                return (.failure(.groupMaxSizeReached), [])
            }
            memberId = newMemberId(request)
            // Static members join at once (Kafka asks only dynamic members to come back with an id).
            if request.requireKnownMemberId && request.groupInstanceId == nil {
                group.pendingMemberDeadlines[memberId] = now + UInt64(request.sessionTimeoutMs) * 1_000_000
                return (.failure(.memberIdRequired, memberId: memberId), [])
            }
        } else if request.groupInstanceId == nil, group.pendingMemberDeadlines.removeValue(forKey: memberId) != nil {
            // An id handed out with MEMBER_ID_REQUIRED comes back: the member is new. (Such ids are
            // only given to dynamic members; one coming back with an instance id is checked below
            // like any other, so two members can never hold one instance id.)
        } else if let error = group.validateCurrentMember(memberId, groupInstanceId: request.groupInstanceId) {
            return (.failure(error, memberId: memberId), [])
        }
        if group.members.isEmpty { group.protocolType = request.protocolType }

        guard let member = group.member(memberId) else {
            // A new member: it joins and everyone rebalances.
            let member = GroupMember(memberId: memberId, request: request, now: now)
            member.pendingJoin = continuation
            let wasEmpty = group.members.isEmpty
            group.add(member)
            return (nil, group.prepareRebalance(now: now, initialDelayMs: wasEmpty ? limits.initialRebalanceDelayMs : 0))
        }
        member.lastSeenNs = now
        member.sessionTimeoutMs = request.sessionTimeoutMs
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
        let protocolsChanged = member.protocols != request.protocols
        member.protocols = request.protocols
        switch group.state {
        case .preparingRebalance:
            var effects: [ClassicGroup.Effect] = []
            let id = memberId
            if let earlier = member.pendingJoin { effects.append { earlier.resume(returning: .failure(.rebalanceInProgress, memberId: id)) } }
            member.pendingJoin = continuation
            return (nil, effects + group.completeJoinIfReady(now: now))
        case .completingRebalance, .stable:
            // Kafka answers a follower that rejoins unchanged with the current generation; the
            // leader, or a member whose protocols changed, starts a rebalance.
            if !protocolsChanged && (group.state == .completingRebalance || memberId != group.leaderId) {
                return (group.currentJoinResponse(for: member), [])
            }
            member.pendingJoin = continuation
            return (nil, group.prepareRebalance(now: now))
        case .empty, .dead:
            member.pendingJoin = continuation
            return (nil, group.prepareRebalance(now: now))
        }
    }

    /// Kafka's member ids: the instance id (or else the client id) and a UUID.
    private func newMemberId(_ request: JoinGroupRequest) -> String {
        let prefix = request.groupInstanceId ?? (request.clientId.isEmpty ? "member" : request.clientId)
        return "\(prefix)-\(UUID().uuidString.lowercased())"
    }

    /// A new group, or nil at `maxGroups`. Kafka deletes empty groups (once their offsets expire);
    /// committed offsets live in the broker here, so at the limit an empty group with no
    /// outstanding member ids makes room instead of every new group being refused for good.
    func makeGroup(_ groupId: String, _ groups: inout [String: ClassicGroup]) -> ClassicGroup? {
        if groups.count >= limits.maxGroups {
            guard let idle = groups.first(where: { $0.value.isIdle })?.key else { return nil }
            groups[idle] = nil
        }
        return ClassicGroup(groupId: groupId)
    }

    // MARK: - SyncGroup

    /// SyncGroup: the leader hands in the assignment and every member gets its own. A follower
    /// waits for the leader's; in a stable group a member gets its stored assignment at once.
    /// Errors as for `heartbeat`, plus INCONSISTENT_GROUP_PROTOCOL when the protocol type or name
    /// differs from the group's.
    public func sync(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String?, protocolType: String?,
                     protocolName: String?, assignments: [String: [UInt8]]) async -> SyncGroupResponse {
        if isShutDown.load(ordering: .acquiring) { return .failure(.coordinatorNotAvailable) }
        if assignments.values.contains(where: { $0.count > limits.metadataBytesMax }) { return .failure(.invalidRequest) }
        return await withCheckedContinuation { (continuation: CheckedContinuation<SyncGroupResponse, Never>) in
            let (immediate, effects) = groups.withLock { groups -> (SyncGroupResponse?, [ClassicGroup.Effect]) in
                // Under the lock for the same reason as in handleJoin.
                if isShutDown.load(ordering: .acquiring) { return (.failure(.coordinatorNotAvailable), []) }
                guard let group = groups[groupId] else { return (.failure(.unknownMemberId), []) }
                if let error = group.validateCurrentMember(memberId, groupInstanceId: groupInstanceId) { return (.failure(error), []) }
                guard let member = group.member(memberId) else { return (.failure(.unknownMemberId), []) }
                guard generationId == group.generation else { return (.failure(.illegalGeneration), []) }
                if let protocolType, protocolType != group.protocolType { return (.failure(.inconsistentGroupProtocol), []) }
                if let protocolName, protocolName != group.protocolName { return (.failure(.inconsistentGroupProtocol), []) }
                member.lastSeenNs = clock()
                if group.state != .preparingRebalance { group.pendingSyncMembers.remove(memberId) }
                switch group.state {
                case .preparingRebalance: return (.failure(.rebalanceInProgress), [])
                case .stable:
                    return (SyncGroupResponse(error: .none, protocolType: group.protocolType, protocolName: group.protocolName,
                                              assignment: member.assignment), [])
                case .completingRebalance:
                    var effects: [ClassicGroup.Effect] = []
                    if let earlier = member.pendingSync { effects.append { earlier.resume(returning: .failure(.rebalanceInProgress)) } }
                    member.pendingSync = continuation
                    if memberId == group.leaderId { effects += group.completeSync(assignments: assignments, now: clock()) }
                    return (nil, effects)
                case .empty, .dead: return (.failure(.unknownMemberId), [])
                }
            }
            if let immediate { continuation.resume(returning: immediate) }
            run(effects)
        }
    }

    // MARK: - Heartbeat, LeaveGroup, offset commits

    /// Heartbeat: keeps a member's session alive. UNKNOWN_MEMBER_ID for an unknown group or
    /// member, FENCED_INSTANCE_ID when `groupInstanceId` is now held by another member id,
    /// ILLEGAL_GENERATION for another generation, REBALANCE_IN_PROGRESS while members must rejoin.
    public func heartbeat(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String?) -> KafkaErrorCode {
        if isShutDown.load(ordering: .acquiring) { return .coordinatorNotAvailable }
        return groups.withLock { groups in
            guard let group = groups[groupId] else { return .unknownMemberId }
            if let error = group.validateCurrentMember(memberId, groupInstanceId: groupInstanceId) { return error }
            guard let member = group.member(memberId) else { return .unknownMemberId }
            guard generationId == group.generation else { return .illegalGeneration }
            member.lastSeenNs = clock()
            return group.state == .preparingRebalance ? .rebalanceInProgress : .none
        }
    }

    /// Removes members (LeaveGroup v3+ takes several) and answers for each, in request order, as
    /// Kafka's `handleLeaveGroup` does: an empty member id with an instance id removes the static
    /// member holding it (UNKNOWN_MEMBER_ID when none does); an id handed out with
    /// MEMBER_ID_REQUIRED is forgotten; otherwise the member must be current
    /// (`validateCurrentMember`: FENCED_INSTANCE_ID when the instance id is now held by another
    /// member id, UNKNOWN_MEMBER_ID for an unknown member or instance). When a member was removed
    /// the rest rebalance at once. A member named twice is removed once; its second mention
    /// finds it gone. The top-level error is COORDINATOR_NOT_AVAILABLE after shutdown, else NONE.
    public func leave(groupId: String, members leaving: [LeavingMember]) -> (error: KafkaErrorCode, members: [LeftMember]) {
        if isShutDown.load(ordering: .acquiring) { return (.coordinatorNotAvailable, []) }
        let (results, effects) = groups.withLock { groups -> ([LeftMember], [ClassicGroup.Effect]) in
            func answer(_ member: LeavingMember, _ error: KafkaErrorCode) -> LeftMember {
                LeftMember(memberId: member.memberId, groupInstanceId: member.groupInstanceId, error: error)
            }
            guard let group = groups[groupId] else { return (leaving.map { answer($0, .unknownMemberId) }, []) }
            var results: [LeftMember] = []
            var effects: [ClassicGroup.Effect] = []
            var removedMember = false
            var forgotPending = false
            for identity in leaving {
                if identity.memberId.isEmpty {
                    guard let holder = identity.groupInstanceId.flatMap(group.staticMember) else {
                        results.append(answer(identity, .unknownMemberId))
                        continue
                    }
                    effects += group.remove(holder.memberId, error: .unknownMemberId)
                    removedMember = true
                    results.append(answer(identity, .none))
                } else if group.pendingMemberDeadlines.removeValue(forKey: identity.memberId) != nil {
                    forgotPending = true
                    results.append(answer(identity, .none))
                } else if let error = group.validateCurrentMember(identity.memberId, groupInstanceId: identity.groupInstanceId) {
                    results.append(answer(identity, error))
                } else {
                    effects += group.remove(identity.memberId, error: .unknownMemberId)
                    removedMember = true
                    results.append(answer(identity, .none))
                }
            }
            // An id that never joined leaves the generation as it was; it may only have been the
            // last thing a join phase waited for.
            if removedMember {
                effects += group.membershipChanged(now: clock())
            } else if forgotPending {
                effects += group.completeJoinIfReady(now: clock())
            }
            return (results, effects)
        }
        run(effects)
        return (.none, results)
    }

    /// LeaveGroup by member ids alone (v0-v2 name one; v3+ without instance ids). A member id
    /// listed twice is answered as its first mention was (a client may send anything: duplicates
    /// once trapped in building the answer, and took the broker down).
    public func leave(groupId: String, memberIds: [String]) -> (error: KafkaErrorCode, members: [String: KafkaErrorCode]) {
        let (error, results) = leave(groupId: groupId, members: memberIds.map { LeavingMember(memberId: $0) })
        return (error, Dictionary(results.map { ($0.memberId, $0.error) }, uniquingKeysWith: { first, _ in first }))
    }

    /// Whether an OffsetCommit with this generation and member may be stored, with the answers of
    /// Kafka's `validateOffsetCommit`: a standalone commit (generation -1, no member id, no
    /// instance id) is accepted only while the group has no members (UNKNOWN_MEMBER_ID
    /// otherwise); a member's commit needs a current member (FENCED_INSTANCE_ID when
    /// `groupInstanceId` is now held by another member id, UNKNOWN_MEMBER_ID for an unknown
    /// member or instance) and the current generation, and is refused while a rebalance completes.
    public func validateOffsetCommit(groupId: String, generationId: Int32, memberId: String,
                                     groupInstanceId: String? = nil) -> KafkaErrorCode {
        if groupId.isEmpty { return .invalidGroupId }
        return groups.withLock { groups in
            // OffsetCommit before v9 answers ILLEGAL_GENERATION for a group that does not exist.
            guard let group = groups[groupId] else { return generationId < 0 ? .none : .illegalGeneration }
            if generationId < 0 && group.members.isEmpty { return .none }
            guard generationId >= 0 || !memberId.isEmpty || groupInstanceId != nil else { return .unknownMemberId }
            if let error = group.validateCurrentMember(memberId, groupInstanceId: groupInstanceId) { return error }
            guard let member = group.member(memberId) else { return .unknownMemberId }
            guard generationId == group.generation else { return .illegalGeneration }
            if group.state == .completingRebalance { return .rebalanceInProgress }
            member.lastSeenNs = clock()
            return .none
        }
    }

    // MARK: - Inspection

    public func listGroups() -> [GroupSummary] {
        groups.withLock { groups in
            groups.values.map { GroupSummary(groupId: $0.groupId, protocolType: $0.protocolType ?? "", state: $0.state) }
                .sorted { $0.groupId < $1.groupId }
        }
    }

    /// A group's state and members; state `.dead` for a group the coordinator does not know.
    public func describe(groupId: String) -> GroupDescription {
        groups.withLock { groups in
            guard let group = groups[groupId] else {
                return GroupDescription(groupId: groupId, state: .dead, protocolType: "", protocolName: "", generationId: -1, leaderId: "", members: [])
            }
            return GroupDescription(
                groupId: groupId, state: group.state, protocolType: group.protocolType ?? "", protocolName: group.protocolName ?? "",
                generationId: group.generation, leaderId: group.leaderId ?? "",
                members: group.members.map {
                    MemberDescription(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId,
                                      clientHost: $0.clientHost, metadata: $0.metadata(for: group.protocolName), assignment: $0.assignment)
                })
        }
    }

    /// Whether `memberId` has a JoinGroup parked, waiting for the join phase to complete.
    func isAwaitingJoin(groupId: String, memberId: String) -> Bool {
        groups.withLock { $0[groupId]?.member(memberId)?.pendingJoin != nil }
    }

    /// Whether `memberId` has a SyncGroup parked, waiting for the leader's assignment.
    func isAwaitingSync(groupId: String, memberId: String) -> Bool {
        groups.withLock { $0[groupId]?.member(memberId)?.pendingSync != nil }
    }

    /// Members' current assignments (member id → assignment bytes).
    public func assignments(groupId: String) -> [String: [UInt8]] {
        groups.withLock { groups in
            Dictionary(uniqueKeysWithValues: (groups[groupId]?.members ?? []).map { ($0.memberId, $0.assignment) })
        }
    }

    /// Stops the timer and answers every parked join and sync with COORDINATOR_NOT_AVAILABLE.
    public func shutdown() {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        timer.stop()
        let effects = groups.withLock { groups -> [ClassicGroup.Effect] in
            var effects: [ClassicGroup.Effect] = []
            for group in groups.values {
                for member in group.members {
                    if let join = member.pendingJoin {
                        member.pendingJoin = nil
                        effects.append { join.resume(returning: .failure(.coordinatorNotAvailable)) }
                    }
                    if let sync = member.pendingSync {
                        member.pendingSync = nil
                        effects.append { sync.resume(returning: .failure(.coordinatorNotAvailable)) }
                    }
                }
            }
            return effects
        }
        run(effects)
    }

    /// Checks every group's deadlines; the timer calls it every `Limits.tickMs`, and tests may
    /// call it to be sure a check has run.
    func tick() {
        let now = clock()
        let effects = groups.withLock { groups in groups.values.flatMap { $0.tick(now: now) } }
        run(effects)
    }
}
