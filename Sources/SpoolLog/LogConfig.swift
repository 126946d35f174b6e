/// When the log calls fdatasync.
public enum FsyncPolicy: Equatable, Sendable, CustomStringConvertible {
    /// Every append is followed by a flush (group commit: one fdatasync covers every batch appended
    /// since the last). Readers see only flushed data, so nothing they see can be lost.
    case always
    /// Flush every `milliseconds`; readers see data as soon as it is appended.
    case interval(milliseconds: Int)
    /// Flush only on roll and close (and when someone waits for durability); a crash loses what the
    /// page cache held.
    case never

    /// Parses `always`, `interval=<ms>` or `never`.
    public init(parsing text: String) throws(LogError) {
        switch text {
        case "always": self = .always
        case "never": self = .never
        default:
            guard text.hasPrefix("interval="), let ms = Int(text.dropFirst("interval=".count)), ms > 0 else {
                throw .invalidConfig("fsync policy must be always, interval=<ms> (ms > 0) or never, not '\(text)'")
            }
            self = .interval(milliseconds: ms)
        }
    }

    public var description: String {
        switch self {
        case .always: "always"
        case let .interval(ms): "interval=\(ms)"
        case .never: "never"
        }
    }
}

/// How one partition's log behaves. Sizes are bytes, times milliseconds; Kafka's topic config
/// names are given beside each.
public struct LogConfig: Equatable, Sendable {
    /// `segment.bytes`: roll to a new segment when the active one would grow past this.
    public var segmentBytes: Int = 1 << 30
    /// `segment.ms`: roll when the active segment's first batch is older than this (nil: never).
    public var segmentMs: Int64? = 7 * 24 * 3_600_000
    /// `retention.bytes`: delete old segments while the log is larger than this (nil: no limit).
    public var retentionBytes: Int64? = nil
    /// `retention.ms`: delete segments whose newest record is older than this (nil: keep forever).
    public var retentionMs: Int64? = 7 * 24 * 3_600_000
    /// `max.message.bytes`: the largest batch accepted (a batch must also fit in a segment; see
    /// `batchBytesLimit`).
    public var maxBatchBytes: Int = 1_048_588
    /// `index.interval.bytes`: bytes between sparse index entries.
    public var indexIntervalBytes: Int = 4096
    /// `segment.index.bytes`: the largest an offset index may grow; a full index rolls the segment.
    public var indexBytesMax: Int = 10 << 20
    /// Disk space is allocated for the active segment in steps of this size, so a full disk fails
    /// an append cleanly instead of faulting a write through the mapping.
    public var preallocateBytes: Int = 16 << 20
    /// When to fdatasync.
    public var fsync: FsyncPolicy = .always
    /// `cleanup.policy` contains `compact`: every record must carry a key. Spool keeps every record
    /// of such a log (it never compacts, which Kafka's guarantees allow: the latest value of each
    /// key stays, offsets never change); with `delete` too, retention still applies.
    public var keysRequired = false
    /// How often the recovery point is checkpointed (it is also written after every roll and on close).
    /// Everything appended since the last checkpoint is CRC-checked by the next open after a crash,
    /// read from disk if the page cache was lost: at 300 MB/s of appends, 5 s left 1.5 GB to read.
    public var recoveryCheckpointIntervalMs: Int = 1_000

    public init() {}

    /// The largest batch an append takes: `max.message.bytes`, but never more than a segment holds.
    public var batchBytesLimit: Int { min(maxBatchBytes, segmentBytes) }

    /// Smallest segment that still holds a batch of a few records.
    public static let segmentBytesMin = 128
    /// Positions in the index are 32-bit.
    public static let segmentBytesMax = Int(Int32.max)

    /// Throws `LogError.invalidConfig` naming the first value out of range.
    public func validate() throws(LogError) {
        func check(_ condition: Bool, _ message: @autoclosure () -> String) throws(LogError) {
            if !condition { throw .invalidConfig(message()) }
        }
        try check((Self.segmentBytesMin...Self.segmentBytesMax).contains(segmentBytes),
                  "segment.bytes must be between \(Self.segmentBytesMin) and \(Self.segmentBytesMax), not \(segmentBytes)")
        try check(segmentMs.map { $0 > 0 } ?? true, "segment.ms must be positive")
        try check(retentionBytes.map { $0 >= 0 } ?? true, "retention.bytes must not be negative")
        try check(retentionMs.map { $0 >= 0 } ?? true, "retention.ms must not be negative")
        try check(maxBatchBytes >= RecordBatchLimits.minimumBatchBytes,
                  "max.message.bytes must be at least \(RecordBatchLimits.minimumBatchBytes), not \(maxBatchBytes)")
        try check(indexIntervalBytes >= 0, "index.interval.bytes must not be negative")
        try check(indexBytesMax >= 4 * TimeIndex.entrySize, "segment.index.bytes must be at least \(4 * TimeIndex.entrySize)")
        try check(preallocateBytes >= 4096, "the preallocation step must be at least 4096 bytes")
        try check(recoveryCheckpointIntervalMs > 0, "the recovery checkpoint interval must be positive")
        if case let .interval(ms) = fsync { try check(ms > 0, "fsync interval must be positive") }
    }
}

enum RecordBatchLimits {
    /// A RecordBatch v2 header alone.
    static let minimumBatchBytes = 61
}
