import Foundation
import SpoolBroker
import SpoolFormat
import Testing

@Suite struct BrokerTopicTests {
    @Test func topicsAreCreatedListedDescribedDeletedAndSurviveARestart() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config())
        try broker.createTopic("emails", partitions: 4, configs: ["retention.ms": "3600000", "segment.bytes": "1048576"])
        try broker.createTopic("images", partitions: 1)
        #expect(broker.listTopics().map(\.name) == ["emails", "images"])
        let emails = try broker.describeTopic("emails")
        #expect(emails.partitions.map(\.partition) == [0, 1, 2, 3])
        #expect(emails.configs == ["retention.ms": "3600000", "segment.bytes": "1048576"])
        _ = try await broker.produce(topic: "emails", partition: 2, records: batch("e"), acks: .all)
        try broker.close()

        broker = try Broker.open(data.config())
        #expect(broker.listTopics().map(\.name) == ["emails", "images"])
        #expect(try broker.describeTopic("emails").id == emails.id)
        #expect(try broker.describeTopic("emails").partitions[2].highWatermark == 2)
        try await broker.deleteTopic("images")
        #expect(broker.listTopics().map(\.name) == ["emails"])
        #expect(!FileManager.default.fileExists(atPath: data.path + "/images-0"))
        try broker.close()

        broker = try Broker.open(data.config())
        #expect(broker.listTopics().map(\.name) == ["emails"])
        try broker.close()
    }

    @Test("a topic of the longest legal name, 249 characters, is created, survives a restart and is deleted")
    func theLongestLegalNameWorksOnDisk() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let name = String(repeating: "a", count: TopicName.lengthMax)
        var broker = try Broker.open(data.config())
        try broker.createTopic(name, partitions: 12)
        _ = try await broker.produce(topic: name, partition: 11, records: batch("long"), acks: .all)
        try broker.close()

        broker = try Broker.open(data.config())
        #expect(broker.partitionCount(name) == 12)
        #expect(try await values(broker, name, 11) == ["long-0", "long-1"])
        try await broker.deleteTopic(name)
        try broker.close()

        broker = try Broker.open(data.config())
        defer { try? broker.close() }
        #expect(broker.listTopics().isEmpty)
        let left = try FileManager.default.contentsOfDirectory(atPath: data.path).filter { $0.hasPrefix("aaaa") }
        #expect(left.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.path + "/topics").isEmpty)
    }

    @Test func badTopicRequestsAreRefusedAndChangeNothing() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 2)
        #expect(throws: BrokerError.topicAlreadyExists("jobs")) { try broker.createTopic("jobs", partitions: 3) }
        for bad in ["", "a/b", "..", "with space", "__internal", String(repeating: "x", count: 250)] {
            #expect { try broker.createTopic(bad) } throws: { ($0 as? BrokerError)?.code == .invalidTopicException }
        }
        #expect { try broker.createTopic("zero", partitions: 0) } throws: { ($0 as? BrokerError)?.code == .invalidPartitions }
        #expect { try broker.createTopic("cfg", configs: ["retention.ms": "soon"]) } throws: { ($0 as? BrokerError)?.code == .invalidConfig }
        #expect { try broker.createTopic("cfg", configs: ["no.such.config": "1"]) } throws: { ($0 as? BrokerError)?.code == .invalidConfig }
        #expect { try broker.createTopic("cfg", configs: ["cleanup.policy": "compact,shred"]) } throws: { ($0 as? BrokerError)?.code == .invalidConfig }
        #expect(broker.listTopics().map(\.name) == ["jobs"])
        #expect(!FileManager.default.fileExists(atPath: data.path + "/cfg-0"))
        await #expect(throws: BrokerError.unknownTopicOrPartition(topic: "nope", partition: nil)) { try await broker.deleteTopic("nope") }
    }

    @Test("a name that differs from an existing topic's only in '.' against '_' collides with it, as in Kafka")
    func namesCollidingOverDotAndUnderscoreAreRefused() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("a.b_c", partitions: 1)
        func collides(_ name: String) -> (any Error) -> Bool {
            { error in
                guard let error = error as? BrokerError else { return false }
                return error.code == .invalidTopicException && error.message == "Topic '\(name)' collides with existing topic: a.b_c"
            }
        }
        for name in ["a_b_c", "a.b.c", "a_b.c"] {
            #expect(performing: { try broker.createTopic(name) }, throws: collides(name))
            #expect(performing: { try broker.ensureTopic(name) }, throws: collides(name))
        }
        #expect(throws: BrokerError.topicAlreadyExists("a.b_c")) { try broker.createTopic("a.b_c") }
        #expect(broker.listTopics().map(\.name) == ["a.b_c"])
        try await broker.deleteTopic("a.b_c")
        try broker.createTopic("a_b_c", partitions: 1)
    }

    @Test func unknownTopicsArePartitionsOutOfRangeAreErrors() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var config = data.config()
        config.autoCreateTopics = false
        let broker = try Broker.open(config)
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 2)
        await #expect(throws: BrokerError.unknownTopicOrPartition(topic: "ghost", partition: 0)) {
            _ = try await broker.produce(topic: "ghost", partition: 0, records: batch("x"), acks: .all)
        }
        await #expect(throws: BrokerError.unknownTopicOrPartition(topic: "jobs", partition: 2)) {
            _ = try await broker.produce(topic: "jobs", partition: 2, records: batch("x"), acks: .all)
        }
        #expect(throws: BrokerError.unknownTopicOrPartition(topic: "ghost", partition: nil)) { try broker.ensureTopic("ghost") }
        let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 7), fetchOffset: 0)], maxWaitMs: 0, minBytes: 1, maxBytes: 100)
        #expect(fetched.first?.error == .unknownTopicOrPartition)
    }

    @Test func autoCreationUsesTheDefaultPartitionCount() throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var config = data.config()
        config.defaultPartitions = 3
        let broker = try Broker.open(config)
        defer { try? broker.close() }
        #expect(try broker.ensureTopic("fresh").partitions.count == 3)
        #expect(try broker.ensureTopic("fresh").partitions.count == 3)
    }
}
