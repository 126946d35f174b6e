import SpoolBroker
import SpoolWire
import SpoolFormat

extension RequestRouter {
    /// CreateTopics: each topic with its partition count (or -1, the broker's default) or a manual
    /// assignment naming this node, replication factor 1 (or -1), and any Kafka topic config. From
    /// v5 the answer describes the topic's partitions, replication and every config; v7 gives its id.
    ///
    /// A name the request gives more than once is created for none of them and answered once,
    /// after the others, with INVALID_REQUEST "Duplicate topic name.", as Kafka's controller does.
    func createTopics(_ request: CreateTopicsRequest, _ context: Context) -> CreateTopicsResponse {
        let occurrences = Dictionary(request.topics.map { ($0.name, 1) }, uniquingKeysWith: +)
        var results = request.topics.filter { occurrences[$0.name] == 1 }.map { createTopic($0, validateOnly: request.validateOnly, context) }
        var answered: Set<String> = []
        for topic in request.topics where occurrences[topic.name, default: 0] > 1 && answered.insert(topic.name).inserted {
            var result = CreateTopicsResponse.CreatableTopicResult(name: topic.name, numPartitions: -1, replicationFactor: -1, configs: nil)
            result.errorCode = KafkaErrorCode.invalidRequest.rawValue
            result.errorMessage = "Duplicate topic name."
            results.append(result)
        }
        return CreateTopicsResponse(topics: results)
    }

    /// One topic of a CreateTopics request.
    private func createTopic(_ topic: CreateTopicsRequest.CreatableTopic, validateOnly: Bool,
                             _ context: Context) -> CreateTopicsResponse.CreatableTopicResult {
        var result = CreateTopicsResponse.CreatableTopicResult(name: topic.name, numPartitions: -1, replicationFactor: -1, configs: nil)
        var configs: [String: String] = [:]
        for config in topic.configs {
            guard let value = config.value else {
                result.errorCode = KafkaErrorCode.invalidConfig.rawValue
                result.errorMessage = "Null value not supported for topic configs: \(config.name)"
                return result
            }
            configs[config.name] = value
        }
        do throws(BrokerError) {
            let created = try broker.createTopic(
                topic.name, partitions: topic.numPartitions == -1 ? nil : Int(topic.numPartitions), configs: configs,
                replicationFactor: topic.replicationFactor == -1 ? nil : Int(topic.replicationFactor),
                assignments: topic.assignments.isEmpty ? nil : topic.assignments.map { PartitionAssignment(partition: $0.partitionIndex, replicas: $0.brokerIds) },
                nodeId: nodeId, validateOnly: validateOnly)
            if !validateOnly { result.topicId = KafkaUUID(topicId: created.id) }
            result.numPartitions = Int32(created.partitions.count)
            result.replicationFactor = 1
            if context.version >= 5 {
                let described = validateOnly ? nil : broker.describeConfigs(.topic, name: topic.name, nodeId: nodeId,
                                                                            includeSynonyms: false, includeDocumentation: false)
                result.configs = described?.entries.map {
                    .init(name: $0.name, value: $0.value, readOnly: $0.readOnly, configSource: $0.source.rawValue, isSensitive: $0.sensitive)
                } ?? configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value, readOnly: false, configSource: 1, isSensitive: false) }
            }
            return result
        } catch {
            result.errorCode = error.code.rawValue
            result.errorMessage = error.message
            return result
        }
    }

    /// Creates those of `names` that do not exist when the broker auto-creates topics (Metadata
    /// and Produce), on the broker's topic-change thread (`Broker.changingTopics`). Names that are
    /// not valid topic names stay missing, for the caller to answer.
    func autoCreate(_ names: [String]) async {
        let missing = names.filter { broker.partitionCount($0) == nil }
        guard !missing.isEmpty, broker.config.autoCreateTopics else { return }
        for name in missing { _ = try? await broker.ensuringTopic(name) }
    }
}
