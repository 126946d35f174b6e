import SpoolBroker
import SpoolWire

extension RequestRouter {
    func join(_ request: JoinGroupRequestMessage, version: Int16, client: String, host: String) async -> JoinGroupResponseMessage {
        let response = await broker.groups.join(JoinGroupRequest(
            groupId: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId, clientId: client,
            clientHost: host, sessionTimeoutMs: Int(request.sessionTimeoutMs), rebalanceTimeoutMs: Int(request.rebalanceTimeoutMs),
            protocolType: request.protocolType, protocols: request.protocols.map { GroupProtocol(name: $0.name, metadata: $0.metadata) },
            requireKnownMemberId: version >= 4))
        return JoinGroupResponseMessage(
            errorCode: response.error.rawValue, generationId: response.generationId, protocolName: response.protocolName,
            leader: response.leaderId, memberId: response.memberId,
            members: response.members.map { ($0.memberId, $0.groupInstanceId, $0.metadata) })
    }

    func sync(_ request: SyncGroupRequestMessage) async -> SyncGroupResponseMessage {
        let assignments = Dictionary(request.assignments.map { ($0.memberId, $0.assignment) }, uniquingKeysWith: { first, _ in first })
        let response = await broker.groups.sync(groupId: request.groupId, generationId: request.generationId, memberId: request.memberId,
                                                groupInstanceId: request.groupInstanceId, protocolType: nil, protocolName: nil,
                                                assignments: assignments)
        return SyncGroupResponseMessage(errorCode: response.error.rawValue, assignment: response.assignment)
    }

    func leave(_ request: LeaveGroupRequestMessage) -> LeaveGroupResponseMessage {
        let (error, members) = broker.groups.leave(groupId: request.groupId, memberIds: request.memberIds)
        let memberErrors = request.memberIds.map { ($0, (members[$0] ?? .unknownMemberId).rawValue) }
        // v0-2 carry one member and a single error code.
        let single = request.memberIds.count == 1 ? memberErrors[0].1 : error.rawValue
        return LeaveGroupResponseMessage(errorCode: error == .none ? single : error.rawValue, members: memberErrors)
    }

    func commit(_ request: OffsetCommitRequestMessage) async -> PartitionErrorsResponse {
        var known: [TopicPartition: CommittedOffset] = [:]
        var codes: [TopicPartition: KafkaErrorCode] = [:]
        for topic in request.topics {
            let count = broker.partitionCount(topic.name)
            for partition in topic.partitions {
                let key = TopicPartition(topic.name, partition.index)
                guard let count, partition.index >= 0, Int(partition.index) < count else {
                    codes[key] = .unknownTopicOrPartition
                    continue
                }
                known[key] = CommittedOffset(offset: partition.offset, leaderEpoch: partition.leaderEpoch, metadata: partition.metadata ?? "")
            }
        }
        if !known.isEmpty {
            do {
                try await broker.commitOffsets(group: request.groupId, generationId: request.generationId, memberId: request.memberId, offsets: known)
                for key in known.keys { codes[key] = KafkaErrorCode.none }
            } catch {
                for key in known.keys { codes[key] = error.code }
            }
        }
        return PartitionErrorsResponse(topics: request.topics.map { topic in
            (topic.name, topic.partitions.map { ($0.index, (codes[TopicPartition(topic.name, $0.index)] ?? .unknownServerError).rawValue) })
        })
    }

    func offsetFetch(_ request: OffsetFetchRequestMessage) -> OffsetFetchResponseMessage {
        let committed = broker.committedOffsets(group: request.groupId)
        let wanted: [(name: String, partitions: [Int32])] = request.topics ?? Dictionary(grouping: committed.keys, by: \.topic)
            .sorted { $0.key < $1.key }.map { ($0.key, $0.value.map(\.partition).sorted()) }
        return OffsetFetchResponseMessage(topics: wanted.map { topic in
            (topic.name, topic.partitions.map { index in
                let commit = committed[TopicPartition(topic.name, index)]
                return .init(index: index, offset: commit?.offset ?? -1, leaderEpoch: commit?.leaderEpoch ?? -1,
                             metadata: commit?.metadata ?? "", errorCode: 0)
            })
        }, errorCode: 0)
    }

    func describeGroups(_ request: DescribeGroupsRequestMessage) -> DescribeGroupsResponseMessage {
        DescribeGroupsResponseMessage(groups: request.groups.map { groupId in
            let description = broker.groups.describe(groupId: groupId)
            return .init(errorCode: groupId.isEmpty ? KafkaErrorCode.invalidGroupId.rawValue : 0, groupId: groupId,
                         state: description.state.rawValue, protocolType: description.protocolType, protocolData: description.protocolName,
                         members: description.members.map {
                             .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId, clientHost: $0.clientHost,
                                   metadata: $0.metadata, assignment: $0.assignment)
                         })
        })
    }
}
