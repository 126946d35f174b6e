import SpoolLog

/// A topic's settings: its partition count and the Kafka topic configs Spool understands, kept as
/// the strings they were given in (so `describe` shows what was set) and applied to each
/// partition's `LogConfig`.
public struct TopicConfig: Equatable, Sendable, Codable {
    public var partitions: Int
    /// Kafka config name → value, only the ones set explicitly for this topic.
    public var overrides: [String: String]

    public init(partitions: Int, overrides: [String: String] = [:]) {
        self.partitions = partitions
        self.overrides = overrides
    }

    public static let partitionsMax = 10_000

    /// The config names Spool accepts, each with how it applies to a partition's log.
    static let known: [String: @Sendable (inout LogConfig, String) throws(BrokerError) -> Void] = [
        "retention.ms": { config, value throws(BrokerError) in config.retentionMs = try milliseconds(value, "retention.ms", allowingInfinite: true) },
        "retention.bytes": { config, value throws(BrokerError) in
            let bytes = try integer(value, "retention.bytes", min: -1)
            config.retentionBytes = bytes < 0 ? nil : bytes
        },
        "segment.bytes": { config, value throws(BrokerError) in config.segmentBytes = Int(try integer(value, "segment.bytes", min: Int64(LogConfig.segmentBytesMin))) },
        "segment.ms": { config, value throws(BrokerError) in config.segmentMs = try milliseconds(value, "segment.ms", allowingInfinite: false) },
        "max.message.bytes": { config, value throws(BrokerError) in config.maxBatchBytes = Int(try integer(value, "max.message.bytes", min: 61)) },
        "index.interval.bytes": { config, value throws(BrokerError) in config.indexIntervalBytes = Int(try integer(value, "index.interval.bytes", min: 0)) },
        "segment.index.bytes": { config, value throws(BrokerError) in config.indexBytesMax = Int(try integer(value, "segment.index.bytes", min: 48)) },
        "cleanup.policy": { _, value throws(BrokerError) in
            guard value == "delete" else { throw .invalidConfig("cleanup.policy: only 'delete' is supported, not '\(value)'") }
        },
        "dedupe.window.ms": { _, value throws(BrokerError) in _ = try dedupeWindowMs(value) },
        "message.timestamp.type": { _, value throws(BrokerError) in
            guard value == "CreateTime" else { throw .invalidConfig("message.timestamp.type: only 'CreateTime' is supported, not '\(value)'") }
        },
    ]

    /// The partition log config for this topic on top of the broker's defaults. Throws
    /// `.invalidConfig` naming the first unknown or out-of-range setting.
    public func logConfig(defaults: LogConfig) throws(BrokerError) -> LogConfig {
        guard partitions >= 1, partitions <= Self.partitionsMax else {
            throw .invalidPartitions("a topic needs 1 to \(Self.partitionsMax) partitions, not \(partitions)")
        }
        var config = defaults
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let apply = Self.known[name] else {
                throw .invalidConfig("unknown config '\(name)' (known: \(Self.known.keys.sorted().joined(separator: ", ")))")
            }
            try apply(&config, value)
        }
        do { try config.validate() } catch { throw .invalidConfig(String(describing: error)) }
        return config
    }

    /// How long a `spool-idempotency-key` is remembered on this topic (0 turns dedupe off).
    public var dedupeWindowMs: Int64 {
        overrides["dedupe.window.ms"].flatMap { try? Self.dedupeWindowMs($0) } ?? DedupeWindow.windowDefaultMs
    }

    static func dedupeWindowMs(_ value: String) throws(BrokerError) -> Int64 {
        let window = try integer(value, "dedupe.window.ms", min: 0)
        guard window <= DedupeWindow.windowMaxMs else {
            throw .invalidConfig("dedupe.window.ms must be at most \(DedupeWindow.windowMaxMs) (7 days), not '\(value)'")
        }
        return window
    }

    private static func integer(_ text: String, _ name: String, min: Int64) throws(BrokerError) -> Int64 {
        guard let value = Int64(text), value >= min else {
            throw .invalidConfig("\(name) must be a whole number ≥ \(min), not '\(text)'")
        }
        return value
    }

    private static func milliseconds(_ text: String, _ name: String, allowingInfinite: Bool) throws(BrokerError) -> Int64? {
        let value = try integer(text, name, min: allowingInfinite ? -1 : 1)
        return value < 0 ? nil : value
    }
}
