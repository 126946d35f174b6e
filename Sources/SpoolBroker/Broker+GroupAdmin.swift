import SpoolFormat

/// What OffsetDelete did: a group-level error, or an answer per partition asked about.
public struct OffsetDeleteResult: Sendable, Equatable {
    /// INVALID_GROUP_ID, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (members of a protocol other than
    /// `consumer`, whose subscriptions the broker cannot read), COORDINATOR_NOT_AVAILABLE (the
    /// broker is closed), NOT_COORDINATOR (the deletion could not be stored); NONE otherwise.
    public var error: KafkaErrorCode
    /// Empty when `error` is not NONE. Otherwise NONE (no committed offset left, whether there was
    /// one or not), GROUP_SUBSCRIBED_TO_TOPIC, or UNKNOWN_TOPIC_OR_PARTITION.
    public var partitions: [TopicPartition: KafkaErrorCode]

    public init(error: KafkaErrorCode, partitions: [TopicPartition: KafkaErrorCode] = [:]) {
        self.error = error
        self.partitions = partitions
    }
}

/// DeleteGroups (API 42) and OffsetDelete (API 47), as Kafka's group coordinator answers them.
/// A group exists for these when the coordinator knows it or it has committed offsets. Deletions
/// are appended to the offsets log and flushed before the answer, so a restart does not bring
/// the offsets back.
extension Broker {
    /// Deletes each group (duplicates answered once): NONE when it had no members (its committed
    /// offsets are deleted and it leaves ListGroups), NON_EMPTY_GROUP when it has members,
    /// GROUP_ID_NOT_FOUND when the broker knows nothing of it, INVALID_GROUP_ID for an empty or
    /// over-long id, COORDINATOR_NOT_AVAILABLE when the broker is closed, NOT_COORDINATOR when
    /// the deletion could not be stored.
    public func deleteGroups(_ groupIds: [String]) async -> [String: KafkaErrorCode] {
        var results: [String: KafkaErrorCode] = [:]
        for groupId in groupIds where results[groupId] == nil {
            results[groupId] = await deleteGroup(groupId)
        }
        return results
    }

    /// Deletes one group; answers as `deleteGroups` does.
    ///
    /// The offsets are read before the group is forgotten and deleted only where unchanged since
    /// (the topic they were committed for included), so a member that joins the group anew in
    /// between keeps what it commits, and so does a commit for a topic deleted and created again
    /// under its name meanwhile, whatever its offset.
    public func deleteGroup(_ groupId: String) async -> KafkaErrorCode {
        if let error = adminGroupError(groupId) { return error }
        let committed = offsets.stored(group: groupId, topicId: topicId)
        switch groups.forgetIfEmpty(groupId: groupId) {
        case .hasMembers: return .nonEmptyGroup
        case .unknown where committed.isEmpty: return .groupIdNotFound
        case .unknown, .forgotten: break
        }
        do {
            try await offsets.delete(ifUnchanged: Self.keyed(committed, group: groupId))
        } catch {
            return Self.coordinatorCode(error)
        }
        return .none
    }

    /// Deletes a group's committed offsets for `partitions` (Kafka's `handleDeleteOffsets`). An
    /// empty group, or one known only by its offsets, loses them all. A consumer group with members
    /// keeps those of topics it subscribes to (GROUP_SUBSCRIBED_TO_TOPIC), judged by the members'
    /// subscriptions at its last completed join phase, every topic counting when they are unknown.
    public func deleteOffsets(group: String, partitions: [TopicPartition]) async -> OffsetDeleteResult {
        if let error = adminGroupError(group) { return OffsetDeleteResult(error: error) }
        let activity = groups.activity(groupId: group)
        let committed = offsets.stored(group: group, topicId: topicId)
        switch activity {
        case .unknown where committed.isEmpty: return OffsetDeleteResult(error: .groupIdNotFound)
        case .activeOther: return OffsetDeleteResult(error: .nonEmptyGroup)
        case .unknown, .empty, .consuming: break
        }
        var answers: [TopicPartition: KafkaErrorCode] = [:]
        var deleted: [TopicPartition: OffsetStore.Stored] = [:]
        for topicPartition in partitions where answers[topicPartition] == nil {
            if (try? partition(topicPartition.topic, topicPartition.partition)) == nil {
                answers[topicPartition] = .unknownTopicOrPartition
            } else if case let .consuming(subscribed) = activity, subscribed?.contains(topicPartition.topic) ?? true {
                answers[topicPartition] = .groupSubscribedToTopic
            } else {
                answers[topicPartition] = KafkaErrorCode.none
                deleted[topicPartition] = committed[topicPartition]
            }
        }
        do {
            // Only offsets unchanged since `committed` was read, topic id included: a member that
            // joined in between and subscribed to the topic keeps what it committed, and so does a
            // group that committed for the topic made again under the name meanwhile.
            try await offsets.delete(ifUnchanged: Self.keyed(deleted, group: group))
        } catch {
            return OffsetDeleteResult(error: Self.coordinatorCode(error))
        }
        return OffsetDeleteResult(error: .none, partitions: answers)
    }

    private static func keyed(_ offsets: [TopicPartition: OffsetStore.Stored], group: String) -> [OffsetStore.Key: OffsetStore.Stored] {
        Dictionary(uniqueKeysWithValues: offsets.map { (OffsetStore.Key(group: group, topicPartition: $0.key), $0.value) })
    }

    /// The error every group admin request gets before the group is looked at, if any.
    private func adminGroupError(_ groupId: String) -> KafkaErrorCode? {
        // Kafka accepts an empty id here for groups committed under it; Spool refuses such
        // commits (INVALID_GROUP_ID), so no group can have it.
        if groupId.isEmpty || groupId.utf8.count > OffsetStore.groupIdBytesMax { return .invalidGroupId }
        if isClosed.load(ordering: .acquiring) { return .coordinatorNotAvailable }
        return nil
    }

    /// A failure to store a deletion, as Kafka's coordinator reports one (its
    /// `appendGroupMetadataErrorToResponseError`): the client retries, finding the coordinator again.
    private static func coordinatorCode(_ error: BrokerError) -> KafkaErrorCode {
        switch error {
        case .closed: .coordinatorNotAvailable
        default: .notCoordinator
        }
    }
}
