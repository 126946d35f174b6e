import SpoolBroker
import SpoolClient
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
        try await ensureTopic(topic, partitions: partitions, configs: [:])
    }

    public func ensureTopic(_ topic: String, partitions: Int, configs: [String: String]) async throws {
        do {
            _ = try await spool.broker.changingTopics { [spool] () throws(BrokerError) in
                try spool.createTopic(topic, partitions: partitions, configs: configs)
            }
        } catch .topicAlreadyExists {}
    }

    public func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)] {
        try await spool.send(topic: topic, records: records).map { ($0.partition, $0.offset >= 0 ? $0.offset : nil) }
    }

    public func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await subscribe(group: group, topic: topic, session: GroupSession(), hooks: hooks)
    }

    public func subscribe(group: String, topic: String, session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await subscribe(group: group, topics: [topic], session: session, hooks: hooks)
    }

    public func subscribe(group: String, topics: [String], session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        for topic in topics { _ = try await spool.broker.ensuringTopic(topic) }
        // It joins on its first poll, once the subscription can ask for the group's offsets.
        return try await ConsumerSubscription.subscribe(hooks: hooks, clientId: "spool-worker", session: session) { options in
            try Consumer(transport: EmbeddedConsumerTransport(broker: spool.broker), group: group, topics: topics, options: options)
        }
    }

    public func readAll(topic: String) async throws -> [ConsumedRecord] {
        let broker = spool.broker
        let description = try broker.describeTopic(topic)
        return try await Self.readAll(topic, description.partitions.map { ($0.partition, $0.logStartOffset, $0.highWatermark) }) { request in
            await broker.fetch([request], maxWaitMs: 0, minBytes: 1, maxBytes: 4 << 20).first
        }
    }

    /// Reads each partition from `start` up to `end` (its high watermark when the read began)
    /// with `fetch`: the whole list or an error, never part of it, as the network transport's read.
    /// A log start that moved past the read (retention, DeleteRecords) is read on from where the
    /// log now starts, as a consumer reset to the earliest offset would.
    static func readAll(_ topic: String, _ partitions: [(partition: Int32, start: Int64, end: Int64)],
                        fetch: (FetchPartitionRequest) async -> FetchedPartition?) async throws -> [ConsumedRecord] {
        var records: [ConsumedRecord] = []
        for (partition, start, end) in partitions {
            var next = start
            while next < end {
                guard let fetched = await fetch(FetchPartitionRequest(TopicPartition(topic, partition), fetchOffset: next)) else {
                    throw ClientError.kafka(code: KafkaErrorCode.unknownServerError.rawValue, context: "reading \(topic)[\(partition)] at \(next): no answer")
                }
                if fetched.error == .offsetOutOfRange, fetched.logStartOffset > next {
                    next = fetched.logStartOffset
                    continue
                }
                guard fetched.error == .none else {
                    throw ClientError.kafka(code: fetched.error.rawValue, context: "reading \(topic)[\(partition)] at \(next)")
                }
                guard let slice = fetched.records, !slice.isEmpty else { break }
                let read = slice.withUnsafeBytes { FetchedRecords(decoding: $0, topic: topic, partition: partition, from: next) }
                if let unreadable = read.unreadable, read.records.isEmpty { throw BrokerError.unreadableRecords(unreadable.description) }
                guard read.next > next else { break }
                records += read.records.filter { $0.offset < end }
                next = read.next
            }
        }
        return records
    }

    public func close() async {}
}
