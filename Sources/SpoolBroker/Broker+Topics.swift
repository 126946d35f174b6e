import Foundation
import SpoolLog

/// A topic as `describe` reports it.
public struct TopicDescription: Equatable, Sendable {
    public struct PartitionInfo: Equatable, Sendable {
        public var partition: Int32
        public var logStartOffset: Int64
        public var highWatermark: Int64
        public var logEndOffset: Int64
        public var sizeInBytes: Int
    }

    public var name: String
    public var id: String
    public var partitions: [PartitionInfo]
    /// The configs set explicitly for this topic.
    public var configs: [String: String]
}

extension Broker {
    /// Creates a topic with `partitions` partitions and the given Kafka topic configs
    /// (`retention.ms`, `segment.bytes`, `max.message.bytes`, …). Throws `.invalidTopic`,
    /// `.topicAlreadyExists`, `.invalidPartitions` or `.invalidConfig`; nothing is created then.
    @discardableResult
    public func createTopic(_ name: String, partitions: Int? = nil, configs: [String: String] = [:]) throws(BrokerError) -> TopicDescription {
        try ensureOpen()
        try TopicName.validate(name)
        let config = TopicConfig(partitions: partitions ?? self.config.defaultPartitions, overrides: configs)
        let logConfig = try config.logConfig(defaults: self.config.log)
        return try topicChanges.withLock { _ throws(BrokerError) -> TopicDescription in
            let (exists, count) = topics.withLock { ($0[name] != nil, $0.count) }
            if exists { throw .topicAlreadyExists(name) }
            guard count < self.config.topicsMax else { throw .invalidRequest("the broker holds its maximum of \(self.config.topicsMax) topics") }
            let metadata = TopicMetadata(name: name, id: UUID().uuidString, config: config, createdMs: clock())
            var opened: [Partition] = []
            do {
                for index in 0..<config.partitions {
                    opened.append(try Partition.open(
                        directory: TopicStore.partitionDirectory(self.config.dataDirectory, topic: name, partition: index),
                        topic: name, index: Int32(index), config: logConfig,
                        snapshotIntervalBytes: self.config.producerStateSnapshotBytes, fileSystem: fileSystem, clock: clock))
                }
                try topicStore.save(metadata)
            } catch {
                for partition in opened { try? partition.log.close() }
                try? topicStore.delete(metadata)
                throw error as? BrokerError ?? .storage(error as? LogError ?? .failed(String(describing: error)))
            }
            topics.withLock { $0[name] = Topic(metadata: metadata, partitions: opened) }
            return describe(Topic(metadata: metadata, partitions: opened))
        }
    }

    /// The topic, creating it with the default partition count if auto-creation is on.
    public func ensureTopic(_ name: String) throws(BrokerError) -> TopicDescription {
        if let topic = topics.withLock({ $0[name] }) { return describe(topic) }
        guard config.autoCreateTopics else { throw .unknownTopicOrPartition(topic: name, partition: nil) }
        do {
            return try createTopic(name)
        } catch .topicAlreadyExists {
            return try describeTopic(name)
        }
    }

    /// Deletes a topic, its partitions' data and the offsets groups committed for it.
    public func deleteTopic(_ name: String) async throws(BrokerError) {
        try ensureOpen()
        let removed = try topicChanges.withLock { _ throws(BrokerError) -> Topic in
            guard let topic = topics.withLock({ $0.removeValue(forKey: name) }) else {
                throw .unknownTopicOrPartition(topic: name, partition: nil)
            }
            for partition in topic.partitions { try? partition.log.close() }
            do { try topicStore.delete(topic.metadata) } catch { throw .storage(.failed(String(describing: error))) }
            return topic
        }
        dedupe.forget(topic: name)
        let keys = offsets.keys(topic: removed.metadata.name)
        try await offsets.commit(keys.map { ($0, nil) })
    }

    /// Every topic, by name.
    public func listTopics() -> [TopicDescription] {
        topics.withLock { Array($0.values) }.sorted { $0.metadata.name < $1.metadata.name }.map(describe)
    }

    public func describeTopic(_ name: String) throws(BrokerError) -> TopicDescription {
        guard let topic = topics.withLock({ $0[name] }) else { throw .unknownTopicOrPartition(topic: name, partition: nil) }
        return describe(topic)
    }

    /// Partition count of a topic, nil if it does not exist.
    public func partitionCount(_ topic: String) -> Int? {
        topics.withLock { $0[topic]?.partitions.count }
    }

    func describe(_ topic: Topic) -> TopicDescription {
        TopicDescription(
            name: topic.metadata.name, id: topic.metadata.id,
            partitions: topic.partitions.map { partition in
                TopicDescription.PartitionInfo(
                    partition: partition.index, logStartOffset: partition.log.logStartOffset,
                    highWatermark: partition.log.highWatermark, logEndOffset: partition.log.logEndOffset,
                    sizeInBytes: partition.log.sizeInBytes)
            },
            configs: topic.metadata.config.overrides)
    }
}
