import Dispatch
import SpoolFormat
import SpoolSystem
import Synchronization

/// One partition's log: an append-only sequence of RecordBatch v2 batches in segments on disk.
///
/// Thread-safe. Appends copy a validated batch into the active segment (through its mapping, or
/// with pwrite when large) one at a time, outside the lock readers take, and return at once; a
/// flusher on its own queue makes one fdatasync cover every batch appended since the last (group
/// commit) and wakes those waiting for durability. Reads return slices of the
/// mappings without copying. Opening a log recovers it: see `open(directory:config:fileSystem:clock:)`.
public final class PartitionLog: Sendable {
    /// The partition directory (`TOPIC-N/`).
    public let directory: String
    /// The fsync policy, fixed for the life of the open log (`updateConfig` cannot change it).
    public let fsync: FsyncPolicy
    /// What opening the log found and did.
    public let recoveryReport: RecoveryReport
    let fileSystem: any FileSystem
    let clock: @Sendable () -> Int64
    let state: Mutex<LogState>
    /// Held by the one append writing (and by a roll, retention's roll and close, which must not
    /// change the active segment under a write); see `append(_:mayBlock:)`. An append that may
    /// not block never waits behind one that may.
    let appendLock = HandOffLock(())
    let flushQueue: DispatchQueue
    /// Held across the removal of segment files (`deleteRemovedSegments()`), so that they leave
    /// the disk oldest first however many deletions run at once.
    let deletionLock = Mutex<Void>(())
    private let timer: RepeatingTimer?
    /// `config.batchBytesLimit`, readable without the lock on the append path.
    let batchLimit: Atomic<Int>

    /// Opens (creating if needed) the log in `directory` and recovers it: segments past the last
    /// checkpointed recovery point are scanned batch by batch (bounds, magic, CRC, offsets), the
    /// first bad batch and everything after it are cut off, indexes that are missing, damaged or
    /// past the recovery point are rebuilt, and what was scanned is made durable. `recoveryReport`
    /// says what was found.
    ///
    /// - Parameter clock: wall-clock milliseconds (tests pass their own to drive roll and retention).
    public static func open(
        directory: String, config: LogConfig = LogConfig(), fileSystem: any FileSystem = LiveFileSystem(),
        clock: @escaping @Sendable () -> Int64 = currentTimeMs
    ) throws(LogError) -> PartitionLog {
        try config.validate()
        let recovered: LogRecovery.Result
        do {
            recovered = try LogRecovery.run(directory: directory, config: config, fileSystem: fileSystem, now: clock())
        } catch {
            throw LogError.from(error, path: directory)
        }
        return PartitionLog(directory: directory, config: config, fileSystem: fileSystem, clock: clock, recovered: recovered)
    }

    private init(directory: String, config: LogConfig, fileSystem: any FileSystem, clock: @escaping @Sendable () -> Int64,
                 recovered: LogRecovery.Result) {
        self.directory = directory
        self.fsync = config.fsync
        self.batchLimit = Atomic(config.batchBytesLimit)
        self.fileSystem = fileSystem
        self.clock = clock
        self.recoveryReport = recovered.report
        let active = recovered.segments[recovered.segments.count - 1]
        let end = LogPosition(offset: active.nextOffset, segmentBase: active.baseOffset, position: active.size)
        self.state = Mutex(LogState(segments: recovered.segments, end: end, logStartOffset: recovered.logStartOffset,
                                    config: config, lastCheckpointMs: clock()))
        self.flushQueue = DispatchQueue(label: "spool.flush")
        if case let .interval(ms) = fsync {
            timer = RepeatingTimer(queue: flushQueue, intervalMs: ms)
        } else {
            timer = nil
        }
        timer?.start { [weak self] in self?.flush() }
    }

    /// How the log behaves now: the config it was opened with, or the last one given to
    /// `updateConfig(_:)`.
    public var config: LogConfig { state.withLock { $0.config } }
    /// The largest batch an append takes now (`config.batchBytesLimit`), without taking the lock.
    public var batchBytesLimit: Int { batchLimit.load(ordering: .relaxed) }
    /// The first offset still in the log: advanced by retention (whole segments) and by
    /// `deleteRecords(before:)` (any offset, kept across restarts in `log-start-offset`).
    public var logStartOffset: Int64 { state.withLock { $0.logStartOffset } }
    /// The offset the next append gets.
    public var logEndOffset: Int64 { state.withLock { $0.end.offset } }
    /// What readers may see: the flushed end under `always`, the log end otherwise.
    public var highWatermark: Int64 { state.withLock { $0.visible.offset } }
    /// The offset up to which the log is known to be on disk.
    public var durableOffset: Int64 { state.withLock { $0.durable.offset } }
    /// Base offsets of the segments, oldest first.
    public var segmentBaseOffsets: [Int64] { state.withLock { $0.segments.map(\.baseOffset) } }
    /// Valid bytes across all segments.
    public var sizeInBytes: Int { state.withLock { $0.segments.reduce(0) { $0 + $1.size } } }
    /// Checkpoint writes that failed (a full disk, say); recovery then scans from an older point.
    public var checkpointFailures: Int { state.withLock { $0.checkpointFailures } }
    /// The fdatasyncs this log has made.
    public var flushStatistics: FlushStatistics { state.withLock { $0.flushStatistics } }
    /// Why the log is offline (`.failed`, after a flush failed), nil while it takes appends. Reads
    /// still see what it holds; a reader that answers as Kafka does for a partition in an offline
    /// log directory goes by this.
    public var failure: LogError? { state.withLock { $0.failure } }

    /// Flushes everything, trims the active segment's files to their real length, writes a clean
    /// checkpoint and stops the flusher. Appends and reads afterwards throw `.closed`; waiters that
    /// are still pending get the same error.
    public func close() throws(LogError) {
        // After the append writing now, if any: its bytes are taken in before the files are trimmed.
        let alreadyClosed = appendLock.withLock { _ in
            state.withLock { state in
                defer { state.isClosed = true }
                return state.isClosed
            }
        }
        if alreadyClosed { return }
        timer?.stop()
        let result: Result<Void, LogError> = flushQueue.sync {
            flush()
            return state.withLock { state -> Result<Void, LogError> in
                if let failure = state.failure { return .failure(failure) }
                let active = state.active
                let point = state.end
                do {
                    try active.finishAppends()
                    try active.trimAndSync()
                    try RecoveryCheckpoint(point: point, cleanShutdown: true, relaxedFsync: fsync != .always).write(directory: directory, fileSystem: fileSystem)
                    return .success(())
                } catch {
                    return .failure(LogError.from(error, path: active.logPath))
                }
            }
        }
        // Readers may keep segments alive through their slices; the files need not stay open.
        let (waiters, parked, segments) = state.withLock { ($0.takeAllWaiters(), $0.takeAllVisibilityCallbacks(), $0.segments) }
        for segment in segments { segment.releaseDescriptors() }
        for waiter in waiters { waiter.resume(.failure(.closed)) }
        runVisibilityCallbacks(parked)
        try result.get()
    }
}

/// Everything the log's lock protects.
struct LogState {
    /// Oldest first; the last one takes appends.
    var segments: [Segment]
    /// After the last appended batch.
    var end: LogPosition
    /// After the last flushed batch.
    var durable: LogPosition
    /// The high watermark: readers see batches before it.
    var visible: LogPosition
    /// Rolled segments whose files the flusher has yet to trim and sync.
    var pendingSeal: [Segment] = []
    /// Segments taken out of the log whose files may still be on disk, oldest first (all older
    /// than `segments`): `PartitionLog.deleteRemovedSegments()` deletes them in this order before
    /// any newer segment, so a deletion that failed (or a pass that lost the race to another) can
    /// never leave a hole in the run of segments on disk.
    var awaitingDeletion: [Segment] = []
    /// A segment file was created since the last flush, so the directory needs an fsync.
    var directoryDirty = false
    var flushScheduled = false
    var waiters: [DurabilityWaiter] = []
    /// Readers parked until the high watermark passes an offset (long-poll fetches).
    var visibilityWaiters: [UInt64: VisibilityWaiter] = [:]
    var nextWaitID: UInt64 = 0
    var failure: LogError?
    var isClosed = false
    var lastCheckpointMs: Int64
    var checkpointFailures = 0
    var flushStatistics = FlushStatistics()
    /// Bytes read through the mappings since the pages of earlier reads were released, and the
    /// segments those reads touched (PartitionLog+Residency.swift).
    var readBytesSinceRelease = 0
    var segmentsReadSinceRelease: [Segment] = []

    /// The first offset readers may ask for: at or after the first segment's base, at most the end.
    var logStartOffset: Int64
    /// The log's current config (see `PartitionLog.updateConfig(_:)`).
    var config: LogConfig

    /// Recovery made everything it kept durable, so a freshly opened log is flushed to its end.
    init(segments: [Segment], end: LogPosition, logStartOffset: Int64, config: LogConfig, lastCheckpointMs: Int64) {
        precondition(logStartOffset >= segments[0].baseOffset && logStartOffset <= end.offset, "log start outside the log")
        self.segments = segments
        self.logStartOffset = logStartOffset
        self.config = config
        self.end = end
        self.durable = end
        self.visible = end
        self.lastCheckpointMs = lastCheckpointMs
    }

    var active: Segment { segments[segments.count - 1] }

    mutating func takeWaiters(below offset: Int64) -> [DurabilityWaiter] {
        guard waiters.contains(where: { $0.offset < offset }) else { return [] }
        let ready = waiters.filter { $0.offset < offset }
        waiters.removeAll { $0.offset < offset }
        return ready
    }

    mutating func takeAllWaiters() -> [DurabilityWaiter] {
        defer { waiters = [] }
        return waiters
    }

    /// Index of the segment that holds `offset` (the last with base ≤ offset).
    func segmentIndex(containing offset: Int64) -> Int {
        var low = 0
        var high = segments.count
        while low < high {
            let middle = (low + high) / 2
            if segments[middle].baseOffset <= offset { low = middle + 1 } else { high = middle }
        }
        return max(low - 1, 0)
    }
}

/// Someone waiting for an offset to be on disk.
struct DurabilityWaiter {
    var offset: Int64
    var resume: @Sendable (Result<Void, LogError>) -> Void
}
