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
        // Where the cluster does not serve CreateTopics the topic is auto-created, with the cluster's
        // default partition count (docs/client.md).
        do { try await client.createTopic(topic, partitions: Int32(partitions)) } catch where error.kafkaCode == .topicAlreadyExists {}
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
        var options = Consumer.Options()
        options.pollWaitMs = 100
        options.onRevoked = { partitions in await hooks.revoked(partitions.compactMap(TopicPartition.init(key:))) }
        let created = LockedValue<Consumer?>(nil)
        options.onAssigned = { keys in
            let partitions = keys.compactMap(TopicPartition.init(key:))
            var stored: [TopicPartition: CommittedOffset]?
            if let consumer = created.value { stored = try? await NetworkSubscription(consumer: consumer).committed(partitions) }
            var owned: [TopicPartition: CommittedOffset?] = [:]
            for partition in partitions { owned.updateValue(stored?[partition], forKey: partition) }
            await hooks.assigned(owned)
        }
        let consumer = try Consumer(client: client, group: group, topics: [topic], options: options)
        created.value = consumer
        return NetworkSubscription(consumer: consumer)
    }

    public func readAll(topic: String) async throws -> [ConsumedRecord] {
        let ends = try await client.listOffsets(try await client.partitions(of: topic).map { (topic, $0.partition) }, timestamp: -1)
        var options = Consumer.Options()
        options.pollWaitMs = 50
        let consumer = try Consumer(client: client, group: nil, topics: [topic], options: options)
        var records: [ConsumedRecord] = []
        let deadline = Date().addingTimeInterval(60)
        func reachedEnds() -> Bool {
            ends.allSatisfy { key, end in
                guard let partition = TopicPartition(key: key) else { return true }
                return (consumer.position(topic: topic, partition: partition.partition) ?? 0) >= end
            }
        }
        repeat {
            records += try await consumer.poll().filter { $0.offset < ends[$0.topicPartition.key] ?? 0 }
        } while !reachedEnds() && Date() < deadline
        await consumer.close()
        return records.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
    }

    public func close() async {
        await producer.close()
        client.close()
    }
}

extension TopicPartition {
    /// From the client's "topic/partition" form.
    init?(key: String) {
        guard let slash = key.lastIndex(of: "/"), let partition = Int32(key[key.index(after: slash)...]) else { return nil }
        self.init(String(key[..<slash]), partition)
    }

    /// The client's "topic/partition" form.
    var key: String { "\(topic)/\(partition)" }
}

/// A client `Consumer` seen through `JobSubscription`.
struct NetworkSubscription: JobSubscription {
    let consumer: Consumer

    func poll() async throws -> [ConsumedRecord] { try await consumer.poll() }

    func commit(_ offsets: [TopicPartition: CommittedOffset]) async throws {
        try await consumer.commit(offsets.sorted { $0.key < $1.key }.map {
            Consumer.OffsetCommit(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value.offset, metadata: $0.value.metadata)
        })
    }

    func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: CommittedOffset] {
        var result: [TopicPartition: CommittedOffset] = [:]
        for entry in try await consumer.committed(partitions.map { ($0.topic, $0.partition) }) where entry.errorCode == 0 && entry.offset >= 0 {
            result[TopicPartition(entry.topic, entry.partition)] = CommittedOffset(offset: entry.offset, metadata: entry.metadata ?? "")
        }
        return result
    }

    func pause(_ partitions: [TopicPartition]) { consumer.pause(partitions.map(\.key)) }
    func resume(_ partitions: [TopicPartition]) { consumer.resume(partitions.map(\.key)) }
    func close() async { await consumer.close() }
}
