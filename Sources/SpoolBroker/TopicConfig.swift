import Foundation
import SpoolLog

/// A topic's settings: its partition count and the Kafka topic configs set explicitly for it,
/// kept as strings (in the normalised form `ConfigDefinition.normalise` gives them, so describe
/// shows what was set) and applied to each partition's `LogConfig`. `TopicConfigCatalogue` lists
/// the names accepted.
public struct TopicConfig: Equatable, Sendable, Codable {
    public var partitions: Int
    /// Kafka config name → value, only the ones set explicitly for this topic.
    public var overrides: [String: String]

    public init(partitions: Int, overrides: [String: String] = [:]) {
        self.partitions = partitions
        self.overrides = overrides
    }

    /// Most partitions a topic may have.
    public static let partitionsMax = 10_000

    /// The same config with every override checked against the catalogue and normalised. Throws
    /// `.invalidConfig` for the first unknown name or refused value (in name order).
    public func validated() throws(BrokerError) -> TopicConfig {
        var normalised: [String: String] = [:]
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) {
            normalised[name] = try TopicConfigCatalogue.definition(name).normalise(value)
        }
        // Kafka checks this pair together (LogConfig.validateValues).
        let minLag = Int64(normalised["min.compaction.lag.ms"] ?? "0") ?? 0
        let maxLag = Int64(normalised["max.compaction.lag.ms"] ?? String(Int64.max)) ?? Int64.max
        if minLag > maxLag {
            throw .invalidConfig("conflict topic config setting min.compaction.lag.ms (\(minLag)) > max.compaction.lag.ms (\(maxLag))")
        }
        return TopicConfig(partitions: partitions, overrides: normalised)
    }

    /// The partition log config for this topic on top of the broker's defaults. Throws
    /// `.invalidPartitions` for a count outside 1…`partitionsMax` and `.invalidConfig` naming the
    /// first unknown or refused setting.
    public func logConfig(defaults: LogConfig) throws(BrokerError) -> LogConfig {
        guard partitions >= 1, partitions <= Self.partitionsMax else {
            throw .invalidPartitions("Number of partitions must be between 1 and \(Self.partitionsMax), not \(partitions).")
        }
        let checked = try validated().overrides
        var config = defaults
        func long(_ name: String) -> Int64? { checked[name].flatMap { Int64($0) } }
        if let value = long("retention.ms") { config.retentionMs = value < 0 ? nil : value }
        if let value = long("retention.bytes") { config.retentionBytes = value < 0 ? nil : value }
        if let value = long("segment.bytes") { config.segmentBytes = Int(value) }
        if let value = long("segment.ms") { config.segmentMs = value }
        if let value = long("max.message.bytes") { config.maxBatchBytes = Int(value) }
        if let value = long("index.interval.bytes") { config.indexIntervalBytes = Int(value) }
        if let value = long("segment.index.bytes") { config.indexBytesMax = Int(value) }
        // cleanup.policy=compact alone: nothing is deleted by time or size (compaction keeps the
        // latest value of every key, and Spool keeps them all); with delete too, retention applies.
        if let policies = Self.policies(checked["cleanup.policy"]) {
            config.keysRequired = policies.contains("compact")
            if !policies.contains("delete") {
                config.retentionMs = nil
                config.retentionBytes = nil
            }
        }
        do { try config.validate() } catch { throw .invalidConfig(String(describing: error)) }
        return config
    }

    /// Whether `cleanup.policy` includes `delete` (it does unless set): Kafka lets DeleteRecords
    /// move the log start only then, and refuses it on a topic that is compacted alone.
    public var allowsRecordDeletion: Bool {
        Self.policies(overrides["cleanup.policy"])?.contains("delete") ?? true
    }

    /// The policies a `cleanup.policy` value lists (nil when it is not set).
    private static func policies(_ value: String?) -> Set<String>? {
        value.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
    }

    /// How long a `spool-idempotency-key` is remembered on this topic (0 turns dedupe off).
    public var dedupeWindowMs: Int64 {
        overrides["dedupe.window.ms"].flatMap { Int64($0) }.map { min(max($0, 0), DedupeWindow.windowMaxMs) }
            ?? DedupeWindow.windowDefaultMs
    }
}
