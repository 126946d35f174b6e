import SpoolBroker
import SpoolFormat
import SpoolJobs

extension JobQueue {
    /// A queue over an in-process broker.
    public static func embedded(_ spool: EmbeddedBroker, partitions: Int = 8) -> JobQueue {
        JobQueue(transport: EmbeddedTransport(spool), partitions: partitions)
    }
}

/// The job runtime over an in-process broker: no network, same semantics.
public struct EmbeddedTransport: JobTransport {
    public let spool: EmbeddedBroker

    public init(_ spool: EmbeddedBroker) { self.spool = spool }

    public func ensureTopic(_ topic: String, partitions: Int) async throws {
        do { try spool.createTopic(topic, partitions: partitions) } catch .topicAlreadyExists {}
    }

    public func send(topic: String, records: [OutgoingJobRecord]) async throws -> [(partition: Int32, offset: Int64?)] {
        let sent = try await spool.send(topic: topic, records: records.map {
            EmbeddedBroker.OutgoingRecord(key: $0.key, value: $0.value, headers: $0.headers, partition: $0.partition)
        })
        return sent.map { ($0.partition, $0.offset >= 0 ? $0.offset : nil) }
    }

    public func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        var options = GroupConsumer.Options()
        options.pollWaitMs = 100
        options.clientId = "spool-worker"
        options.onRevoked = { partitions in await hooks.revoked(partitions.map { JobPartition($0.topic, $0.partition) }) }
        let broker = spool.broker
        options.onAssigned = { partitions in
            let committed = broker.committedOffsets(group: group, partitions: partitions)
            var owned: [JobPartition: StoredOffset?] = [:]
            for partition in partitions {
                owned.updateValue(committed[partition].map { StoredOffset(offset: $0.offset, metadata: $0.metadata) }, forKey: JobPartition(partition.topic, partition.partition))
            }
            await hooks.assigned(owned)
        }
        return EmbeddedSubscription(consumer: try await spool.consumer(group: group, topics: [topic], options: options))
    }

    public func readAll(topic: String) async throws -> [JobRecord] {
        let broker = spool.broker
        let description = try broker.describeTopic(topic)
        var records: [JobRecord] = []
        for partition in description.partitions {
            var next = partition.logStartOffset
            while next < partition.highWatermark {
                let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition(topic, partition.partition), fetchOffset: next)],
                                                 maxWaitMs: 0, minBytes: 1, maxBytes: 4 << 20)
                guard let slice = fetched.first?.records, !slice.isEmpty else { break }
                try slice.forEachBatch { bytes in
                    let batch = try RecordBatch(decoding: bytes)
                    for record in batch.records where batch.offset(of: record) >= next && batch.offset(of: record) < partition.highWatermark {
                        records.append(JobRecord(topic: topic, partition: partition.partition, offset: batch.offset(of: record),
                                                 timestamp: batch.timestamp(of: record), key: record.key, value: record.value, headers: record.headers))
                    }
                    next = batch.baseOffset + Int64(batch.lastOffsetDelta) + 1
                }
            }
        }
        return records
    }

    public func close() async {}
}

/// A `GroupConsumer` seen through `JobSubscription`.
struct EmbeddedSubscription: JobSubscription {
    let consumer: GroupConsumer

    func poll() async throws -> [JobRecord] {
        try await consumer.poll().map {
            JobRecord(topic: $0.topic, partition: $0.partition, offset: $0.offset, timestamp: $0.timestamp, key: $0.key, value: $0.value, headers: $0.headers)
        }
    }

    func commit(_ offsets: [JobPartition: StoredOffset]) async throws {
        var commits: [TopicPartition: CommittedOffset] = [:]
        for (partition, stored) in offsets { commits[TopicPartition(partition.topic, partition.partition)] = CommittedOffset(offset: stored.offset, metadata: stored.metadata) }
        try await consumer.commit(commits)
    }

    func committed(_ partitions: [JobPartition]) async throws -> [JobPartition: StoredOffset] {
        var result: [JobPartition: StoredOffset] = [:]
        for (partition, committed) in consumer.committed(partitions.map { TopicPartition($0.topic, $0.partition) }) {
            result[JobPartition(partition.topic, partition.partition)] = StoredOffset(offset: committed.offset, metadata: committed.metadata)
        }
        return result
    }

    func pause(_ partitions: [JobPartition]) { consumer.pause(partitions.map { TopicPartition($0.topic, $0.partition) }) }
    func resume(_ partitions: [JobPartition]) { consumer.resume(partitions.map { TopicPartition($0.topic, $0.partition) }) }
    func close() async { consumer.close() }
}
