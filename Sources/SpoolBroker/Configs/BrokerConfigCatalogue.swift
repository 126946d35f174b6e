import SpoolLog

/// The broker-level configs Spool has, under Kafka's names, as DescribeConfigs shows a broker.
/// All are read-only: they are set when the broker starts (`BrokerConfig`, `spool serve` flags).
enum BrokerConfigCatalogue {
    /// One broker config: its definition and how to read its value from a running broker.
    struct Entry: Sendable {
        var definition: ConfigDefinition
        /// The value in effect (nil: no value, as Kafka shows an unset `log.retention.ms`).
        var value: @Sendable (BrokerConfig, Int32) -> String?
        /// Always set by whoever started the broker (the node id, the data directory).
        var alwaysStatic = false
    }

    static func milliseconds(_ value: Int64?) -> String { value.map(String.init) ?? "-1" }

    static let entries: [Entry] = [
        Entry(definition: ConfigDefinition("auto.create.topics.enable", .boolean, "true", doc: "Create a topic when a producer or metadata request first names it."),
              value: { config, _ in String(config.autoCreateTopics) }),
        Entry(definition: ConfigDefinition("compression.type", .string, "producer", doc: "Final compression of stored batches; Spool stores batches as sent ('producer')."),
              value: { _, _ in "producer" }),
        Entry(definition: ConfigDefinition("default.replication.factor", .int, "1", doc: "Replicas of an auto-created topic's partitions; always 1 on a single node."),
              value: { _, _ in "1" }),
        Entry(definition: ConfigDefinition("log.cleanup.policy", .list, "delete", doc: "Default cleanup policy of topics: 'delete' (topics may set 'compact', see cleanup.policy)."),
              value: { _, _ in "delete" }),
        Entry(definition: ConfigDefinition("log.dirs", .string, nil, doc: "The data directory holding topics, partitions and offsets."),
              value: { config, _ in config.dataDirectory }, alwaysStatic: true),
        Entry(definition: ConfigDefinition("log.index.interval.bytes", .int, "4096", doc: "Default index.interval.bytes of topics."),
              value: { config, _ in String(config.log.indexIntervalBytes) }),
        Entry(definition: ConfigDefinition("log.index.size.max.bytes", .int, "10485760", doc: "Default segment.index.bytes of topics."),
              value: { config, _ in String(config.log.indexBytesMax) }),
        Entry(definition: ConfigDefinition("log.message.timestamp.type", .string, "CreateTime", doc: "Default message.timestamp.type; Spool keeps producers' timestamps (CreateTime)."),
              value: { _, _ in "CreateTime" }),
        Entry(definition: ConfigDefinition("log.retention.bytes", .long, "-1", doc: "Default retention.bytes of topics (-1: no limit)."),
              value: { config, _ in milliseconds(config.log.retentionBytes) }),
        Entry(definition: ConfigDefinition("log.retention.check.interval.ms", .long, "60000", doc: "How often retention runs over every partition."),
              value: { config, _ in String(config.retentionCheckIntervalMs) }),
        Entry(definition: ConfigDefinition("log.retention.hours", .int, "168", doc: "Default retention of topics in hours, when log.retention.ms is not set."),
              value: { _, _ in "168" }),
        Entry(definition: ConfigDefinition("log.retention.ms", .long, nil, doc: "Default retention.ms of topics (-1: forever); unset means log.retention.hours."),
              value: { config, _ in config.log.retentionMs == LogConfig().retentionMs ? nil : milliseconds(config.log.retentionMs) }),
        Entry(definition: ConfigDefinition("log.roll.hours", .int, "168", doc: "Default segment age in hours before a roll, when log.roll.ms is not set."),
              value: { _, _ in "168" }),
        Entry(definition: ConfigDefinition("log.roll.ms", .long, nil, doc: "Default segment.ms of topics; unset means log.roll.hours."),
              value: { config, _ in config.log.segmentMs == LogConfig().segmentMs ? nil : String(config.log.segmentMs ?? Int64.max) }),
        Entry(definition: ConfigDefinition("log.segment.bytes", .int, "1073741824", doc: "Default segment.bytes of topics."),
              value: { config, _ in String(config.log.segmentBytes) }),
        Entry(definition: ConfigDefinition("message.max.bytes", .int, "1048588", doc: "Default max.message.bytes of topics: the largest record batch accepted."),
              value: { config, _ in String(config.log.maxBatchBytes) }),
        Entry(definition: ConfigDefinition("min.insync.replicas", .int, "1", doc: "Default min.insync.replicas; always 1 on a single node."),
              value: { _, _ in "1" }),
        Entry(definition: ConfigDefinition("node.id", .int, "-1", doc: "This broker's node id, as Metadata reports it."),
              value: { _, nodeId in String(nodeId) }, alwaysStatic: true),
        Entry(definition: ConfigDefinition("num.partitions", .int, "1", doc: "Partitions of a topic created without a count (auto-created on first use)."),
              value: { config, _ in String(config.defaultPartitions) }),
    ]

    static let byName: [String: Entry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.definition.name, $0) })

    /// The value the operator set for a broker config when it differs from the default; nil when
    /// the broker runs with the default (or Spool has no such config).
    static func staticValue(_ name: String, config: BrokerConfig, nodeId: Int32) -> String? {
        guard let entry = byName[name], let value = entry.value(config, nodeId) else { return nil }
        if entry.alwaysStatic { return value }
        let defaults = BrokerConfig(dataDirectory: config.dataDirectory)
        return entry.value(defaults, nodeId) == value ? nil : value
    }

    /// How DescribeConfigs shows one broker config.
    static func describe(_ entry: Entry, config: BrokerConfig, nodeId: Int32) -> ConfigEntry {
        let name = entry.definition.name
        let staticValue = staticValue(name, config: config, nodeId: nodeId)
        let value = staticValue ?? entry.value(config, nodeId) ?? entry.definition.defaultValue
        let source: ConfigSource = staticValue == nil ? .defaultConfig : .staticBrokerConfig
        return ConfigEntry(name: name, value: value, source: source, isDefault: staticValue == nil, readOnly: true, sensitive: false,
                           synonyms: [ConfigSynonym(name: name, value: value, source: source)], type: entry.definition.type,
                           documentation: entry.definition.documentation)
    }
}
