import SpoolBroker
import SpoolClient
import SpoolFormat
import SpoolLog

/// `ConsumerTransport` in-process: the broker's own group coordinator, long-poll fetch and offset
/// store, with no network. A `Consumer` over it behaves as one over the Kafka protocol, and can
/// share a group with Kafka clients of `spool serve` on the same broker.
public struct EmbeddedConsumerTransport: ConsumerTransport {
    public let broker: Broker

    public init(broker: Broker) { self.broker = broker }

    public func partitionCount(of topic: String) async throws(ClientError) -> Int {
        guard let count = broker.partitionCount(topic) else { throw .kafka(code: KafkaErrorCode.unknownTopicOrPartition.rawValue, context: "topic \(topic)") }
        return count
    }

    public func joinGroup(_ join: GroupJoin) async throws(ClientError) -> GroupJoined {
        let joined = await broker.groups.join(JoinGroupRequest(
            groupId: join.group, memberId: join.memberId, groupInstanceId: nil, clientId: join.clientId, clientHost: "in-process",
            sessionTimeoutMs: Int(join.sessionTimeoutMs), rebalanceTimeoutMs: Int(join.rebalanceTimeoutMs), protocolType: "consumer",
            protocols: [GroupProtocol(name: RangeAssignor.name, metadata: join.subscription)], requireKnownMemberId: true))
        return GroupJoined(errorCode: joined.error.rawValue, generation: joined.generationId, memberId: joined.memberId, leaderId: joined.leaderId,
                           protocolName: joined.protocolName, members: joined.members.map { ($0.memberId, $0.metadata) })
    }

    public func syncGroup(_ sync: GroupSync) async throws(ClientError) -> GroupSynced {
        let synced = await broker.groups.sync(groupId: sync.group, generationId: sync.generation, memberId: sync.memberId, groupInstanceId: nil,
                                              protocolType: "consumer", protocolName: sync.protocolName, assignments: sync.assignments)
        return GroupSynced(errorCode: synced.error.rawValue, assignment: synced.assignment)
    }

    public func heartbeat(group: String, generation: Int32, memberId: String, timeoutMs: Int) async -> Int16? {
        broker.groups.heartbeat(groupId: group, generationId: generation, memberId: memberId, groupInstanceId: nil).rawValue
    }

    public func leaveGroup(group: String, memberId: String) async {
        _ = broker.groups.leave(groupId: group, memberIds: [memberId])
    }

    /// A partition that cannot be read (its topic deleted, the broker closing) answers at once:
    /// as over the network, the consumer is told to back off rather than fetch again at once.
    public func fetch(_ positions: [(TopicPartition, Int64)], maxWaitMs: Int32, maxBytes: Int32) async throws(ClientError) -> FetchOutcome {
        let requests = positions.map { FetchPartitionRequest($0.0, fetchOffset: $0.1, maxBytes: Int(maxBytes)) }
        let fetched = await broker.fetch(requests, maxWaitMs: Int(maxWaitMs), minBytes: 1, maxBytes: Int(maxBytes))
        return FetchOutcome(partitions: zip(requests, fetched).map { request, result in
            let (topic, partition, from) = (request.topicPartition.topic, request.topicPartition.partition, request.fetchOffset)
            let records = result.records.map { RecordCursor($0, topic: topic, partition: partition, from: from) }
                ?? RecordCursor([UInt8](), topic: topic, partition: partition, from: from)
            return (request.topicPartition, PartitionFetch(errorCode: result.error.rawValue, records: records))
        }, backOff: fetched.contains { $0.error != .none && $0.error != .offsetOutOfRange })
    }

    public func listOffsets(_ partitions: [TopicPartition], timestamp: Int64) async throws(ClientError) -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for partition in partitions {
            do {
                offsets[partition] = try broker.listOffset(topic: partition.topic, partition: partition.partition, timestamp: timestamp).offset
            } catch {
                throw ClientError(error, "offsets of \(partition)")
            }
        }
        return offsets
    }

    /// As OffsetCommit answers over the network: the partitions that exist are stored, and a
    /// partition of a deleted or unknown topic fails the call without holding the others back.
    public func commit(group: String, generation: Int32, memberId: String, offsets: [TopicPartition: CommittedOffset]) async throws(ClientError) {
        let known = offsets.filter { broker.hasPartition($0.key) }
        if !known.isEmpty {
            do {
                try await broker.commitOffsets(group: group, generationId: generation, memberId: memberId, offsets: known)
            } catch {
                throw ClientError(error, "committing offsets of group \(group)")
            }
        }
        if known.count < offsets.count {
            throw .kafka(code: KafkaErrorCode.unknownTopicOrPartition.rawValue, context: "committing offsets of group \(group)")
        }
    }

    public func committed(group: String, partitions: [TopicPartition]) async throws(ClientError) -> [TopicPartition: CommittedOffset] {
        // As OffsetFetch answers over the network: the offset, its leader epoch and metadata.
        broker.committedOffsets(group: group, partitions: partitions).filter { $0.value.offset >= 0 }.mapValues {
            CommittedOffset(offset: $0.offset, leaderEpoch: $0.leaderEpoch, metadata: $0.metadata)
        }
    }

    public func close() async {}
}

extension ClientError {
    /// The broker's refusal as a client sees it: the same Kafka error code, or closed.
    init(_ error: BrokerError, _ context: String) {
        self = error == .closed ? .closed : .kafka(code: error.code.rawValue, context: "\(context): \(error)")
    }
}

/// A fetch's stored batches stay in the segment's mapping until the consumer takes their records.
extension LogSlice: FetchedBytes {}

extension EmbeddedBroker {
    /// Joins `group` as a consumer of `topics` (creating them if the broker auto-creates topics)
    /// and returns once it owns its partitions.
    public func consumer(group: String, topics: [String], options: Consumer.Options = .init()) async throws(ClientError) -> Consumer {
        for topic in topics {
            do { _ = try await broker.ensuringTopic(topic) } catch { throw ClientError(error, "topic \(topic)") }
        }
        let consumer = try Consumer(transport: EmbeddedConsumerTransport(broker: broker), group: group, topics: topics, options: options)
        try await consumer.join()
        return consumer
    }
}
