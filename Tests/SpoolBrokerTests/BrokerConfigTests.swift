import Foundation
import SpoolBroker
import Testing
import SpoolFormat

@Suite struct BrokerConfigTests {
    private func entry(_ described: DescribedConfigs, _ name: String) -> ConfigEntry? {
        described.entries.first { $0.name == name }
    }

    @Test func aTopicIsDescribedWithEveryConfigAndWhereItsValueComesFrom() throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        // The test config sets log.segment.bytes to 1 MiB: a static broker setting.
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", configs: ["retention.ms": "3600000"])
        let described = broker.describeConfigs(.topic, name: "jobs")
        #expect(described.outcome == .success)
        #expect(described.entries.count == TopicConfigCatalogue.all.count)

        let retention = try #require(entry(described, "retention.ms"))
        #expect(retention.value == "3600000")
        #expect(retention.source == .dynamicTopicConfig)
        #expect(!retention.isDefault && !retention.readOnly && !retention.sensitive)
        #expect(retention.type == .long)
        #expect(retention.synonyms == [
            ConfigSynonym(name: "retention.ms", value: "3600000", source: .dynamicTopicConfig),
            ConfigSynonym(name: "log.retention.hours", value: "168", source: .defaultConfig),
        ])
        let segment = try #require(entry(described, "segment.bytes"))
        #expect(segment.value == "1048576")
        #expect(segment.source == .staticBrokerConfig)
        #expect(segment.synonyms.first == ConfigSynonym(name: "log.segment.bytes", value: "1048576", source: .staticBrokerConfig))
        let compression = try #require(entry(described, "compression.type"))
        #expect(compression.value == "producer" && compression.source == .defaultConfig && compression.isDefault)
        #expect(compression.documentation.contains("as the producer sent it"))
        #expect(entry(described, "dedupe.window.ms")?.value == "86400000")

        let filtered = broker.describeConfigs(.topic, name: "jobs", configNames: ["retention.ms", "no.such.config", "cleanup.policy"],
                                              includeSynonyms: false, includeDocumentation: false)
        #expect(filtered.entries.map(\.name).sorted() == ["cleanup.policy", "retention.ms"], "unknown names are left out")
        #expect(filtered.entries.allSatisfy { $0.synonyms.isEmpty && $0.documentation.isEmpty })

        let missing = broker.describeConfigs(.topic, name: "ghost")
        #expect(missing.outcome.error == .unknownTopicOrPartition)
        #expect(missing.entries.isEmpty)
    }

    @Test("an empty list of config names describes every config, as Kafka reads it")
    func anEmptyNameListDescribesEveryConfig() throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", configs: ["retention.ms": "60000"])
        let all = broker.describeConfigs(.topic, name: "jobs")
        let unnamed = broker.describeConfigs(.topic, name: "jobs", configNames: [])
        #expect(!all.entries.isEmpty)
        #expect(unnamed.entries.map(\.name) == all.entries.map(\.name))
        let brokerConfigs = broker.describeConfigs(.broker, name: "0").entries
        #expect(!brokerConfigs.isEmpty && broker.describeConfigs(.broker, name: "0", configNames: []).entries == brokerConfigs)
    }

    @Test func theBrokerIsDescribedReadOnlyAndCannotBeAltered() throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var config = data.config()
        config.defaultPartitions = 3
        let broker = try Broker.open(config)
        defer { try? broker.close() }
        let described = broker.describeConfigs(.broker, name: "7", nodeId: 7)
        #expect(described.outcome == .success)
        #expect(described.entries.allSatisfy { $0.readOnly })
        #expect(entry(described, "num.partitions")?.value == "3")
        #expect(entry(described, "num.partitions")?.source == .staticBrokerConfig)
        #expect(entry(described, "auto.create.topics.enable")?.source == .defaultConfig)
        #expect(entry(described, "node.id")?.value == "7")
        #expect(entry(described, "log.segment.bytes")?.value == "1048576")
        let defaults = broker.describeConfigs(.broker, name: "", nodeId: 7)
        #expect(defaults.outcome == .success && defaults.entries.isEmpty, "Spool has no dynamic broker defaults")
        #expect(broker.describeConfigs(.broker, name: "8", nodeId: 7).outcome.error == .invalidRequest)
        #expect(broker.describeConfigs(.broker, name: "one", nodeId: 7).outcome.error == .invalidRequest)

        let altered = broker.alterConfigs(.broker, name: "7", configs: ["log.segment.bytes": "1000000"], nodeId: 7)
        #expect(altered.error == .invalidRequest)
        #expect(altered.message?.contains("Cannot update these configs dynamically: log.segment.bytes") == true)
        let incremental = broker.incrementalAlterConfigs(.broker, name: "", alterations: [ConfigAlteration(name: "num.partitions", operation: .set, value: "2")], nodeId: 7)
        #expect(incremental.error == .invalidRequest)
    }

    @Test func alterConfigsReplacesTheWholeSetAppliesItLiveAndPersistsIt() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config())
        try broker.createTopic("jobs", configs: ["retention.ms": "3600000", "segment.ms": "60000"])
        for _ in 0..<5 { _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("a", valueBytes: 200), acks: .all) }

        // validateOnly checks and changes nothing.
        #expect(broker.alterConfigs(.topic, name: "jobs", configs: ["segment.bytes": "1000"], validateOnly: true) == .success)
        #expect(try broker.describeTopic("jobs").configs == ["retention.ms": "3600000", "segment.ms": "60000"])

        // The new set replaces the old one: retention.ms and segment.ms go back to their defaults.
        #expect(broker.alterConfigs(.topic, name: "jobs", configs: ["segment.bytes": "1000", "max.message.bytes": "600"]) == .success)
        #expect(try broker.describeTopic("jobs").configs == ["segment.bytes": "1000", "max.message.bytes": "600"])
        #expect(broker.describeConfigs(.topic, name: "jobs", configNames: ["retention.ms"]).entries.first?.source == .defaultConfig)
        // Live: the next batches roll small segments, and a larger batch is refused.
        for _ in 0..<3 { _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("b", valueBytes: 200), acks: .all) }
        await #expect { _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("c", valueBytes: 500), acks: .all) } throws: {
            ($0 as? BrokerError)?.code == .messageTooLarge
        }
        // A byte limit takes effect at once: retention runs when the config changes.
        #expect(broker.alterConfigs(.topic, name: "jobs", configs: ["segment.bytes": "1000", "retention.bytes": "1000"]) == .success)
        #expect(try broker.describeTopic("jobs").partitions[0].logStartOffset > 0)

        let file = try String(contentsOfFile: data.path + "/topics/jobs.topic", encoding: .utf8)
        #expect(file.contains("retention.bytes") && !file.contains("max.message.bytes"))
        try broker.close()
        broker = try Broker.open(data.config())
        defer { try? broker.close() }
        #expect(try broker.describeTopic("jobs").configs == ["segment.bytes": "1000", "retention.bytes": "1000"])
    }

    @Test func aBadAlterationChangesNothing() throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", configs: ["retention.ms": "3600000"])
        let before = try String(contentsOfFile: data.path + "/topics/jobs.topic", encoding: .utf8)
        let cases: [([String: String?], KafkaErrorCode)] = [
            (["retention.ms": "1000", "segment.bytes": "tiny"], .invalidConfig),
            (["retention.ms": "1000", "no.such.config": "1"], .invalidConfig),
            (["cleanup.policy": "shred"], .invalidConfig),
            (["message.timestamp.type": "LogAppendTime"], .invalidConfig),
            (["retention.ms": nil], .invalidRequest),
        ]
        for (configs, code) in cases {
            #expect(broker.alterConfigs(.topic, name: "jobs", configs: configs).error == code, "\(configs)")
        }
        #expect(broker.alterConfigs(.topic, name: "ghost", configs: [:]).error == .unknownTopicOrPartition)
        #expect(try broker.describeTopic("jobs").configs == ["retention.ms": "3600000"])
        #expect(try String(contentsOfFile: data.path + "/topics/jobs.topic", encoding: .utf8) == before)
    }

    @Test func incrementalAlterationsSetDeleteAppendAndSubtract() throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", configs: ["retention.ms": "3600000", "segment.ms": "60000"])
        func alter(_ alterations: [ConfigAlteration], validateOnly: Bool = false) -> AdminOutcome {
            broker.incrementalAlterConfigs(.topic, name: "jobs", alterations: alterations, validateOnly: validateOnly)
        }
        #expect(alter([ConfigAlteration(name: "retention.ms", operation: .set, value: "7200000"),
                       ConfigAlteration(name: "segment.ms", operation: .delete, value: nil)]) == .success)
        #expect(try broker.describeTopic("jobs").configs == ["retention.ms": "7200000"])
        let list = "leader.replication.throttled.replicas"
        #expect(alter([ConfigAlteration(name: list, operation: .append, value: "0:0")]) == .success)
        #expect(alter([ConfigAlteration(name: list, operation: .append, value: "1:0,0:0")]) == .success)
        #expect(try broker.describeTopic("jobs").configs[list] == "0:0,1:0")
        #expect(alter([ConfigAlteration(name: list, operation: .subtract, value: "0:0")]) == .success)
        #expect(try broker.describeTopic("jobs").configs[list] == "1:0")
        #expect(alter([ConfigAlteration(name: "retention.ms", operation: .set, value: "1")], validateOnly: true) == .success)
        #expect(try broker.describeTopic("jobs").configs["retention.ms"] == "7200000")

        let refused: [([ConfigAlteration], KafkaErrorCode)] = [
            ([ConfigAlteration(name: "cleanup.policy", operation: .append, value: "shred")], .invalidConfig),
            ([ConfigAlteration(name: "retention.ms", operation: .append, value: "5")], .invalidConfig),
            ([ConfigAlteration(name: "no.such.config", operation: .delete, value: nil)], .invalidConfig),
            ([ConfigAlteration(name: "retention.ms", operation: .set, value: nil)], .invalidRequest),
            ([ConfigAlteration(name: "retention.ms", operation: .set, value: "5"), ConfigAlteration(name: "retention.ms", operation: .delete, value: nil)], .invalidRequest),
            ([ConfigAlteration(name: "retention.ms", operation: .set, value: "5"), ConfigAlteration(name: "segment.ms", operation: .set, value: "0")], .invalidConfig),
        ]
        for (alterations, code) in refused { #expect(alter(alterations).error == code, "\(alterations)") }
        #expect(try broker.describeTopic("jobs").configs == ["retention.ms": "7200000", list: "1:0"])
    }

    @Test func theDedupeWindowChangesWithoutARestart() throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        #expect(broker.describeConfigs(.topic, name: "jobs", configNames: ["dedupe.window.ms"]).entries.first?.value == "86400000")
        #expect(broker.incrementalAlterConfigs(.topic, name: "jobs", alterations: [ConfigAlteration(name: "dedupe.window.ms", operation: .set, value: "0")]) == .success)
        let entry = broker.describeConfigs(.topic, name: "jobs", configNames: ["dedupe.window.ms"]).entries.first
        #expect(entry?.value == "0" && entry?.source == .dynamicTopicConfig)
    }
}
