import SpoolLog

/// Every topic-level config Kafka 3.9 accepts (`TopicConfig`, `LogConfig`, `QuotaConfig`), with
/// Kafka's type, default and validation, plus Spool's own `dedupe.window.ms`. CreateTopics,
/// AlterConfigs and IncrementalAlterConfigs accept exactly these names; DescribeConfigs lists them
/// all for a topic.
///
/// Honoured configs change what Spool does; restricted ones are honoured for the values Spool
/// implements and refused with INVALID_CONFIG otherwise; the rest are validated, stored and
/// described only, because they govern what a single node without compaction or tiered storage
/// does not do.
public enum TopicConfigCatalogue {
    static let longMax = String(Int64.max)

    /// The definitions, by name.
    public static let byName: [String: ConfigDefinition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The definitions, sorted by name.
    public static let all: [ConfigDefinition] = [
        ConfigDefinition("cleanup.policy", .list, "delete", .listOf(["compact", "delete"]), .honoured, synonyms: ["log.cleanup.policy"],
                         doc: "'delete' removes old segments by time and size; 'compact' requires a key on every record and keeps every record (Spool never compacts, which Kafka's guarantees allow); both: keys required, retention applies."),
        ConfigDefinition("compression.gzip.level", .int, "-1", .gzipLevel, synonyms: ["compression.gzip.level"],
                         doc: "Level for compression.type=gzip; stored only: Spool never recompresses batches."),
        ConfigDefinition("compression.lz4.level", .int, "9", .range(min: 1, max: 17), synonyms: ["compression.lz4.level"],
                         doc: "Level for compression.type=lz4; stored only: Spool never recompresses batches."),
        ConfigDefinition("compression.type", .string, "producer",
                         .oneOf(["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]), synonyms: ["compression.type"],
                         doc: "Final compression of the topic's batches; Spool stores every batch as the producer sent it, so each value acts as 'producer'."),
        ConfigDefinition("compression.zstd.level", .int, "3", .range(min: -131_072, max: 22), synonyms: ["compression.zstd.level"],
                         doc: "Level for compression.type=zstd; stored only: Spool never recompresses batches."),
        ConfigDefinition("dedupe.window.ms", .long, String(DedupeWindow.windowDefaultMs), .range(min: 0, max: DedupeWindow.windowMaxMs),
                         .honoured,
                         doc: "Spool only: how long a spool-idempotency-key is remembered on this topic (0 turns dedupe off, at most 7 days)."),
        ConfigDefinition("delete.retention.ms", .long, "86400000", .range(min: 0, max: nil), synonyms: ["log.cleaner.delete.retention.ms"],
                         doc: "How long delete tombstones are kept on compacted topics; stored only (Spool does not compact)."),
        ConfigDefinition("file.delete.delay.ms", .long, "60000", .range(min: 0, max: nil), synonyms: ["log.segment.delete.delay.ms"],
                         doc: "Delay before a deleted segment's files are removed; stored only: Spool removes them at once and readers keep their mappings."),
        ConfigDefinition("flush.messages", .long, longMax, .range(min: 1, max: nil), synonyms: ["log.flush.interval.messages"],
                         doc: "Messages between forced fsyncs; stored only: Spool's broker-wide fsync policy (always, interval, never) decides."),
        ConfigDefinition("flush.ms", .long, longMax, .range(min: 0, max: nil),
                         synonyms: ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
                         doc: "Milliseconds between forced fsyncs; stored only: Spool's broker-wide fsync policy decides."),
        ConfigDefinition("follower.replication.throttled.replicas", .list, "", .throttledReplicas,
                         doc: "Replicas whose follower replication is throttled; stored only (a single node has no followers)."),
        ConfigDefinition("index.interval.bytes", .int, "4096", .range(min: 0, max: nil), .honoured, synonyms: ["log.index.interval.bytes"],
                         doc: "Bytes of log between entries of the sparse offset index."),
        ConfigDefinition("leader.replication.throttled.replicas", .list, "", .throttledReplicas,
                         doc: "Replicas whose leader replication is throttled; stored only (a single node replicates nothing)."),
        ConfigDefinition("local.retention.bytes", .long, "-2", .range(min: -2, max: nil), synonyms: ["log.local.retention.bytes"],
                         doc: "Local size kept when tiered storage is on (-2: retention.bytes); stored only (no tiered storage)."),
        ConfigDefinition("local.retention.ms", .long, "-2", .range(min: -2, max: nil), synonyms: ["log.local.retention.ms"],
                         doc: "Local age kept when tiered storage is on (-2: retention.ms); stored only (no tiered storage)."),
        ConfigDefinition("max.compaction.lag.ms", .long, longMax, .range(min: 1, max: nil), synonyms: ["log.cleaner.max.compaction.lag.ms"],
                         doc: "Longest a record stays uncompacted; stored only (Spool does not compact)."),
        ConfigDefinition("max.message.bytes", .int, "1048588", .range(min: 0, max: nil), .honoured, synonyms: ["message.max.bytes"],
                         spoolCheck: { (Int($0) ?? 0) >= 61 ? nil : "Spool needs at least 61 bytes, the size of a record batch header" },
                         doc: "Largest record batch accepted (a batch must also fit in one segment)."),
        ConfigDefinition("message.downconversion.enable", .boolean, "true", synonyms: ["log.message.downconversion.enable"],
                         doc: "Whether old fetch versions get down-converted batches; stored only: Spool serves Fetch v4+ (record batch v2) only."),
        ConfigDefinition("message.format.version", .string, "3.0-IV1", .kafkaVersion, synonyms: ["log.message.format.version"],
                         doc: "Deprecated message format version; stored only: Spool stores record batch v2 whatever it says."),
        ConfigDefinition("message.timestamp.after.max.ms", .long, longMax, .range(min: 0, max: nil),
                         synonyms: ["log.message.timestamp.after.max.ms"],
                         doc: "How far ahead of the broker's clock a CreateTime timestamp may be; stored only: Spool does not check timestamps."),
        ConfigDefinition("message.timestamp.before.max.ms", .long, longMax, .range(min: 0, max: nil),
                         synonyms: ["log.message.timestamp.before.max.ms"],
                         doc: "How far behind the broker's clock a CreateTime timestamp may be; stored only: Spool does not check timestamps."),
        ConfigDefinition("message.timestamp.difference.max.ms", .long, longMax, .range(min: 0, max: nil),
                         synonyms: ["log.message.timestamp.difference.max.ms"],
                         doc: "Deprecated: largest difference between a CreateTime timestamp and the broker's clock; stored only."),
        ConfigDefinition("message.timestamp.type", .string, "CreateTime", .oneOf(["CreateTime", "LogAppendTime"]),
                         .restricted("only 'CreateTime': Spool keeps the producer's timestamps"), synonyms: ["log.message.timestamp.type"],
                         spoolCheck: { $0 == "CreateTime" ? nil : "Spool keeps the producer's timestamps; LogAppendTime is not implemented" },
                         doc: "Whether record timestamps are the producer's (CreateTime) or the broker's (LogAppendTime, not implemented by Spool)."),
        ConfigDefinition("min.cleanable.dirty.ratio", .double, "0.5", .doubleRange(min: 0, max: 1),
                         synonyms: ["log.cleaner.min.cleanable.ratio"],
                         doc: "Dirty share of a log that triggers compaction; stored only (Spool does not compact)."),
        ConfigDefinition("min.compaction.lag.ms", .long, "0", .range(min: 0, max: nil), synonyms: ["log.cleaner.min.compaction.lag.ms"],
                         doc: "Shortest a record stays uncompacted; stored only (Spool does not compact)."),
        ConfigDefinition("min.insync.replicas", .int, "1", .range(min: 1, max: nil),
                         .restricted("only 1: a Spool partition has one replica"), synonyms: ["min.insync.replicas"],
                         spoolCheck: { $0 == "1" ? nil : "a Spool partition has exactly one replica, so acks=all could never be met" },
                         doc: "Replicas that must acknowledge an acks=all write; Spool has one replica per partition, so only 1."),
        ConfigDefinition("preallocate", .boolean, "false", synonyms: ["log.preallocate"],
                         doc: "Preallocate whole segment files; stored only: Spool always allocates the active segment ahead of the writer in steps."),
        ConfigDefinition("remote.log.copy.disable", .boolean, "false",
                         doc: "Stop copying segments to tiered storage; stored only (no tiered storage)."),
        ConfigDefinition("remote.log.delete.on.disable", .boolean, "false",
                         doc: "Delete tiered data when tiered storage is turned off; stored only (no tiered storage)."),
        ConfigDefinition("remote.storage.enable", .boolean, "false", .any, .restricted("only false: Spool has no tiered storage"),
                         spoolCheck: { $0 == "false" ? nil : "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage." },
                         doc: "Tier old segments to remote storage; Spool has none, so only false."),
        ConfigDefinition("retention.bytes", .long, "-1", .any, .honoured, synonyms: ["log.retention.bytes"],
                         doc: "Delete the oldest segments while a partition is larger than this (negative: no limit)."),
        ConfigDefinition("retention.ms", .long, "604800000", .range(min: -1, max: nil), .honoured,
                         synonyms: ["log.retention.ms", "log.retention.minutes", "log.retention.hours"],
                         doc: "Delete segments whose newest record is older than this (-1: keep forever)."),
        ConfigDefinition("segment.bytes", .int, "1073741824", .range(min: 14, max: nil), .honoured, synonyms: ["log.segment.bytes"],
                         spoolCheck: { (Int($0) ?? 0) >= LogConfig.segmentBytesMin ? nil : "Spool needs segments of at least \(LogConfig.segmentBytesMin) bytes" },
                         doc: "Roll to a new segment when the active one would grow past this size."),
        ConfigDefinition("segment.index.bytes", .int, "10485760", .range(min: 4, max: nil), .honoured, synonyms: ["log.index.size.max.bytes"],
                         spoolCheck: { (Int($0) ?? 0) >= 48 ? nil : "Spool needs index files of at least 48 bytes" },
                         doc: "Largest a segment's offset index may grow; a full index rolls the segment."),
        ConfigDefinition("segment.jitter.ms", .long, "0", .range(min: 0, max: nil), synonyms: ["log.roll.jitter.ms", "log.roll.jitter.hours"],
                         doc: "Random jitter subtracted from segment.ms; stored only: Spool rolls at segment.ms exactly."),
        ConfigDefinition("segment.ms", .long, "604800000", .range(min: 1, max: nil), .honoured, synonyms: ["log.roll.ms", "log.roll.hours"],
                         doc: "Roll to a new segment when the active one's first record is older than this."),
        ConfigDefinition("unclean.leader.election.enable", .boolean, "false", synonyms: ["unclean.leader.election.enable"],
                         doc: "Let an out-of-sync replica become leader; stored only (a single node has no other replica)."),
    ]

    /// Names of the configs that change Spool's behaviour (in full or for some values).
    public static var honouredNames: [String] { all.filter(\.isHonoured).map(\.name) }

    /// The definition, or `.invalidConfig` with Kafka's message for an unknown name.
    static func definition(_ name: String) throws(BrokerError) -> ConfigDefinition {
        guard let definition = byName[name] else { throw .invalidConfig("Unknown topic config name: \(name)") }
        return definition
    }
}
