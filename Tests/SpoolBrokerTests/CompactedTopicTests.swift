import SpoolBroker
import SpoolFormat
import SpoolLog
import Testing

/// `cleanup.policy=compact`: keys are required, and nothing is deleted by retention unless
/// `delete` is in the policy too (Spool keeps every record; Kafka's guarantees allow it).
@Suite struct CompactedTopicTests {
    private func batch(_ keys: [String?]) -> [UInt8] {
        RecordBatch(producing: keys.enumerated().map { index, key in
            ProducerRecord(key: key.map { Array($0.utf8) }, value: Array("v\(index)".utf8), timestamp: 1_000)
        }).encoded()
    }

    @Test func aCompactedTopicRefusesRecordsWithoutKeysAndNamesThem() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("users", configs: ["cleanup.policy": "compact"])
        await #expect(throws: BrokerError.recordsWithoutKey(topic: "users", partition: 0, batchIndexes: [0, 2])) {
            try await broker.produce(topic: "users", partition: 0, records: batch([nil, "a", nil]), acks: .all)
        }
        #expect(try broker.describeTopic("users").partitions[0].logEndOffset == 0, "nothing of the refused batch is stored")
        let stored = try await broker.produce(topic: "users", partition: 0, records: batch(["a", "b"]), acks: .all)
        #expect(stored.baseOffset == 0)

        // Turning compaction off lets keyless records in again, at once.
        #expect(broker.alterConfigs(.topic, name: "users", configs: ["cleanup.policy": "delete"]).error == .none)
        _ = try await broker.produce(topic: "users", partition: 0, records: batch([nil]), acks: .all)
        #expect(broker.incrementalAlterConfigs(.topic, name: "users", alterations: [
            ConfigAlteration(name: "cleanup.policy", operation: .append, value: "compact"),
        ]).error == .none)
        await #expect(throws: BrokerError.self) { try await broker.produce(topic: "users", partition: 0, records: batch([nil]), acks: .all) }
    }

    @Test func compactAloneKeepsEveryRecordWhileCompactAndDeleteApplyRetention() throws {
        let defaults = LogConfig()
        let compact = try TopicConfig(partitions: 1, overrides: ["cleanup.policy": "compact", "retention.ms": "1000"]).logConfig(defaults: defaults)
        #expect(compact.keysRequired && compact.retentionMs == nil && compact.retentionBytes == nil)
        let both = try TopicConfig(partitions: 1, overrides: ["cleanup.policy": "compact,delete", "retention.ms": "1000"]).logConfig(defaults: defaults)
        #expect(both.keysRequired && both.retentionMs == 1000)
        let delete = try TopicConfig(partitions: 1, overrides: [:]).logConfig(defaults: defaults)
        #expect(!delete.keysRequired && delete.retentionMs == defaults.retentionMs)
    }

    @Test("DeleteRecords on a topic whose cleanup.policy lacks delete is a policy violation, as in Kafka")
    func deleteRecordsNeedsTheDeletePolicy() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("users", configs: ["cleanup.policy": "compact"])
        try broker.createTopic("both", configs: ["cleanup.policy": "compact,delete"])
        for topic in ["users", "both"] {
            _ = try await broker.produce(topic: topic, partition: 0, records: batch(["a", "b"]), acks: .all)
        }
        await #expect(throws: BrokerError.policyViolation("Records of partition users-0 can not be deleted due to the configured policy")) {
            try await broker.deleteRecords(topic: "users", partition: 0, before: Broker.deleteRecordsToHighWatermark)
        }
        #expect(try broker.describeTopic("users").partitions[0].logStartOffset == 0)
        let results = await broker.deleteRecords([(TopicPartition("users", 0), 1)])
        #expect(results.map(\.outcome.error) == [.policyViolation])
        #expect(try await broker.deleteRecords(topic: "both", partition: 0, before: Broker.deleteRecordsToHighWatermark) == 2)
    }
}
