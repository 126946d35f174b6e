import SpoolBroker
import Testing

@Suite struct TopicConfigCatalogueTests {
    /// Kafka 3.9's topic configs (TopicConfig, LogConfig, QuotaConfig), and Spool's own.
    static let kafka39 = [
        "cleanup.policy", "compression.gzip.level", "compression.lz4.level", "compression.type", "compression.zstd.level",
        "delete.retention.ms", "file.delete.delay.ms", "flush.messages", "flush.ms", "follower.replication.throttled.replicas",
        "index.interval.bytes", "leader.replication.throttled.replicas", "local.retention.bytes", "local.retention.ms",
        "max.compaction.lag.ms", "max.message.bytes", "message.downconversion.enable", "message.format.version",
        "message.timestamp.after.max.ms", "message.timestamp.before.max.ms", "message.timestamp.difference.max.ms",
        "message.timestamp.type", "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas", "preallocate",
        "remote.log.copy.disable", "remote.log.delete.on.disable", "remote.storage.enable", "retention.bytes", "retention.ms",
        "segment.bytes", "segment.index.bytes", "segment.jitter.ms", "segment.ms", "unclean.leader.election.enable",
    ]

    @Test func theCatalogueHoldsEveryKafkaTopicConfigAndSpoolsOwn() {
        #expect(TopicConfigCatalogue.all.map(\.name) == (Self.kafka39 + ["dedupe.window.ms"]).sorted())
        #expect(TopicConfigCatalogue.all.count == 37)
        let types = Dictionary(uniqueKeysWithValues: TopicConfigCatalogue.all.map { ($0.name, $0.type) })
        #expect(types["cleanup.policy"] == .list)
        #expect(types["retention.ms"] == .long)
        #expect(types["segment.bytes"] == .int)
        #expect(types["min.cleanable.dirty.ratio"] == .double)
        #expect(types["preallocate"] == .boolean)
        #expect(types["compression.type"] == .string)
        #expect(ConfigType.password.rawValue == 9 && ConfigType.list.rawValue == 7 && ConfigType.boolean.rawValue == 1)
        #expect(TopicConfigCatalogue.byName["retention.ms"]?.defaultValue == "604800000")
        #expect(TopicConfigCatalogue.byName["retention.ms"]?.brokerSynonyms == ["log.retention.ms", "log.retention.minutes", "log.retention.hours"])
        #expect(TopicConfigCatalogue.byName["max.message.bytes"]?.defaultValue == "1048588")
        #expect(TopicConfigCatalogue.all.allSatisfy { !$0.documentation.isEmpty && !$0.documentation.contains("\n") })
        #expect(Set(TopicConfigCatalogue.honouredNames) == [
            "cleanup.policy", "dedupe.window.ms", "index.interval.bytes", "max.message.bytes", "message.timestamp.type",
            "min.insync.replicas", "remote.storage.enable", "retention.bytes", "retention.ms", "segment.bytes",
            "segment.index.bytes", "segment.ms",
        ])
    }

    @Test func everyKafkaDefaultIsAccepted() throws {
        for definition in TopicConfigCatalogue.all {
            guard let value = definition.defaultValue else { continue }
            #expect(try definition.normalise(value) == value, "\(definition.name)=\(value)")
        }
    }

    @Test func valuesAreCheckedAsKafkaChecksThem() throws {
        let accepted: [(String, String, String)] = [
            ("compression.type", "zstd", "zstd"), ("compression.type", "producer", "producer"), ("preallocate", "TRUE", "true"),
            ("retention.ms", "-1", "-1"), ("retention.bytes", "-5", "-5"), ("cleanup.policy", " delete ", "delete"),
            ("cleanup.policy", "delete, compact", "delete,compact"), ("cleanup.policy", "compact", "compact"),
            ("leader.replication.throttled.replicas", "0:1, 1:1", "0:1,1:1"), ("follower.replication.throttled.replicas", "*", "*"),
            ("message.format.version", "2.8-IV1", "2.8-IV1"), ("message.format.version", "0.10.0.0", "0.10.0.0"),
            ("message.format.version", "2.8.1", "2.8.1"), ("message.format.version", "0.10.0-IV1", "0.10.0-IV1"), ("min.cleanable.dirty.ratio", "0.9", "0.9"),
            ("compression.gzip.level", "-1", "-1"), ("compression.zstd.level", "-5", "-5"), ("local.retention.ms", "-2", "-2"),
        ]
        for (name, value, stored) in accepted {
            #expect(try TopicConfigCatalogue.byName[name]?.normalise(value) == stored, "\(name)=\(value)")
        }
        let refused: [(String, String, String)] = [
            ("retention.ms", "-2", "Invalid value -2 for configuration retention.ms: Value must be at least -1"),
            ("segment.bytes", "abc", "Invalid value abc for configuration segment.bytes: Not a number of type INT"),
            ("segment.bytes", "4294967296", "Invalid value 4294967296 for configuration segment.bytes: Not a number of type INT"),
            ("compression.type", "brotli", "Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"),
            ("preallocate", "yes", "Invalid value yes for configuration preallocate: Expected value to be either true or false"),
            ("min.cleanable.dirty.ratio", "1.5", "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1.0"),
            ("compression.gzip.level", "0", "Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9, or equal to -1"),
            ("compression.lz4.level", "18", "Invalid value 18 for configuration compression.lz4.level: Value must be no more than 17"),
            ("message.format.version", "banana", "Invalid value banana for configuration message.format.version: Version `banana` is not a valid version"),
            ("message.format.version", "2", "Invalid value 2 for configuration message.format.version: Version `2` is not a valid version"),
            ("message.format.version", "0.10", "Invalid value 0.10 for configuration message.format.version: Version `0.10` is not a valid version"),
            ("cleanup.policy", "shred", "Invalid value shred for configuration cleanup.policy: Invalid value shred ; must be one of [compact, delete]"),
        ]
        for (name, value, message) in refused {
            #expect(throws: BrokerError.invalidConfig(message)) { try TopicConfigCatalogue.byName[name]?.normalise(value) }
        }
        #expect { try TopicConfigCatalogue.byName["leader.replication.throttled.replicas"]?.normalise("0-1") } throws: {
            ($0 as? BrokerError)?.code == .invalidConfig
        }
    }

    @Test func valuesSpoolCannotHonourAreRefusedWithTheReason() {
        let refused = [
            ("message.timestamp.type", "LogAppendTime"),
            ("min.insync.replicas", "2"), ("remote.storage.enable", "true"), ("segment.bytes", "100"), ("max.message.bytes", "10"),
            ("segment.index.bytes", "8"), ("dedupe.window.ms", "604800001"),
        ]
        for (name, value) in refused {
            #expect { try TopicConfigCatalogue.byName[name]?.normalise(value) } throws: { error in
                guard case let .invalidConfig(message) = error as? BrokerError else { return false }
                return message.contains(name)
            }
        }
        #expect(throws: BrokerError.invalidConfig("conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)")) {
            try TopicConfig(partitions: 1, overrides: ["min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"]).validated()
        }
        #expect(throws: BrokerError.invalidConfig("Unknown topic config name: retention.hours")) {
            try TopicConfig(partitions: 1, overrides: ["retention.hours": "1"]).validated()
        }
    }
}
