import SpoolBroker
import SpoolWire
import SpoolFormat

extension RequestRouter {
    /// JoinGroup: the classic protocol; from v4 a member joining without an id is sent one back
    /// with MEMBER_ID_REQUIRED first.
    func joinGroup(_ request: SpoolWire.JoinGroupRequest, _ context: Context) async -> SpoolWire.JoinGroupResponse {
        let response = await broker.groups.join(SpoolBroker.JoinGroupRequest(
            groupId: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId, clientId: context.clientId,
            clientHost: context.clientHost, sessionTimeoutMs: Int(request.sessionTimeoutMs),
            rebalanceTimeoutMs: Int(context.version >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs),
            protocolType: request.protocolType, protocols: request.protocols.map { GroupProtocol(name: $0.name, metadata: $0.metadata) },
            requireKnownMemberId: context.version >= 4, supportsSkippingAssignment: context.version >= 9))
        return SpoolWire.JoinGroupResponse(
            errorCode: response.error.rawValue, generationId: response.generationId, protocolType: response.protocolType,
            // Before v7 the protocol name is not nullable: a failed join answers "" as Kafka does.
            protocolName: response.protocolName ?? (context.version >= 7 ? nil : ""), leader: response.leaderId,
            skipAssignment: response.skipAssignment, memberId: response.memberId,
            members: response.members.map { .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata) })
    }

    func syncGroup(_ request: SyncGroupRequest) async -> SpoolWire.SyncGroupResponse {
        let assignments = Dictionary(request.assignments.map { ($0.memberId, $0.assignment) }, uniquingKeysWith: { first, _ in first })
        let response = await broker.groups.sync(groupId: request.groupId, generationId: request.generationId, memberId: request.memberId,
                                                groupInstanceId: request.groupInstanceId, protocolType: request.protocolType,
                                                protocolName: request.protocolName, assignments: assignments)
        return SpoolWire.SyncGroupResponse(errorCode: response.error.rawValue, protocolType: response.protocolType, protocolName: response.protocolName,
                                 assignment: response.assignment)
    }

    func heartbeat(_ request: HeartbeatRequest) -> HeartbeatResponse {
        let error = broker.groups.heartbeat(groupId: request.groupId, generationId: request.generationId, memberId: request.memberId,
                                            groupInstanceId: request.groupInstanceId)
        return HeartbeatResponse(errorCode: error.rawValue)
    }

    /// LeaveGroup: one member before v3; from v3 a batch of members, each named by member id,
    /// group instance id (a static member), or both, and each with its own error.
    func leaveGroup(_ request: LeaveGroupRequest, _ context: Context) -> LeaveGroupResponse {
        let leaving = context.version >= 3 ? request.members.map { LeavingMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId) }
            : [LeavingMember(memberId: request.memberId)]
        let (error, members) = broker.groups.leave(groupId: request.groupId, members: leaving)
        guard context.version >= 3 else {
            return LeaveGroupResponse(errorCode: (error == .none ? members.first?.error ?? .unknownMemberId : error).rawValue)
        }
        return LeaveGroupResponse(errorCode: error.rawValue, members: members.map {
            .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, errorCode: $0.error.rawValue)
        })
    }

    /// DeleteGroups: empty groups are deleted with their committed offsets.
    func deleteGroups(_ request: DeleteGroupsRequest) async -> DeleteGroupsResponse {
        let results = await broker.deleteGroups(request.groupsNames)
        var answered = Set<String>()
        return DeleteGroupsResponse(results: request.groupsNames.compactMap { group in
            guard answered.insert(group).inserted else { return nil }
            return .init(groupId: group, errorCode: (results[group] ?? .unknownServerError).rawValue)
        })
    }

    /// OffsetDelete: a group's committed offsets of partitions it no longer consumes.
    func offsetDelete(_ request: OffsetDeleteRequest) async -> OffsetDeleteResponse {
        let wanted = request.topics.flatMap { topic in topic.partitions.map { TopicPartition(topic.name, $0.partitionIndex) } }
        let result = await broker.deleteOffsets(group: request.groupId, partitions: wanted)
        guard result.error == .none else { return OffsetDeleteResponse(errorCode: result.error.rawValue) }
        return OffsetDeleteResponse(errorCode: 0, topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map {
                .init(partitionIndex: $0.partitionIndex,
                      errorCode: (result.partitions[TopicPartition(topic.name, $0.partitionIndex)] ?? .unknownServerError).rawValue)
            })
        })
    }

    func describeGroups(_ request: DescribeGroupsRequest, _ context: Context) -> DescribeGroupsResponse {
        DescribeGroupsResponse(groups: request.groups.map { groupId in
            let description = broker.groups.describe(groupId: groupId)
            // A group known only by its committed offsets (after a restart, say) is Empty, as
            // ListGroups and Kafka have it, not Dead.
            let state = description.state == .dead && broker.groupsWithOffsets().contains(groupId) ? .empty : description.state
            return .init(
                errorCode: groupId.isEmpty ? KafkaErrorCode.invalidGroupId.rawValue : 0, groupId: groupId, groupState: state.rawValue,
                protocolType: description.protocolType, protocolData: description.protocolName,
                members: description.members.map {
                    .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId, clientHost: $0.clientHost,
                          memberMetadata: $0.metadata, memberAssignment: $0.assignment)
                },
                authorizedOperations: request.includeAuthorizedOperations ? Self.groupOperations : Self.operationsNotRequested)
        })
    }

    /// ListGroups, filtered by state (v4+, case-insensitive as in Kafka) and type (v5+: only
    /// "classic" groups exist here).
    func listGroups(_ request: ListGroupsRequest) -> ListGroupsResponse {
        let states = Set(request.statesFilter.map { $0.lowercased() })
        let types = Set(request.typesFilter.map { $0.lowercased() })
        return ListGroupsResponse(errorCode: 0, groups: broker.listGroups().compactMap { group in
            guard states.isEmpty || states.contains(group.state.rawValue.lowercased()) else { return nil }
            guard types.isEmpty || types.contains("classic") else { return nil }
            return .init(groupId: group.groupId, protocolType: group.protocolType, groupState: group.state.rawValue, groupType: "classic")
        })
    }
}
