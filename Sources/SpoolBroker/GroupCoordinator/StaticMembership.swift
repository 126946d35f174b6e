import SpoolFormat

/// Static membership (KIP-345, `group.instance.id`) as Kafka's classic groups do it: a member that
/// names an instance id keeps its place across restarts. Rejoining with an unknown member id, it
/// takes over its old place under a new member id (the old id is fenced) and, in a stable group,
/// gets its previous assignment back without a rebalance. It does not leave when it goes away
/// quietly: only its session timeout or a LeaveGroup naming its instance id removes it.
///
/// Like the rest of `ClassicGroup`, these run under the coordinator's lock and return wake-ups as
/// effects to run after it is released.
extension ClassicGroup {
    /// The member holding `groupInstanceId`, if any. At most one member holds an instance id:
    /// a new static member is only added when none does, and a rejoin replaces the holder.
    func staticMember(_ groupInstanceId: String) -> GroupMember? {
        members.first { $0.groupInstanceId == groupInstanceId }
    }

    /// Kafka's `validateCurrentMember`: with an instance id, it must be held, and by `memberId`
    /// (FENCED_INSTANCE_ID when another member id holds it now, UNKNOWN_MEMBER_ID when nobody
    /// does); without one, `memberId` must be a member. Nil when the request may proceed.
    func validateCurrentMember(_ memberId: String, groupInstanceId: String?) -> KafkaErrorCode? {
        if let groupInstanceId {
            guard let holder = staticMember(groupInstanceId) else { return .unknownMemberId }
            return holder.memberId == memberId ? nil : .fencedInstanceId
        }
        return member(memberId) == nil ? .unknownMemberId : nil
    }

    /// Gives a static member a new member id. Whoever still waits under the old id (a duplicate
    /// instance, or the member's own earlier incarnation) is answered FENCED_INSTANCE_ID, and
    /// every later request with the old id and this instance id is fenced too.
    func replaceStaticMember(_ member: GroupMember, newMemberId: String) -> [Effect] {
        precondition(member.groupInstanceId != nil, "only static members are replaced")
        let oldMemberId = member.memberId
        var effects: [Effect] = []
        if let join = member.pendingJoin {
            member.pendingJoin = nil
            effects.append { join.resume(returning: .failure(.fencedInstanceId, memberId: oldMemberId)) }
        }
        if let sync = member.pendingSync {
            member.pendingSync = nil
            effects.append { sync.resume(returning: .failure(.fencedInstanceId)) }
        }
        member.memberId = newMemberId
        if pendingSyncMembers.remove(oldMemberId) != nil { pendingSyncMembers.insert(newMemberId) }
        if leaderId == oldMemberId { leaderId = newMemberId }
        return effects
    }

    /// A known static member joins with an unknown member id (Kafka's
    /// `updateStaticMemberAndRebalance`): it is replaced under `newMemberId` and its protocols and
    /// timeouts updated. In a stable group whose chosen protocol would not change it is answered
    /// at once with the current generation, and its SyncGroup gets its stored assignment: no
    /// rebalance. Before JoinGroup v9 the answer names the previous leader id, so that a rejoining
    /// leader does not compute an assignment a stable group would not hand out; from v9 a leader
    /// gets the member list with `skipAssignment`. Otherwise the member waits in a join phase: a
    /// completing rebalance starts over (the leader may have assigned to the old id), and one
    /// being prepared just counts it as rejoined.
    func rejoinStaticMember(_ member: GroupMember, newMemberId: String, request: JoinGroupRequest,
                            continuation: CheckedContinuation<JoinGroupResponse, Never>,
                            now: UInt64) -> (immediate: JoinGroupResponse?, effects: [Effect]) {
        let previousLeader = leaderId
        var effects = replaceStaticMember(member, newMemberId: newMemberId)
        member.lastSeenNs = now
        member.sessionTimeoutMs = request.sessionTimeoutMs
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
        member.protocols = request.protocols
        switch state {
        case .stable where chooseProtocol() == protocolName:
            let isLeader = leaderId == newMemberId
            if request.supportsSkippingAssignment {
                var response = currentJoinResponse(for: member)
                response.skipAssignment = isLeader
                return (response, effects)
            }
            return (JoinGroupResponse(error: .none, generationId: generation, protocolType: protocolType, protocolName: protocolName,
                                      leaderId: previousLeader ?? "", memberId: newMemberId, members: []), effects)
        case .stable, .completingRebalance, .empty, .dead:
            // A group holding a member is never empty or dead; should it be, a rebalance is the safe answer.
            member.pendingJoin = continuation
            effects += prepareRebalance(now: now)
        case .preparingRebalance:
            member.pendingJoin = continuation
            effects += completeJoinIfReady(now: now)
        }
        return (nil, effects)
    }
}
