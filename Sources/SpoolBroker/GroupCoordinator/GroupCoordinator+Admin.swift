import SpoolFormat

/// What the coordinator says about a group when an administrator deletes it or its offsets
/// (DeleteGroups, OffsetDelete). Committed offsets are the broker's; these only answer for the
/// membership side.
extension GroupCoordinator {
    /// The membership side of a group, for OffsetDelete.
    enum Activity: Equatable {
        /// The coordinator does not know the group (it may still have committed offsets).
        case unknown
        /// Known, with no members.
        case empty
        /// A consumer group with members, subscribed to these topics as of its last completed
        /// join phase; nil when that is not known, so that every topic counts as subscribed.
        case consuming(subscribedTopics: Set<String>?)
        /// Members of another protocol type, whose metadata the broker cannot read.
        case activeOther
    }

    /// What the group is doing, as Kafka's `handleDeleteOffsets` looks at it.
    func activity(groupId: String) -> Activity {
        groups.withLock { groups in
            guard let group = groups[groupId] else { return .unknown }
            if group.members.isEmpty { return .empty }
            if group.protocolType == ClassicGroup.consumerProtocolType { return .consuming(subscribedTopics: group.subscribedTopics) }
            return .activeOther
        }
    }

    /// How `forgetIfEmpty` went.
    enum Forgetting: Equatable {
        case forgotten
        case unknown
        case hasMembers
    }

    /// Forgets a group that has no members (DeleteGroups). Ids handed out with MEMBER_ID_REQUIRED
    /// go with it: they come back to UNKNOWN_MEMBER_ID, as to a deleted group in Kafka.
    func forgetIfEmpty(groupId: String) -> Forgetting {
        groups.withLock { groups in
            guard let group = groups[groupId] else { return .unknown }
            guard group.members.isEmpty else { return .hasMembers }
            groups[groupId] = nil
            return .forgotten
        }
    }
}

extension GroupCoordinator {
    /// Starts a commit made from outside the group (generation -1, no member: an offset reset,
    /// or a consumer that assigns its own partitions), accepted only while the group has no
    /// members, as Kafka's `validateOffsetCommit`. Until `endStandaloneCommit`, no join phase of
    /// the group completes, so a member that joins meanwhile is handed its partitions, and reads
    /// their offsets, only once the commit is stored: the emptiness checked here still holds when
    /// it lands. UNKNOWN_MEMBER_ID when the group has members.
    func beginStandaloneCommit(groupId: String) -> KafkaErrorCode {
        if groupId.isEmpty { return .invalidGroupId }
        return groups.withLock { groups in
            guard let group = groups[groupId] ?? makeGroup(groupId, &groups) else { return .coordinatorNotAvailable }
            guard group.members.isEmpty else { return .unknownMemberId }
            groups[groupId] = group
            group.standaloneCommitsInFlight += 1
            return .none
        }
    }

    /// Ends what `beginStandaloneCommit` started (stored or not): a join phase waiting for it
    /// may complete.
    func endStandaloneCommit(groupId: String) {
        let effects = groups.withLock { groups -> [ClassicGroup.Effect] in
            guard let group = groups[groupId], group.standaloneCommitsInFlight > 0 else { return [] }
            group.standaloneCommitsInFlight -= 1
            return group.completeJoinIfReady(now: clock())
        }
        run(effects)
    }
}

