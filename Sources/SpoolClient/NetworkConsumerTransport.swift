import SpoolFormat
import SpoolWire

/// `ConsumerTransport` over the Kafka protocol: fetches and offsets go to each partition's leader,
/// group traffic to the group's coordinator.
///
/// It has two clients of its own: fetches on one, group traffic (joins, heartbeats, commits) on
/// the other. A broker answers each connection's requests in order, so a parked fetch or a
/// JoinGroup waiting for a rebalance would otherwise hold up heartbeats — or, with a client shared
/// by two members, the very rejoin the rebalance is waiting for.
public final class NetworkConsumerTransport: ConsumerTransport {
    let client: SpoolClient
    let groupClient: SpoolClient
    private let fetches = LeaderFetches()

    /// New connections with `client`'s bootstrap, client id, request timeout and metadata max age.
    public init(settingsOf client: SpoolClient) throws(ClientError) {
        self.client = try SpoolClient(bootstrap: client.bootstrap, clientId: client.clientId, requestTimeoutMs: client.requestTimeoutMs,
                                      metadataMaxAgeMs: client.metadataMaxAgeMs)
        self.groupClient = try SpoolClient(bootstrap: client.bootstrap, clientId: client.clientId, requestTimeoutMs: client.requestTimeoutMs)
    }

    public func partitionCount(of topic: String) async throws(ClientError) -> Int { try await client.partitions(of: topic).count }

    public func joinGroup(_ join: GroupJoin) async throws(ClientError) -> GroupJoined {
        let request = JoinGroupRequest(
            groupId: join.group, sessionTimeoutMs: join.sessionTimeoutMs, rebalanceTimeoutMs: join.rebalanceTimeoutMs, memberId: join.memberId,
            protocolType: "consumer", protocols: [.init(name: RangeAssignor.name, metadata: join.subscription)])
        // The broker holds a JoinGroup until the rebalance ends: wait that long and the request timeout more.
        let timeoutMs = Int(join.rebalanceTimeoutMs) + groupClient.requestTimeoutMs
        let joined = try await groupClient.withCoordinator(join.group) { coordinator async throws(ClientError) -> JoinGroupResponse in
            let joined = try await groupClient.call(coordinator, request, timeoutMs: timeoutMs)
            try SpoolClient.checkCoordinator(joined.errorCode, "joining group \(join.group)")
            return joined
        }
        return GroupJoined(errorCode: joined.errorCode, generation: joined.generationId, memberId: joined.memberId, leaderId: joined.leader,
                           protocolName: joined.protocolName, members: joined.members.map { ($0.memberId, $0.metadata) })
    }

    public func syncGroup(_ sync: GroupSync) async throws(ClientError) -> GroupSynced {
        let request = SyncGroupRequest(groupId: sync.group, generationId: sync.generation, memberId: sync.memberId,
                                       assignments: sync.assignments.sorted { $0.key < $1.key }.map { .init(memberId: $0.key, assignment: $0.value) })
        // A SyncGroup waits for the leader's assignment: as long as a join may.
        let timeoutMs = Int(sync.rebalanceTimeoutMs) + groupClient.requestTimeoutMs
        let synced = try await groupClient.withCoordinator(sync.group, timeoutMs: timeoutMs) { coordinator async throws(ClientError) -> SyncGroupResponse in
            let synced = try await groupClient.call(coordinator, request, timeoutMs: timeoutMs)
            try SpoolClient.checkCoordinator(synced.errorCode, "syncing group \(sync.group)")
            return synced
        }
        return GroupSynced(errorCode: synced.errorCode, assignment: synced.assignment)
    }

    /// Each request waits only what is left of `timeoutMs`, not the client's request timeout: a
    /// heartbeat the coordinator does not answer must end in time for the member to see its
    /// session end before the group hands its partitions to another.
    public func heartbeat(group: String, generation: Int32, memberId: String, timeoutMs: Int) async -> Int16? {
        let request = HeartbeatRequest(groupId: group, generationId: generation, memberId: memberId)
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        return try? await groupClient.withCoordinator(group, timeoutMs: timeoutMs) { coordinator async throws(ClientError) -> Int16 in
            let code = try await groupClient.call(coordinator, request, timeoutMs: Self.left(until: deadline)).errorCode
            try SpoolClient.checkCoordinator(code, "heartbeat of group \(group)")
            return code
        }
    }

    /// At most 5 s (or the request timeout), each request included: a close does not wait longer
    /// for a coordinator that does not answer.
    public func leaveGroup(group: String, memberId: String) async {
        let leave = LeaveGroupRequest(groupId: group, memberId: memberId, members: [.init(memberId: memberId)])
        let timeoutMs = min(groupClient.requestTimeoutMs, 5_000)
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        _ = try? await groupClient.withCoordinator(group, timeoutMs: timeoutMs) { coordinator async throws(ClientError) in
            let code = try await groupClient.call(coordinator, leave, timeoutMs: Self.left(until: deadline)).errorCode
            try SpoolClient.checkCoordinator(code, "leaving group \(group)")
        }
    }

    /// Milliseconds left until `deadline` (1 at least: a request needs a positive timeout).
    private static func left(until deadline: ContinuousClock.Instant) -> Int { max(1, ContinuousClock.now.duration(to: deadline).wholeMilliseconds) }

    /// One Fetch per partition leader, all at once (`LeaderFetches`): each broker parks its fetch
    /// up to the wait, the poll returns with the first leaders' answers while the others stay out,
    /// and a leader that moved or a broker that is down costs only its partitions.
    ///
    /// A partition the cluster's metadata does not know (its topic deleted) answers
    /// UNKNOWN_TOPIC_OR_PARTITION, as the broker's own fetch does, and the consumer backs off:
    /// the metadata is asked again on the next poll, and the partition read once it is back, as
    /// Kafka's consumer waits for a subscribed topic that is gone rather than failing its poll.
    public func fetch(_ positions: [(TopicPartition, Int64)], maxWaitMs: Int32, maxBytes: Int32) async throws(ClientError) -> FetchOutcome {
        // A partition without a leader (its broker is down) is skipped this time, not the poll.
        let (byLeader, leaderless, unknown) = try await client.byLeader(positions) { $0.0 }
        var outcome = FetchOutcome(partitions: unknown.map { partition, offset in
            (partition, PartitionFetch(errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue,
                                       records: RecordCursor(RecordBytes([]), topic: partition.topic, partition: partition.partition, from: offset)))
        }, backOff: !leaderless.isEmpty || !unknown.isEmpty)
        // With no fetch to start, `next` would wait for one that is not there.
        guard !byLeader.isEmpty else { return outcome }
        let answers = await fetches.next(byLeader) { node, partitions in
            await self.fetch(from: node, partitions, maxWaitMs: maxWaitMs, maxBytes: maxBytes)
        }
        for answer in answers {
            switch answer {
            case let .success(partitions):
                for (partition, fetched) in partitions where fetched.errorCode != 0 && fetched.errorCode != KafkaErrorCode.offsetOutOfRange.rawValue {
                    // Skipped this time; a moved leader is looked up again first.
                    if ClientError.kafka(code: fetched.errorCode, context: "").staleMetadata { client.invalidate(partition.topic) }
                    outcome.backOff = true
                }
                outcome.partitions += partitions
            case let .failure(error):
                guard error.isRetriable || error.staleMetadata else { throw error }
                outcome.backOff = true
            }
        }
        return outcome
    }

    /// One Fetch to a partition leader; its timeout is the wait plus the request timeout. A
    /// failure forgets the topics' metadata.
    private func fetch(from node: Int32, _ partitions: [(TopicPartition, Int64)], maxWaitMs: Int32,
                       maxBytes: Int32) async -> Result<[(TopicPartition, PartitionFetch)], ClientError> {
        let starts = Dictionary(partitions, uniquingKeysWith: { first, _ in first })
        do throws(ClientError) {
            let leader = try await client.connection(toNode: node)
            let byTopic = Dictionary(grouping: partitions, by: \.0.topic).sorted { $0.key < $1.key }
            let request = FetchRequest(
                replicaId: -1, maxWaitMs: maxWaitMs, minBytes: 1, maxBytes: maxBytes, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
                topics: byTopic.map { topic, entries in
                    .init(topic: topic, partitions: entries.map {
                        .init(partition: $0.0.partition, fetchOffset: $0.1, partitionMaxBytes: min(maxBytes, 1 << 20))
                    })
                })
            let response = try await client.call(leader, request, timeoutMs: Int(maxWaitMs) + client.requestTimeoutMs)
            guard response.errorCode == 0 else { throw ClientError.kafka(code: response.errorCode, context: "fetching") }
            return .success(response.responses.flatMap { topic in
                topic.partitions.map { answer in
                    let partition = TopicPartition(topic.topic, answer.partitionIndex)
                    let records = RecordCursor(answer.records ?? RecordBytes([]), topic: partition.topic, partition: partition.partition,
                                               from: starts[partition] ?? 0)
                    return (partition, PartitionFetch(errorCode: answer.errorCode, records: records))
                }
            })
        } catch {
            for topic in Set(partitions.map(\.0.topic)) { client.invalidate(topic) }
            return .failure(error)
        }
    }

    public func listOffsets(_ partitions: [TopicPartition], timestamp: Int64) async throws(ClientError) -> [TopicPartition: Int64] {
        try await client.listOffsets(partitions, timestamp: timestamp)
    }

    public func commit(group: String, generation: Int32, memberId: String, offsets: [TopicPartition: CommittedOffset]) async throws(ClientError) {
        let byTopic = Dictionary(grouping: offsets, by: \.key.topic).sorted { $0.key < $1.key }
        let request = OffsetCommitRequest(groupId: group, generationIdOrMemberEpoch: generation, memberId: memberId, topics: byTopic.map { topic, entries in
            .init(name: topic, partitions: entries.sorted { $0.key < $1.key }.map {
                .init(partitionIndex: $0.key.partition, committedOffset: $0.value.offset, committedMetadata: $0.value.metadata)
            })
        })
        let response = try await groupClient.withCoordinator(group) { coordinator async throws(ClientError) -> OffsetCommitResponse in
            let response = try await groupClient.call(coordinator, request)
            for partition in response.topics.flatMap(\.partitions) {
                try SpoolClient.checkCoordinator(partition.errorCode, "committing offsets of group \(group)")
            }
            return response
        }
        if let failed = response.topics.flatMap(\.partitions).first(where: { $0.errorCode != 0 }) {
            throw .kafka(code: failed.errorCode, context: "committing offsets of group \(group)")
        }
    }

    public func committed(group: String, partitions: [TopicPartition]) async throws(ClientError) -> [TopicPartition: CommittedOffset] {
        let byTopic = Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }
        let request = OffsetFetchRequest(groupId: group, topics: byTopic.map { topic, entries in .init(name: topic, partitionIndexes: entries.map(\.partition)) })
        let fetched = try await groupClient.withCoordinator(group) { coordinator async throws(ClientError) -> OffsetFetchResponse in
            let fetched = try await groupClient.call(coordinator, request)
            try SpoolClient.checkCoordinator(fetched.errorCode, "fetching offsets of group \(group)")
            for partition in fetched.topics.flatMap(\.partitions) {
                try SpoolClient.checkCoordinator(partition.errorCode, "fetching offsets of group \(group)")
            }
            return fetched
        }
        guard fetched.errorCode == 0 else { throw .kafka(code: fetched.errorCode, context: "fetching offsets of group \(group)") }
        var result: [TopicPartition: CommittedOffset] = [:]
        for topic in fetched.topics {
            for partition in topic.partitions where partition.errorCode == 0 && partition.committedOffset >= 0 {
                result[TopicPartition(topic.name, partition.partitionIndex)] = CommittedOffset(offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch,
                                                                                          metadata: partition.metadata ?? "")
            }
        }
        return result
    }

    public func close() async {
        client.close()
        groupClient.close()
    }
}
