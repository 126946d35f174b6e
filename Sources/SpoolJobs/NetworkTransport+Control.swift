import SpoolClient
import SpoolFormat

extension NetworkTransport: JobControlTransport {
    public func partitionCount(of topic: String) async throws -> Int? {
        do {
            return try await client.partitions(of: topic).count
        } catch where error.kafkaCode == .unknownTopicOrPartition {
            return nil
        }
    }

    public func follow(topic: String) async throws -> any TopicFollower {
        var options = Consumer.Options()
        options.pollWaitMs = 100
        options.clientId = client.clientId
        return ConsumerFollower(consumer: try Consumer(client: client, group: nil, topics: [topic], options: options))
    }

    public func committedOffsets(group: String, topic: String) async throws -> [TopicPartition: CommittedOffset] {
        let partitions = try await client.partitions(of: topic).map { TopicPartition(topic, $0.partition) }
        // A consumer that never polls never joins: it only asks the group coordinator (OffsetFetch).
        let consumer = try Consumer(client: client, group: group, topics: [topic])
        defer { Task { await consumer.close() } }
        return try await consumer.committed(partitions)
    }
}

/// A group-less `Consumer` as a `TopicFollower`: the same for either transport.
public struct ConsumerFollower: TopicFollower {
    public let consumer: Consumer

    public init(consumer: Consumer) { self.consumer = consumer }

    public func poll(maxWaitMs: Int32) async throws -> [ConsumedRecord] { try await consumer.poll(maxWaitMs: maxWaitMs) }
    public func position(_ partition: TopicPartition) -> Int64? { consumer.position(partition) }
    public func ends() async throws -> [TopicPartition: Int64] {
        var ends: [TopicPartition: Int64] = [:]
        for topic in consumer.topics { ends.merge(try await consumer.endOffsets(of: topic)) { $1 } }
        return ends
    }
    public func close() async { await consumer.close() }
}
