import SpoolBroker
import SpoolWire

extension RequestRouter {
    func createTopics(_ request: CreateTopicsRequest, _ context: Context) -> CreateTopicsResponse {
        CreateTopicsResponse(topics: request.topics.map { topic in
            var result = CreateTopicsResponse.CreatableTopicResult(name: topic.name, numPartitions: -1, replicationFactor: -1, configs: nil)
            func fail(_ code: KafkaErrorCode, _ message: String) -> CreateTopicsResponse.CreatableTopicResult {
                result.errorCode = code.rawValue
                result.errorMessage = message
                return result
            }
            if topic.replicationFactor != -1 && topic.replicationFactor != 1 {
                return fail(.invalidReplicationFactor, "Spool is a single node: replication factor must be 1")
            }
            if !topic.assignments.isEmpty {
                return fail(.invalidRequest, "manual replica assignment is not supported")
            }
            var configs: [String: String] = [:]
            for config in topic.configs {
                guard let value = config.value else { return fail(.invalidConfig, "config \(config.name) has no value") }
                configs[config.name] = value
            }
            do throws(BrokerError) {
                let partitions = topic.numPartitions == -1 ? nil : Int(topic.numPartitions)
                if request.validateOnly {
                    try TopicName.validate(topic.name)
                    if broker.partitionCount(topic.name) != nil { throw BrokerError.topicAlreadyExists(topic.name) }
                    _ = try TopicConfig(partitions: partitions ?? broker.config.defaultPartitions, overrides: configs)
                        .logConfig(defaults: broker.config.log)
                    result.numPartitions = Int32(partitions ?? broker.config.defaultPartitions)
                } else {
                    let created = try broker.createTopic(topic.name, partitions: partitions, configs: configs)
                    result.topicId = KafkaUUID(topicId: created.id)
                    result.numPartitions = Int32(created.partitions.count)
                }
                result.replicationFactor = 1
                result.configs = configs.sorted { $0.key < $1.key }.map {
                    .init(name: $0.key, value: $0.value, readOnly: false, configSource: 1, isSensitive: false)
                }
                return result
            } catch {
                return fail(error.code, error.description)
            }
        })
    }

    /// DeleteTopics: by name, or from v6 by name or id.
    func deleteTopics(_ request: DeleteTopicsRequest) async -> DeleteTopicsResponse {
        let wanted: [(name: String?, id: KafkaUUID)] = request.topicNames.map { ($0, .zero) } + request.topics.map { ($0.name, $0.topicId) }
        var results: [DeleteTopicsResponse.DeletableTopicResult] = []
        for topic in wanted {
            guard let name = topic.name ?? broker.topicName(id: topic.id.topicIdString) else {
                results.append(.init(name: nil, topicId: topic.id, errorCode: KafkaErrorCode.unknownTopicId.rawValue, errorMessage: "no topic has this id"))
                continue
            }
            let id = broker.topicId(name).map { KafkaUUID(topicId: $0) } ?? topic.id
            do {
                try await broker.deleteTopic(name)
                results.append(.init(name: name, topicId: id, errorCode: 0))
            } catch {
                results.append(.init(name: name, topicId: id, errorCode: error.code.rawValue, errorMessage: error.description))
            }
        }
        return DeleteTopicsResponse(responses: results)
    }
}
