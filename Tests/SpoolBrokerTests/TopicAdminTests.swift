import Foundation
import SpoolBroker
import Testing
import SpoolFormat

@Suite struct TopicAdminTests {
    @Test func createTopicsTakesAnAssignmentThatNamesOnlyThisNode() throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        let assignment = [PartitionAssignment(partition: 1, replicas: [5]), PartitionAssignment(partition: 0, replicas: [5])]
        #expect(try broker.createTopic("jobs", assignments: assignment, nodeId: 5).partitions.count == 2)
        #expect(try broker.createTopic("one", replicationFactor: 1).partitions.count == 1)
        #expect(try broker.createTopic("dflt", partitions: -1, replicationFactor: -1).partitions.count == 1)

        func refused(_ code: KafkaErrorCode, _ message: String? = nil, _ create: () throws -> Void) {
            #expect { try create() } throws: { error in
                guard let error = error as? BrokerError, error.code == code else { return false }
                return message.map { error.message == $0 } ?? true
            }
        }
        refused(.invalidReplicationFactor, "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered.") {
            try broker.createTopic("x", partitions: 2, replicationFactor: 3)
        }
        refused(.invalidReplicationFactor) { try broker.createTopic("x", replicationFactor: 0) }
        refused(.invalidPartitions, "Number of partitions was set to an invalid non-positive value.") { try broker.createTopic("x", partitions: 0) }
        refused(.invalidPartitions) { try broker.createTopic("x", partitions: TopicConfig.partitionsMax + 1) }
        refused(.invalidReplicaAssignment) { try broker.createTopic("x", assignments: [PartitionAssignment(partition: 0, replicas: [6])], nodeId: 5) }
        refused(.invalidReplicaAssignment) { try broker.createTopic("x", assignments: [PartitionAssignment(partition: 0, replicas: [5, 5])], nodeId: 5) }
        refused(.invalidReplicaAssignment) { try broker.createTopic("x", assignments: [PartitionAssignment(partition: 0, replicas: [])], nodeId: 5) }
        refused(.invalidReplicaAssignment, "Partitions should be a consecutive 0-based integer sequence") {
            try broker.createTopic("x", assignments: [PartitionAssignment(partition: 1, replicas: [5])], nodeId: 5)
        }
        refused(.invalidRequest) { try broker.createTopic("x", partitions: 1, assignments: [PartitionAssignment(partition: 0, replicas: [5])], nodeId: 5) }
        refused(.invalidConfig) { try broker.createTopic("x", configs: ["min.insync.replicas": "2"]) }
        #expect(broker.listTopics().map(\.name) == ["dflt", "jobs", "one"])
        #expect(!FileManager.default.fileExists(atPath: data.path + "/x-0"))
    }

    @Test func createTopicsAcceptsEveryKafkaConfigAndValidateOnlyCreatesNothing() throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        var every: [String: String] = [:]
        for definition in TopicConfigCatalogue.all { every[definition.name] = definition.defaultValue }
        every["segment.bytes"] = "1048576"
        let checked = try broker.createTopic("dry", partitions: 3, configs: every, validateOnly: true)
        #expect(checked.partitions.count == 3)
        #expect(broker.listTopics().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: data.path + "/dry-0"))
        try broker.createTopic("all", configs: every)
        #expect(try broker.describeTopic("all").configs.count == TopicConfigCatalogue.all.count)
        #expect(broker.describeConfigs(.topic, name: "all").entries.allSatisfy { $0.source == .dynamicTopicConfig })
    }

    @Test func createPartitionsGrowsATopicDurablyAndTheNewOnesAreUsableAtOnce() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config())
        try broker.createTopic("jobs", partitions: 2, configs: ["retention.ms": "3600000"])
        _ = try await broker.produce(topic: "jobs", partition: 1, records: batch("old"), acks: .all)
        try broker.createPartitions(topic: "jobs", count: 3, validateOnly: true)
        #expect(broker.partitionCount("jobs") == 2)
        try broker.createPartitions(topic: "jobs", count: 4, assignments: [[9], [9]], nodeId: 9)
        #expect(broker.partitionCount("jobs") == 4)
        _ = try await broker.produce(topic: "jobs", partition: 3, records: batch("new"), acks: .all)
        #expect(try await values(broker, "jobs", 3) == ["new-0", "new-1"])
        #expect(try await values(broker, "jobs", 1) == ["old-0", "old-1"])
        try broker.close()
        broker = try Broker.open(data.config())
        defer { try? broker.close() }
        #expect(broker.partitionCount("jobs") == 4)
        #expect(try await values(broker, "jobs", 3) == ["new-0", "new-1"])
        #expect(try broker.describeTopic("jobs").configs == ["retention.ms": "3600000"])
    }

    @Test func createPartitionsRefusesWhatKafkaRefusesAndChangesNothing() throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 3)
        let cases: [(Int, [[Int32]]?, KafkaErrorCode, String?)] = [
            (2, nil, .invalidPartitions, "Topic currently has 3 partitions, which is higher than the requested 2."),
            (3, nil, .invalidPartitions, "Topic already has 3 partitions."),
            (TopicConfig.partitionsMax + 1, nil, .invalidPartitions, nil),
            (5, [[0]], .invalidReplicaAssignment, "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified."),
            (4, [[1]], .invalidReplicaAssignment, nil),
            (4, [[0, 0]], .invalidReplicaAssignment, nil),
        ]
        for (count, assignments, code, message) in cases {
            let outcome = broker.createPartitionsOutcome(topic: "jobs", count: count, assignments: assignments, nodeId: 0)
            #expect(outcome.error == code, "\(count) \(String(describing: assignments))")
            if let message { #expect(outcome.message == message) }
        }
        #expect(broker.createPartitionsOutcome(topic: "ghost", count: 4).error == .unknownTopicOrPartition)
        #expect(broker.partitionCount("jobs") == 3)
        #expect(!FileManager.default.fileExists(atPath: data.path + "/jobs-3"))
    }

    @Test func deleteRecordsMovesTheStartForFetchAndListOffsetsAndSurvivesARestart() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config())
        try broker.createTopic("jobs", partitions: 2)
        for index in 0..<5 { _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("r\(index)"), acks: .all) }
        #expect(try await broker.deleteRecords(topic: "jobs", partition: 0, before: 5) == 5)
        #expect(try broker.listOffset(topic: "jobs", partition: 0, timestamp: -2).offset == 5)
        let below = await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 4)], maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        #expect(below.first?.error == .offsetOutOfRange)
        let at = await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 5)], maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        #expect(at.first?.error == KafkaErrorCode.none)
        #expect(at.first?.logStartOffset == 5)

        await #expect(throws: BrokerError.offsetOutOfRange(requested: 11, logStart: 5, highWatermark: 10)) {
            _ = try await broker.deleteRecords(topic: "jobs", partition: 0, before: 11)
        }
        await #expect(throws: BrokerError.unknownTopicOrPartition(topic: "jobs", partition: 2)) {
            _ = try await broker.deleteRecords(topic: "jobs", partition: 2, before: 0)
        }
        let results = await broker.deleteRecords([(TopicPartition("jobs", 0), Broker.deleteRecordsToHighWatermark),
                                                  (TopicPartition("jobs", 1), 3), (TopicPartition("jobs", 0), 2)])
        #expect(results.map(\.lowWatermark) == [10, -1, 10])
        #expect(results.map(\.outcome.error) == [.none, .offsetOutOfRange, .none])
        try broker.close()

        broker = try Broker.open(data.config())
        defer { try? broker.close() }
        #expect(try broker.describeTopic("jobs").partitions[0].logStartOffset == 10)
        #expect(try broker.listOffset(topic: "jobs", partition: 0, timestamp: -2).offset == 10)
    }
}

/// The broker-wide partition limit: each partition keeps files open, so a client asking for more
/// than the process can hold is refused instead of running the broker out of descriptors.
@Suite struct PartitionBudgetTests {
    static func refusal(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as BrokerError where error.code == .invalidPartitions {
            return error.message
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func topicsAndPartitionsPastTheBrokersLimitAreRefusedAndNothingChanges() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var config = data.config()
        config.partitionsMax = 10
        let broker = try Broker.open(config)
        defer { try? broker.close() }
        try broker.createTopic("a", partitions: 6)
        let message = Self.refusal { try broker.createTopic("b", partitions: 5) }
        #expect(message?.contains("The broker holds 6 partitions; 5 more would pass its limit of 10") == true, "\(String(describing: message))")
        #expect(Self.refusal { try broker.createTopic("b", partitions: 5, validateOnly: true) } != nil, "validate-only checks the limit too")
        #expect(Self.refusal { try broker.createPartitions(topic: "a", count: 11) } != nil)
        #expect(broker.listTopics().map(\.name) == ["a"])
        #expect(!FileManager.default.fileExists(atPath: data.path + "/b-0"))
        #expect(!FileManager.default.fileExists(atPath: data.path + "/a-6"))
        // Up to the limit is fine, and deleting a topic gives its partitions back.
        try broker.createPartitions(topic: "a", count: 8)
        try broker.createTopic("b", partitions: 2)
        #expect(Self.refusal { try broker.createTopic("c") } != nil)
        try await broker.deleteTopic("b")
        try broker.createTopic("c", partitions: 2)
    }

    @Test func partitionsAlreadyOnDiskOpenPastALowerLimit() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        do {
            let broker = try Broker.open(data.config())
            try broker.createTopic("kept", partitions: 4)
            for partition in Int32(0)..<4 { _ = try await broker.produce(topic: "kept", partition: partition, records: batch("p\(partition)"), acks: .all) }
            try broker.close()
        }
        var config = data.config()
        config.partitionsMax = 2
        let broker = try Broker.open(config)
        defer { try? broker.close() }
        for partition in Int32(0)..<4 { #expect(try await values(broker, "kept", partition) == ["p\(partition)-0", "p\(partition)-1"]) }
        #expect(Self.refusal { try broker.createTopic("more") } != nil)
    }
}
