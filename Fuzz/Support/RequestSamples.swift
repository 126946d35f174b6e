import SpoolFormat
import SpoolWire

/// A request of every API the codec covers, with every field set to something a real client would
/// send: the seeds of the fuzz targets (at every version), and what the server tests send to check
/// that each served version is answered.
public enum RequestSamples {
    /// A record batch from an idempotent producer: one record with a key, a value and a header.
    public static let batch = RecordBatch(
        producing: [ProducerRecord(key: Array("user-1".utf8), value: Array("welcome".utf8), headers: [RecordHeader("spool-job-id", "1")],
                                   timestamp: 1_700_000_000_000)],
        producerId: 1, producerEpoch: 0, baseSequence: 0).encoded()

    /// The sample request of `api`, on topic `topic` and group `group`.
    public static func request(_ api: ApiKey, topic: String = "jobs", group: String = "workers") -> any KafkaRequest {
        let subscription = ConsumerProtocol.encode(ConsumerProtocol.Subscription(topics: [topic], ownedPartitions: [topic: [0]]))
        let assignment = ConsumerProtocol.encode(ConsumerProtocol.Assignment(partitions: [(topic: topic, partitions: [0])]))
        switch api {
        case .produce:
            return ProduceRequest(acks: -1, timeoutMs: 5000, topicData: [.init(name: topic, partitionData: [.init(index: 0, records: RecordBytes(batch))])])
        case .fetch:
            return FetchRequest(replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, sessionId: 0, sessionEpoch: -1,
                                topics: [.init(topic: topic, partitions: [.init(partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, partitionMaxBytes: 1 << 20)])],
                                rackId: "")
        case .listOffsets:
            return ListOffsetsRequest(replicaId: -1, topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, timestamp: -2)])])
        case .metadata: return MetadataRequest(topics: [.init(name: topic)], allowAutoTopicCreation: true)
        case .offsetCommit:
            return OffsetCommitRequest(groupId: group, topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, committedOffset: 1, committedMetadata: "m")])])
        case .offsetFetch:
            return OffsetFetchRequest(groupId: group, topics: [.init(name: topic, partitionIndexes: [0])],
                                      groups: [.init(groupId: group, topics: [.init(name: topic, partitionIndexes: [0])])])
        case .findCoordinator: return FindCoordinatorRequest(key: group, keyType: 0, coordinatorKeys: [group])
        case .joinGroup:
            return JoinGroupRequest(groupId: group, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, memberId: "", protocolType: "consumer",
                                    protocols: [.init(name: "range", metadata: subscription)])
        case .heartbeat: return HeartbeatRequest(groupId: group, generationId: 1, memberId: "m-1")
        case .leaveGroup: return LeaveGroupRequest(groupId: group, memberId: "m-1", members: [.init(memberId: "m-1")])
        case .syncGroup:
            return SyncGroupRequest(groupId: group, generationId: 1, memberId: "m-1", protocolType: "consumer", protocolName: "range",
                                    assignments: [.init(memberId: "m-1", assignment: assignment)])
        case .describeGroups: return DescribeGroupsRequest(groups: [group])
        case .listGroups: return ListGroupsRequest()
        case .apiVersions: return ApiVersionsRequest(clientSoftwareName: "spool", clientSoftwareVersion: "1.0")
        case .createTopics:
            return CreateTopicsRequest(topics: [.init(name: topic, numPartitions: 2, replicationFactor: 1,
                                                      configs: [.init(name: "retention.ms", value: "60000")])], timeoutMs: 5000)
        case .deleteTopics: return DeleteTopicsRequest(topics: [.init(name: topic)], topicNames: [topic], timeoutMs: 5000)
        case .deleteRecords:
            return DeleteRecordsRequest(topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, offset: 0)])], timeoutMs: 5000)
        case .initProducerId: return InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1)
        case .offsetForLeaderEpoch:
            return OffsetForLeaderEpochRequest(replicaId: -2, topics: [.init(topic: topic, partitions: [.init(partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0)])])
        case .describeConfigs:
            return DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configurationKeys: nil)], includeSynonyms: true)
        case .alterConfigs:
            return AlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configs: [.init(name: "retention.ms", value: "60000")])])
        case .describeLogDirs: return DescribeLogDirsRequest(topics: nil)
        case .createPartitions: return CreatePartitionsRequest(topics: [.init(name: topic, count: 4, assignments: nil)], timeoutMs: 5000)
        case .deleteGroups: return DeleteGroupsRequest(groupsNames: [group])
        case .incrementalAlterConfigs:
            return IncrementalAlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic,
                                                                    configs: [.init(name: "retention.ms", configOperation: 0, value: "60000")])])
        case .offsetDelete: return OffsetDeleteRequest(groupId: group, topics: [.init(name: topic, partitions: [.init(partitionIndex: 0)])])
        case .describeCluster: return DescribeClusterRequest(includeClusterAuthorizedOperations: true)
        case .describeProducers: return DescribeProducersRequest(topics: [.init(name: topic, partitionIndexes: [0])])
        }
    }

    /// A request frame without its size prefix: header (correlation id `correlation`, client id
    /// "spool-fuzz") and the body of `request` at `version`.
    public static func frame(_ request: some KafkaRequest, version: Int16, correlation: Int32 = 7) -> [UInt8] {
        Array(Frames.request(request, version: version, correlationId: correlation, clientId: "spool-fuzz").dropFirst(4))
    }
}
