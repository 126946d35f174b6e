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
