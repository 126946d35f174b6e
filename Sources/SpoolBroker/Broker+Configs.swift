import SpoolLog

extension Broker {
    /// DescribeConfigs for one resource.
    ///
    /// - A topic: every config of `TopicConfigCatalogue` with the value in effect and where it
    ///   comes from: `DYNAMIC_TOPIC_CONFIG` when set on the topic, `STATIC_BROKER_CONFIG` when a
    ///   broker setting (`BrokerConfig.log`) replaces Kafka's default, `DEFAULT_CONFIG` otherwise.
    ///   An unknown topic is `UNKNOWN_TOPIC_OR_PARTITION`.
    /// - A broker named by `nodeId` (as a decimal string): Spool's broker configs, all read-only.
    ///   The empty name (the cluster-wide default resource) holds only dynamic defaults, of which
    ///   Spool has none, so it is described with no entries. Another name is `INVALID_REQUEST`.
    ///
    /// `configNames` keeps only the configs named (names Spool does not know are left out, as
    /// Kafka does); nil or empty keeps all, as Kafka reads a null or empty `ConfigurationKeys`. Synonyms and documentation are left empty unless asked for.
    public func describeConfigs(_ type: ConfigResourceType, name: String, configNames: [String]? = nil, nodeId: Int32 = 0,
                                includeSynonyms: Bool = true, includeDocumentation: Bool = true) -> DescribedConfigs {
        var described = DescribedConfigs(resourceType: type, resourceName: name, outcome: .success, entries: [])
        do throws(BrokerError) {
            try ensureOpen()
            switch type {
            case .topic:
                guard let topic = topics.withLock({ $0[name] }) else { throw .unknownTopicOrPartition(topic: name, partition: nil) }
                described.entries = TopicConfigCatalogue.all.map { describe($0, overrides: topic.metadata.config.overrides, nodeId: nodeId) }
            case .broker:
                if !name.isEmpty {
                    try checkBrokerName(name, nodeId: nodeId)
                    described.entries = BrokerConfigCatalogue.entries.map { BrokerConfigCatalogue.describe($0, config: config, nodeId: nodeId) }
                }
            }
        } catch {
            described.outcome = AdminOutcome(error)
            return described
        }
        if let configNames, !configNames.isEmpty {
            let wanted = Set(configNames)
            described.entries.removeAll { !wanted.contains($0.name) }
        }
        for index in described.entries.indices {
            if !includeSynonyms { described.entries[index].synonyms = [] }
            if !includeDocumentation { described.entries[index].documentation = "" }
        }
        return described
    }

    /// AlterConfigs for one resource: the topic's overrides become exactly `configs` (a config left
    /// out goes back to its default). Every value is validated before anything changes; then the
    /// new set is written to the topic's metadata file (atomically) and applied to the open
    /// partitions at once (retention, segment size and roll, batch limit, index spacing,
    /// dedupe window), and retention runs over them. `validateOnly` stops after validation.
    ///
    /// Errors (as `AdminOutcome`): `UNKNOWN_TOPIC_OR_PARTITION`; `INVALID_CONFIG` for an unknown
    /// name or a value Kafka or Spool refuses; `INVALID_REQUEST` for a nil value; a broker resource
    /// gets `INVALID_REQUEST` (its configs are read-only); `KAFKA_STORAGE_ERROR` when the file
    /// cannot be written (nothing changed then).
    public func alterConfigs(_ type: ConfigResourceType, name: String, configs: [String: String?], validateOnly: Bool = false,
                             nodeId: Int32 = 0) -> AdminOutcome {
        outcome { () throws(BrokerError) in
            if let missing = configs.first(where: { $0.value == nil })?.key {
                throw .invalidRequest("Null value not supported for : \(missing)")
            }
            switch type {
            case .broker: try refuseBrokerChange(name: name, names: configs.keys.sorted(), nodeId: nodeId)
            case .topic: try changeTopicConfig(name, validateOnly: validateOnly) { _ in configs.compactMapValues { $0 } }
            }
        }
    }

    /// IncrementalAlterConfigs for one resource: SET and DELETE any topic config, APPEND and
    /// SUBTRACT items of LIST configs, applied in order to the topic's current overrides, then
    /// validated, stored and applied as `alterConfigs` does. Errors as `alterConfigs`, plus
    /// `INVALID_CONFIG` for APPEND/SUBTRACT on a non-LIST config and `INVALID_REQUEST` for a name
    /// given twice or a SET/APPEND/SUBTRACT without a value.
    public func incrementalAlterConfigs(_ type: ConfigResourceType, name: String, alterations: [ConfigAlteration],
                                        validateOnly: Bool = false, nodeId: Int32 = 0) -> AdminOutcome {
        outcome { () throws(BrokerError) in
            switch type {
            case .broker: try refuseBrokerChange(name: name, names: alterations.map(\.name), nodeId: nodeId)
            case .topic:
                try changeTopicConfig(name, validateOnly: validateOnly) { current throws(BrokerError) in
                    try ConfigAlteration.apply(alterations, to: current)
                }
            }
        }
    }

    /// Replaces a topic's overrides with what `change` makes of them: validates, writes the
    /// metadata file, then updates the open partitions and the in-memory metadata. Serialised
    /// with topic creation, deletion and growth.
    func changeTopicConfig(_ name: String, validateOnly: Bool,
                           _ change: ([String: String]) throws(BrokerError) -> [String: String]) throws(BrokerError) {
        try ensureOpen()
        let changed = try topicChanges.withLock { _ throws(BrokerError) -> [Partition] in
            guard let topic = topics.withLock({ $0[name] }) else { throw .unknownTopicOrPartition(topic: name, partition: nil) }
            let proposed = TopicConfig(partitions: topic.metadata.config.partitions, overrides: try change(topic.metadata.config.overrides))
            let validated = try proposed.validated()
            let logConfig = try validated.logConfig(defaults: config.log)
            if validateOnly || validated == topic.metadata.config { return [] }
            var metadata = topic.metadata
            metadata.config = validated
            do { try topicStore.save(metadata) } catch { throw .storageFailure(error, path: topicStore.path(name)) }
            for partition in topic.partitions {
                // Only a log closed under us (the broker shutting down) refuses; the stored config
                // is what the next open uses.
                try? partition.log.updateConfig(logConfig)
            }
            topics.withLock { $0[name]?.metadata = metadata }
            return topic.partitions
        }
        // A shorter retention takes effect now rather than at the next scheduled pass.
        for partition in changed { _ = try? partition.log.enforceRetention() }
    }

    /// Broker configs are read-only in Spool: any change is refused as Kafka refuses a config
    /// that cannot be updated dynamically.
    private func refuseBrokerChange(name: String, names: [String], nodeId: Int32) throws(BrokerError) {
        try ensureOpen()
        if !name.isEmpty { try checkBrokerName(name, nodeId: nodeId) }
        guard !names.isEmpty else { return }
        let resource = "ConfigResource(type=BROKER, name='\(name)')"
        let unknown = names.filter { BrokerConfigCatalogue.byName[$0] == nil }
        if !unknown.isEmpty {
            throw .invalidRequest("Invalid config value for resource \(resource): Unknown broker configs: \(unknown.joined(separator: ", "))")
        }
        throw .invalidRequest("Invalid config value for resource \(resource): Cannot update these configs dynamically: \(names.joined(separator: ", ")) (Spool's broker configs are read-only; set them when starting the broker)")
    }

    private func checkBrokerName(_ name: String, nodeId: Int32) throws(BrokerError) {
        guard let id = Int32(name) else { throw .invalidRequest("Broker id must be an integer, but it is: \(name)") }
        guard id == nodeId else { throw .invalidRequest("Unexpected broker id, expected \(nodeId) or empty string, but received \(name)") }
    }

    /// How DescribeConfigs shows one topic config.
    private func describe(_ definition: ConfigDefinition, overrides: [String: String], nodeId: Int32) -> ConfigEntry {
        var synonyms: [ConfigSynonym] = []
        if let value = overrides[definition.name] {
            synonyms.append(ConfigSynonym(name: definition.name, value: value, source: .dynamicTopicConfig))
        }
        for synonym in definition.brokerSynonyms {
            if let value = BrokerConfigCatalogue.staticValue(synonym, config: config, nodeId: nodeId) {
                synonyms.append(ConfigSynonym(name: synonym, value: value, source: .staticBrokerConfig))
            }
        }
        for synonym in definition.brokerSynonyms {
            if let value = BrokerConfigCatalogue.byName[synonym]?.definition.defaultValue {
                synonyms.append(ConfigSynonym(name: synonym, value: value, source: .defaultConfig))
            }
        }
        let first = synonyms.first
        let inEffect = first?.source == .defaultConfig || first == nil
            ? ConfigSynonym(name: definition.name, value: definition.defaultValue, source: .defaultConfig)
            : first ?? ConfigSynonym(name: definition.name, value: definition.defaultValue, source: .defaultConfig)
        return ConfigEntry(name: definition.name, value: inEffect.value, source: inEffect.source, isDefault: inEffect.source == .defaultConfig,
                           readOnly: false, sensitive: definition.type == .password, synonyms: synonyms, type: definition.type,
                           documentation: definition.documentation)
    }

    /// Runs `body`, turning its error into the outcome an admin response carries.
    func outcome(_ body: () throws(BrokerError) -> Void) -> AdminOutcome {
        do throws(BrokerError) {
            try body()
            return .success
        } catch {
            return AdminOutcome(error)
        }
    }
}
