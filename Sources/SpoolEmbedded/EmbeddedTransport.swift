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

    public func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)] {
        try await spool.send(topic: topic, records: records).map { ($0.partition, $0.offset >= 0 ? $0.offset : nil) }
    }

    public func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        var options = GroupConsumer.Options()
        options.pollWaitMs = 100
        options.clientId = "spool-worker"
        options.onRevoked = { partitions in await hooks.revoked(partitions) }
        let broker = spool.broker
        options.onAssigned = { partitions in
            let committed = broker.committedOffsets(group: group, partitions: partitions)
            var owned: [TopicPartition: CommittedOffset?] = [:]
            for partition in partitions { owned.updateValue(committed[partition], forKey: partition) }
            await hooks.assigned(owned)
        }
        return EmbeddedSubscription(consumer: try await spool.consumer(group: group, topics: [topic], options: options))
    }

    public func readAll(topic: String) async throws -> [ConsumedRecord] {
        let broker = spool.broker
        let description = try broker.describeTopic(topic)
        var records: [ConsumedRecord] = []
        for partition in description.partitions {
            var next = partition.logStartOffset
            while next < partition.highWatermark {
                let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition(topic, partition.partition), fetchOffset: next)],
                                                 maxWaitMs: 0, minBytes: 1, maxBytes: 4 << 20)
                guard let slice = fetched.first?.records, !slice.isEmpty else { break }
                let read = slice.records(of: TopicPartition(topic, partition.partition), from: next)
                if let unreadable = read.unreadable, read.records.isEmpty { throw BrokerError.unreadableRecords(unreadable.description) }
                guard read.next > next else { break }
                records += read.records.filter { $0.offset < partition.highWatermark }
                next = read.next
            }
        }
        return records
    }

    public func close() async {}
}

/// A `GroupConsumer` seen through `JobSubscription`.
struct EmbeddedSubscription: JobSubscription {
    let consumer: GroupConsumer

    func poll() async throws -> [ConsumedRecord] { try await consumer.poll() }

    func commit(_ offsets: [TopicPartition: CommittedOffset]) async throws { try await consumer.commit(offsets) }

    func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: CommittedOffset] { consumer.committed(partitions) }

    func pause(_ partitions: [TopicPartition]) { consumer.pause(partitions) }
    func resume(_ partitions: [TopicPartition]) { consumer.resume(partitions) }
    func close() async { consumer.close() }
}
