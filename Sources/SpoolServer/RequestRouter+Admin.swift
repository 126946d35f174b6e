import SpoolBroker
import SpoolWire

extension RequestRouter {
    /// Metadata: this node as the only broker, controller and leader of every partition. Topics
    /// named and missing are created when auto-creation is on and the client allows it.
    func metadata(_ request: MetadataRequest) -> MetadataResponse {
        let names = request.topics ?? broker.listTopics().map(\.name)
        let topics = names.map { name -> MetadataResponse.Topic in
            let description: TopicDescription?
            if request.allowAutoTopicCreation && request.topics != nil {
                description = try? broker.ensureTopic(name)
            } else {
                description = try? broker.describeTopic(name)
            }
            guard let description else {
                let code: KafkaErrorCode = (try? TopicName.validate(name)) == nil ? .invalidTopicException : .unknownTopicOrPartition
                return .init(errorCode: code.rawValue, name: name, partitions: [])
            }
            return .init(errorCode: 0, name: name, partitions: description.partitions.map {
                .init(errorCode: 0, index: $0.partition, leader: nodeId, leaderEpoch: 0)
            })
        }
        return MetadataResponse(brokers: [.init(nodeId: nodeId, host: host, port: port)], clusterId: "spool", controllerId: nodeId,
                                topics: topics)
    }

    /// InitProducerId for idempotent producers; transactions are not supported.
    func initProducerId(_ request: InitProducerIdRequestMessage) -> InitProducerIdResponseMessage {
        guard request.transactionalId == nil else {
            return InitProducerIdResponseMessage(errorCode: KafkaErrorCode.invalidRequest.rawValue, producerId: -1, producerEpoch: -1)
        }
        do {
            let (id, epoch) = try broker.initProducerId()
            return InitProducerIdResponseMessage(errorCode: 0, producerId: id, producerEpoch: epoch)
        } catch {
            return InitProducerIdResponseMessage(errorCode: error.code.rawValue, producerId: -1, producerEpoch: -1)
        }
    }

    func createTopics(_ request: CreateTopicsRequestMessage) -> TopicErrorsResponse {
        TopicErrorsResponse(topics: request.topics.map { topic in
            if topic.replicationFactor != -1 && topic.replicationFactor != 1 {
                return (topic.name, KafkaErrorCode.invalidReplicationFactor.rawValue, "Spool is a single node: replication factor must be 1")
            }
            if topic.hasAssignments {
                return (topic.name, KafkaErrorCode.invalidRequest.rawValue, "manual replica assignment is not supported")
            }
            do throws(BrokerError) {
                let partitions = topic.partitions == -1 ? nil : Int(topic.partitions)
                if request.validateOnly {
                    try TopicName.validate(topic.name)
                    if broker.partitionCount(topic.name) != nil { throw BrokerError.topicAlreadyExists(topic.name) }
                    _ = try TopicConfig(partitions: partitions ?? broker.config.defaultPartitions, overrides: topic.configs)
                        .logConfig(defaults: broker.config.log)
                } else {
                    try broker.createTopic(topic.name, partitions: partitions, configs: topic.configs)
                }
                return (topic.name, 0, nil)
            } catch {
                return (topic.name, error.code.rawValue, error.description)
            }
        })
    }

    func deleteTopics(_ request: DeleteTopicsRequestMessage) async -> TopicErrorsResponse {
        var results: [(name: String, errorCode: Int16, message: String?)] = []
        for name in request.names {
            do {
                try await broker.deleteTopic(name)
                results.append((name, 0, nil))
            } catch {
                results.append((name, error.code.rawValue, error.description))
            }
        }
        return TopicErrorsResponse(topics: results)
    }
}
