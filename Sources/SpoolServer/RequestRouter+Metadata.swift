import SpoolBroker
import SpoolWire
import SpoolFormat

extension RequestRouter {
    /// Kafka's "not requested" value for authorized operations.
    static let operationsNotRequested = Int32.min
    /// Every topic operation (READ 3 … ALTER_CONFIGS 11): Spool has no ACLs, so all are allowed.
    static let topicOperations: Int32 = [3, 4, 5, 6, 7, 8, 10, 11].reduce(0) { $0 | 1 << $1 }
    /// Every cluster operation (CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10,
    /// ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12).
    static let clusterOperations: Int32 = [5, 7, 8, 9, 10, 11, 12].reduce(0) { $0 | 1 << $1 }
    /// Every group operation (READ 3, DELETE 6, DESCRIBE 8).
    static let groupOperations: Int32 = [3, 6, 8].reduce(0) { $0 | 1 << $1 }

    /// Metadata: this node as the only broker, controller and leader of every partition. Topics
    /// named (by name, or from v10 by id) and missing are created when auto-creation is on and the
    /// client allows it (always before v4). v0 asks for every topic with an empty list, v1+ with null.
    func metadata(_ request: MetadataRequest, _ context: Context) async -> MetadataResponse {
        let all = request.topics == nil || (context.version == 0 && request.topics?.isEmpty == true)
        var topics: [MetadataResponse.Topic] = []
        if all {
            topics = broker.listTopics().map { describeTopic($0, request) }
        } else {
            if request.allowAutoTopicCreation { await autoCreate((request.topics ?? []).compactMap(\.name)) }
            for wanted in request.topics ?? [] {
                let name = wanted.name ?? broker.topicName(id: wanted.topicId.topicIdString)
                guard let name else {
                    topics.append(.init(errorCode: KafkaErrorCode.unknownTopicId.rawValue, name: nil, topicId: wanted.topicId))
                    continue
                }
                let description = try? broker.describeTopic(name)
                guard let description else {
                    let code: KafkaErrorCode = (try? TopicName.validate(name)) == nil ? .invalidTopicException : .unknownTopicOrPartition
                    topics.append(.init(errorCode: code.rawValue, name: name, topicId: wanted.topicId))
                    continue
                }
                topics.append(describeTopic(description, request))
            }
        }
        return MetadataResponse(
            brokers: [.init(nodeId: nodeId, host: host, port: port, rack: nil)], clusterId: clusterId, controllerId: nodeId, topics: topics,
            clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? Self.clusterOperations : Self.operationsNotRequested)
    }

    /// The cluster id Metadata and DescribeCluster report.
    var clusterId: String { "spool" }

    private func describeTopic(_ topic: TopicDescription, _ request: MetadataRequest) -> MetadataResponse.Topic {
        MetadataResponse.Topic(
            errorCode: 0, name: topic.name, topicId: KafkaUUID(topicId: topic.id), isInternal: false,
            partitions: topic.partitions.map {
                .init(errorCode: 0, partitionIndex: $0.partition, leaderId: nodeId, leaderEpoch: 0, replicaNodes: [nodeId], isrNodes: [nodeId],
                      offlineReplicas: [])
            },
            topicAuthorizedOperations: request.includeTopicAuthorizedOperations ? Self.topicOperations : Self.operationsNotRequested)
    }

    /// FindCoordinator: this node coordinates every group (and, v4+, every key of a batch).
    func findCoordinator(_ request: FindCoordinatorRequest, _ context: Context) -> FindCoordinatorResponse {
        guard context.version >= 4 else { return FindCoordinatorResponse(errorCode: 0, errorMessage: nil, nodeId: nodeId, host: host, port: port) }
        return FindCoordinatorResponse(coordinators: request.coordinatorKeys.map {
            .init(key: $0, nodeId: nodeId, host: host, port: port, errorCode: 0, errorMessage: nil)
        })
    }

    /// InitProducerId for idempotent producers: a fresh producer id at epoch 0, as Kafka gives a
    /// producer without a transactional id (v3+ epoch-bump requests get one too). Transactions are
    /// not supported.
    func initProducerId(_ request: InitProducerIdRequest) -> InitProducerIdResponse {
        guard request.transactionalId == nil else {
            return InitProducerIdResponse(errorCode: KafkaErrorCode.invalidRequest.rawValue, producerId: -1, producerEpoch: -1)
        }
        do {
            let (id, epoch) = try broker.initProducerId()
            return InitProducerIdResponse(errorCode: 0, producerId: id, producerEpoch: epoch)
        } catch {
            return InitProducerIdResponse(errorCode: error.code.rawValue, producerId: -1, producerEpoch: -1)
        }
    }
}
