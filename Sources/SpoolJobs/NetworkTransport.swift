import Foundation
import SpoolClient
import SpoolFormat
import Synchronization

/// The job runtime over the Kafka protocol: against `spool serve` or a Kafka cluster. Produces
/// with an idempotent producer and acks=all; each subscription is a group consumer with its own
/// connections.
public final class NetworkTransport: JobTransport {
    public let client: SpoolClient
    let producer: Producer

    /// Connects lazily to `bootstrap` ("host:port", or a comma-separated list of a cluster's brokers).
    public init(bootstrap: String, clientId: String = "spool-jobs") throws {
        client = try SpoolClient(bootstrap: bootstrap, clientId: clientId)
        var options = Producer.Options()
        options.lingerMs = 1
        producer = Producer(client: client, options: options)
    }

    public func ensureTopic(_ topic: String, partitions: Int) async throws {
        try await ensureTopic(topic, partitions: partitions, configs: [:])
    }

    public func ensureTopic(_ topic: String, partitions: Int, configs: [String: String]) async throws {
        // Where the cluster does not serve CreateTopics (librdkafka's mock cluster) the topic is
        // auto-created, with the cluster's default partition count and configs (docs/client.md).
        do {
            try await client.createTopic(topic, partitions: Int32(partitions), configs: configs)
        } catch where error.kafkaCode == .topicAlreadyExists {
        } catch .unsupported where !configs.isEmpty {
            try await ensureTopic(topic, partitions: partitions, configs: [:])
        }
    }

    public func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)] {
        guard !records.isEmpty else { return [] }
        try await producer.prepare(topic: topic)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let results = Mutex<(left: Int, values: [Result<RecordMetadata, ClientError>?])>((records.count, Array(repeating: nil, count: records.count)))
        let sent: [Result<RecordMetadata, ClientError>] = await withCheckedContinuation { continuation in
            for (index, record) in records.enumerated() {
                producer.send(topic: topic, key: record.key, value: record.value, headers: record.headers, partition: record.partition) { result in
                    let done = results.withLock { state -> [Result<RecordMetadata, ClientError>]? in
                        state.values[index] = result
                        state.left -= 1
                        return state.left == 0 ? state.values.compactMap { $0 } : nil
                    }
                    if let done { continuation.resume(returning: done) }
                }
            }
        }
        return try zip(records, sent).map { record, result in
            let metadata = try result.get()
            let held = SpoolHeaders.parseMilliseconds(record.headers.first { $0.key == SpoolHeaders.deliverAt }?.value).map { $0 > now } ?? false
            return (metadata.partition, held || metadata.offset < 0 ? nil : metadata.offset)
        }
    }

    public func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await subscribe(group: group, topic: topic, session: GroupSession(), hooks: hooks)
    }

    public func subscribe(group: String, topic: String, session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await subscribe(group: group, topics: [topic], session: session, hooks: hooks)
    }

    public func subscribe(group: String, topics: [String], session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await ConsumerSubscription.subscribe(hooks: hooks, clientId: client.clientId, session: session) { options in
            try Consumer(client: client, group: group, topics: topics, options: options)
        }
    }

    public func readAll(topic: String) async throws -> [ConsumedRecord] {
        let partitions = try await client.partitions(of: topic).map { TopicPartition(topic, $0.partition) }
        let ends = try await client.listOffsets(partitions, timestamp: -1)
        var options = Consumer.Options()
        options.pollWaitMs = 50
        let consumer = try Consumer(client: client, group: nil, topics: [topic], options: options)
        do {
            let records = try await ReadToEnd.read(topic, ends: Dictionary(uniqueKeysWithValues: partitions.map { ($0, ends[$0] ?? 0) }),
                                                   poll: { try await consumer.poll() }, position: { consumer.position($0) })
            await consumer.close()
            return records
        } catch {
            await consumer.close()
            throw error
        }
    }

    public func close() async {
        await producer.close()
        client.close()
    }
}
