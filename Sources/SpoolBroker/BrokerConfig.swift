import SpoolLog
import SpoolSystem

/// How a broker runs.
public struct BrokerConfig: Sendable {
    /// Where topics, partitions and offsets live.
    public var dataDirectory: String
    /// Defaults for every partition's log (fsync policy, segment size, retention, …); topic
    /// configs override them per topic.
    public var log: LogConfig
    /// Partitions of a topic created without a count (auto-created on first use).
    public var defaultPartitions: Int = 1
    /// Create a topic when a producer or a metadata request first names it.
    public var autoCreateTopics: Bool = true
    /// How often retention runs over every partition.
    public var retentionCheckIntervalMs: Int = 60_000
    /// Longest a fetch may park waiting for data.
    public var fetchWaitMaxMs: Int = 30_000
    /// Most topics the broker holds.
    public var topicsMax: Int = 10_000
    /// Most partitions the broker holds, all topics together. Each keeps its active segment's
    /// three files open, so the default gives partitions half of the open-file limit
    /// (`defaultPartitionsMax`); creating a topic or partitions past it is refused with
    /// INVALID_PARTITIONS, rather than running the process out of descriptors. Partitions already
    /// on disk always open, even past it.
    public var partitionsMax: Int = BrokerConfig.defaultPartitionsMax(openFileLimit: OpenFileLimit.current)

    /// Descriptors each partition holds open: its active segment's log, offset index and time index.
    public static let descriptorsPerPartition = 3

    /// Half of `openFileLimit` for partitions; the other half is left to connections, the HTTP
    /// console and the broker's own files.
    public static func defaultPartitionsMax(openFileLimit: Int) -> Int {
        max(1, openFileLimit / 2 / descriptorsPerPartition)
    }
    /// Consumer-group limits (session timeouts allowed, members per group, …).
    public var groupLimits = GroupCoordinator.Limits()
    /// Bytes appended to a partition between snapshots of its idempotent-producer state. After a
    /// crash the state is rebuilt from the last snapshot and the batch headers after it, so this
    /// bounds how much of the log a restart reads.
    public var producerStateSnapshotBytes: Int = 64 << 20
    /// The size past which the committed-offsets log is compacted (its live entries rewritten and
    /// older segments deleted). The log rolls at a quarter of it (16 MiB at most), so that a
    /// compaction finds whole segments to delete.
    public var offsetsCompactionBytes: Int = 64 << 20

    public init(dataDirectory: String, log: LogConfig = LogConfig()) {
        self.dataDirectory = dataDirectory
        self.log = log
    }
}
