import SpoolBroker
import SpoolFormat
import Testing

/// A compacted topic checks the keys of a gzip batch too: Kafka's `LogValidator` inflates every
/// compressed batch and gives each keyless record its error (`validateMessagesAndAssignOffsetsCompressed`,
/// then `validateKey`), so the batch is refused whole and nothing of it is stored.
@Suite struct CompactedTopicCompressedTests {
    /// A gzip batch of records with `keys` (`gzipped`).
    static func gzipBatch(_ keys: [String?]) -> [UInt8] {
        gzipped(RecordBatch(producing: keys.enumerated().map { index, key in
            ProducerRecord(key: key.map { Array($0.utf8) }, value: Array("v\(index)".utf8), timestamp: 1_000)
        }).encoded())
    }

    /// A broker with the compacted topic "users" and the topic "events", which is not.
    private static func withTopics(_ body: (Broker) async throws -> Void) async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("users", configs: ["cleanup.policy": "compact"])
        try broker.createTopic("events")
        try await body(broker)
    }

    @Test func aGzipBatchWithKeylessRecordsIsRefusedWhole() async throws {
        try await Self.withTopics { broker async throws in
            await #expect(throws: BrokerError.recordsWithoutKey(topic: "users", partition: 0, batchIndexes: [1, 2])) {
                try await broker.produce(topic: "users", partition: 0, records: Self.gzipBatch(["a", nil, nil, "b"]), acks: .all)
            }
            #expect(try broker.describeTopic("users").partitions[0].logEndOffset == 0, "nothing of the refused batch is stored")
            let stored = try await broker.produce(topic: "users", partition: 0, records: Self.gzipBatch(["a", "b"]), acks: .all)
            #expect((stored.baseOffset, stored.lastOffset) == (0, 1))
        }
    }

    @Test func aGzipBatchThatDoesNotInflateIsRefused() async throws {
        try await Self.withTopics { broker async throws in
            // The records' bytes kept as they are under a gzip flag: not gzip at all.
            let notGzip = RecordBatch(producing: [ProducerRecord(key: [1], value: [2], timestamp: 1_000)], attributes: BatchAttributes(compression: .gzip)).encoded()
            let refused = await #expect(throws: BrokerError.self) { try await broker.produce(topic: "users", partition: 0, records: notGzip, acks: .all) }
            #expect(refused?.code == .unknownServerError, "Kafka's KafkaException: Failed to decompress record stream")
            #expect(try broker.describeTopic("users").partitions[0].logEndOffset == 0)
            // Any topic refuses it: Kafka's broker inflates every compressed batch it is sent.
            let elsewhere = await #expect(throws: BrokerError.self) { try await broker.produce(topic: "events", partition: 0, records: notGzip, acks: .all) }
            #expect(elsewhere?.code == .unknownServerError)
            #expect(try broker.describeTopic("events").partitions[0].logEndOffset == 0)
        }
    }
}
