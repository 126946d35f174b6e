import SpoolFormat

/// A consumer group as `spool group describe` shows it: members, who owns what, and lag.
public struct GroupReport: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var memberId: String
        /// Set for a static member (`group.instance.id`).
        public var groupInstanceId: String?
        public var clientId: String
        public var clientHost: String
        public var partitions: [TopicPartition]
    }

    public struct PartitionReport: Sendable, Equatable {
        public var topicPartition: TopicPartition
        /// Member id owning it, nil when no member does.
        public var owner: String?
        public var committed: Int64?
        public var logEndOffset: Int64
        public var lag: Int64?
    }

    public var group: String
    public var state: GroupState
    public var generationId: Int32
    public var protocolName: String
    public var members: [Member]
    public var partitions: [PartitionReport]
    /// Sum of the known lags.
    public var totalLag: Int64 { partitions.compactMap(\.lag).reduce(0, +) }
}

extension Broker {
    /// Stores offsets for a group member after the coordinator accepts the commit (member known
    /// and, for a static member, still holding `groupInstanceId`; generation current; no
    /// rebalance completing; or a standalone commit while the group has no members, which no join
    /// phase completes before), durably, before returning. A refusal throws `.group` with the coordinator's error code.
    public func commitOffsets(group: String, generationId: Int32, memberId: String, groupInstanceId: String? = nil,
                              offsets: [TopicPartition: CommittedOffset]) async throws(BrokerError) {
        if generationId < 0 && memberId.isEmpty && groupInstanceId == nil {
            // From outside the group: the group must be empty, and stay so until the offsets are stored.
            let verdict = groups.beginStandaloneCommit(groupId: group)
            guard verdict == .none else { throw .group(verdict) }
            defer { groups.endStandaloneCommit(groupId: group) }
            try await storeCommit(group: group, offsets)
            return
        }
        let verdict = groups.validateOffsetCommit(groupId: group, generationId: generationId, memberId: memberId,
                                                  groupInstanceId: groupInstanceId)
        guard verdict == .none else { throw .group(verdict) }
        try await storeCommit(group: group, offsets)
    }

    /// Stores a commit; a failure to store it is reported as Kafka's coordinator reports one
    /// (NOT_COORDINATOR for a storage error, COORDINATOR_NOT_AVAILABLE while shutting down), which
    /// clients retry after finding the coordinator again. KAFKA_STORAGE_ERROR or
    /// NOT_LEADER_OR_FOLLOWER made Java's `commitSync` throw for good.
    private func storeCommit(group: String, _ offsets: [TopicPartition: CommittedOffset]) async throws(BrokerError) {
        do {
            try await storeOffsets(group: group, offsets)
        } catch {
            switch error {
            case .closed: throw .group(.coordinatorNotAvailable)
            case .storage, .dataDirectoryInUse: throw .group(.notCoordinator)
            default: throw error
            }
        }
    }

    /// Every group the broker knows, from the coordinator and from committed offsets.
    public func listGroups() -> [GroupSummary] {
        var summaries = Dictionary(uniqueKeysWithValues: groups.listGroups().map { ($0.groupId, $0) })
        for group in groupsWithOffsets() where summaries[group] == nil {
            summaries[group] = GroupSummary(groupId: group, protocolType: "consumer", state: .empty)
        }
        return summaries.values.sorted { $0.groupId < $1.groupId }
    }

    /// Members, assignments, committed offsets, end offsets and lag of a group.
    public func describeGroup(_ group: String) -> GroupReport {
        let description = groups.describe(groupId: group)
        var owners: [TopicPartition: String] = [:]
        let members = description.members.map { member -> GroupReport.Member in
            let assigned = (try? ConsumerProtocol.decodeAssignment(member.assignment))?.partitions
                .flatMap { topic, partitions in partitions.map { TopicPartition(topic, $0) } } ?? []
            for topicPartition in assigned { owners[topicPartition] = member.memberId }
            return GroupReport.Member(memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId, clientHost: member.clientHost,
                                      partitions: assigned.sorted())
        }
        let partitions = lag(group: group, partitions: Array(owners.keys)).map { lag in
            GroupReport.PartitionReport(topicPartition: lag.topicPartition, owner: owners[lag.topicPartition],
                                        committed: lag.committed?.offset, logEndOffset: lag.highWatermark, lag: lag.lag)
        }
        let known = description.state != .dead || !partitions.isEmpty
        return GroupReport(group: group, state: known && description.state == .dead ? .empty : description.state,
                           generationId: description.generationId, protocolName: description.protocolName,
                           members: members, partitions: partitions)
    }
}
