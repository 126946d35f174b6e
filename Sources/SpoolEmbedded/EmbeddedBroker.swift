import SpoolBroker
import SpoolFormat
import SpoolLog
import SpoolSystem
import Synchronization

/// Spool in-process: a broker in a directory, with no server. Open it, create topics, send
/// records and consume them as a member of a group, all with async/await.
///
/// ```swift
/// let spool = try EmbeddedBroker.open(directory: "spool-data")
/// try spool.createTopic("emails", partitions: 4)
/// let sent = try await spool.send(topic: "emails", key: "user-42", value: "welcome")
/// ```
///
/// Thread-safe. Records are on disk when `send` returns (under the default `fsync=always`).
public final class EmbeddedBroker: Sendable {
    /// The broker underneath, for everything the convenience API does not cover.
    public let broker: Broker
    private let spreader = Mutex(RoundRobinPartitioner())

    /// Opens (creating if needed) a data directory; recovery of every partition happens here.
    public static func open(directory: String, fsync: FsyncPolicy = .always, defaultPartitions: Int = 1,
                            autoCreateTopics: Bool = true) throws(BrokerError) -> EmbeddedBroker {
        var config = BrokerConfig(dataDirectory: directory)
        config.log.fsync = fsync
        config.defaultPartitions = defaultPartitions
        config.autoCreateTopics = autoCreateTopics
        return EmbeddedBroker(broker: try Broker.open(config))
    }

    /// Wraps a broker that is already open.
    public init(broker: Broker) { self.broker = broker }

    /// Creates a topic (see `Broker.createTopic` for the configs understood).
    @discardableResult
    public func createTopic(_ name: String, partitions: Int = 1, configs: [String: String] = [:]) throws(BrokerError) -> TopicDescription {
        try broker.createTopic(name, partitions: partitions, configs: configs)
    }

    /// Sends one record and returns once it is stored (durable under `fsync=always`). The key
    /// picks the partition with Kafka's murmur2, so the key lands where a Kafka client would put
    /// it; records without a key are spread round robin.
    public func send(topic: String, key: String?, value: String, headers: [String: String] = [:]) async throws(BrokerError) -> RecordMetadata {
        try await send(topic: topic, records: [OutgoingRecord(key: key, value: value, headers: headers)])[0]
    }

    /// Sends records, one batch per partition, and returns where each went, in order.
    public func send(topic: String, records: [OutgoingRecord]) async throws(BrokerError) -> [RecordMetadata] {
        guard !records.isEmpty else { return [] }
        let partitions = try await broker.ensuringTopic(topic).partitions.count
        let now = currentTimeMs()
        var byPartition: [Int32: [Int]] = [:]
        for (index, record) in records.enumerated() {
            let partition = try choosePartition(record, partitions: partitions, topic: topic)
            byPartition[partition, default: []].append(index)
        }
        var results = [RecordMetadata?](repeating: nil, count: records.count)
        for (partition, indexes) in byPartition.sorted(by: { $0.key < $1.key }) {
            let batch = RecordBatch(producing: indexes.map { index in
                let record = records[index]
                return ProducerRecord(key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp ?? now)
            }).encoded()
            let stored = try await broker.produce(topic: topic, partition: partition, records: batch, acks: .all)
            for (position, index) in indexes.enumerated() {
                // Held records get their offset when due; a duplicate answers with where its key
                // was first stored; the rest keep their place in the batch's offset range.
                let held = SpoolHeaders.parseMilliseconds(records[index].headers.first { $0.key == SpoolHeaders.deliverAt }?.value).map { $0 > now } ?? false
                let offset = if let original = stored.duplicateOffsets[position] { original } else {
                    stored.baseOffset < 0 || held ? -1 : stored.baseOffset + Int64(position)
                }
                results[index] = RecordMetadata(topic: topic, partition: partition, offset: offset)
            }
        }
        return results.compactMap { $0 }
    }

    private func choosePartition(_ record: OutgoingRecord, partitions: Int, topic: String) throws(BrokerError) -> Int32 {
        if let partition = record.partition {
            guard partition >= 0, Int(partition) < partitions else { throw .unknownTopicOrPartition(topic: topic, partition: partition) }
            return partition
        }
        if let key = record.key { return Partitioner.partition(forKey: key, partitions: partitions) }
        return spreader.withLock { $0.partition(partitions: partitions) }
    }

    /// Flushes and closes everything.
    public func close() throws(BrokerError) { try broker.close() }
}
