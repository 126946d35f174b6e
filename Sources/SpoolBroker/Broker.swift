import Dispatch
import Foundation
import SpoolFormat
import SpoolLog
import SpoolSystem
import Synchronization

/// The broker: topics and their partitions, idempotent producers, committed offsets and consumer
/// groups, over a data directory. The wire server and the embedded API both drive this type.
///
/// Thread-safe. Data flows one way: broker → partition → log.
public final class Broker: Sendable {
    public let config: BrokerConfig
    let fileSystem: any FileSystem
    let clock: @Sendable () -> Int64
    let topicStore: TopicStore
    let topics: Mutex<[String: Topic]>
    let offsets: OffsetStore
    let producerIds: ProducerIdAllocator
    /// Consumer groups (Kafka's classic protocol).
    public let groups: GroupCoordinator
    /// Traffic counters for the metrics endpoint.
    public let metrics = BrokerMetrics()
    /// Serialises topic creation and deletion (file work is done outside the `topics` lock).
    let topicChanges = Mutex(())
    /// Where async callers run topic changes (`changingTopics`), one after another, as Kafka's
    /// controller runs its events on one thread.
    let topicChangeQueue = BlockingQueue(label: "spool.topic-changes")
    /// Where a produce appends the batches that must wait for the disk: those that hold records
    /// for later under `fsync=always` (each waits for the delay log's flush, side by side, so that
    /// one flush covers them all) and those whose partition needs file work first (a new segment,
    /// more disk blocks).
    let blockingAppends = BlockingQueue(label: "spool.blocking-appends", concurrent: true)
    /// Tests: runs in `deleteTopic` just before the deletion is written to disk (a power cut then
    /// leaves the topic in place), with the topic's name.
    let beforeTopicDeletionIsWritten = Mutex<(@Sendable (String) -> Void)?>(nil)
    /// Tests: runs in `deleteTopic` once the deletion is on disk and the topic gone from `topics`,
    /// before its idempotency keys and committed offsets are forgotten, with the topic's name.
    let afterTopicDeletionIsWritten = Mutex<(@Sendable (String) async -> Void)?>(nil)
    /// Tests: runs in a produce whose partition stored its records but whose idempotency keys the
    /// dedupe log could not take at once, before they are confirmed where a thread may block.
    let beforeLateKeysAreConfirmed = Mutex<(@Sendable () async -> Void)?>(nil)
    let isClosed = Atomic(false)
    /// The flush statistics of the partitions of deleted topics, summed: `flushStatistics` counts
    /// them still.
    let retiredFlushes = Mutex(FlushStatistics())
    let retentionTimer: RepeatingTimer
    /// Records produced with `spool-deliver-at` in the future, until due.
    let delays: DelayStore
    /// Idempotency keys accepted per topic (`spool-idempotency-key`).
    let dedupe: DedupeWindow
    /// The delayed-delivery thread's controls.
    let delivery: DeliveryLoop
    /// This broker's hold on the data directory, released by `close`.
    let directoryLock: DataDirectoryLock

    /// A topic and its open partitions.
    struct Topic: Sendable {
        var metadata: TopicMetadata
        var partitions: [Partition]
    }

    /// Opens (creating it if needed) the data directory: takes its lock, recovers every partition,
    /// rebuilds producer state and committed offsets, and starts the retention schedule.
    ///
    /// One broker at a time may have a directory open: while one (in this process or another)
    /// holds it, this throws `.dataDirectoryInUse` having read and written nothing in it.
    public static func open(_ config: BrokerConfig, fileSystem: any FileSystem = LiveFileSystem(),
                            clock: @escaping @Sendable () -> Int64 = currentTimeMs) throws(BrokerError) -> Broker {
        try open(config, fileSystem: fileSystem, clock: clock, offsetHooks: OffsetStore.Hooks())
    }

    /// `open` with the offset store's test hooks.
    static func open(_ config: BrokerConfig, fileSystem: any FileSystem, clock: @escaping @Sendable () -> Int64,
                     offsetHooks: OffsetStore.Hooks) throws(BrokerError) -> Broker {
        var directoryLock: DataDirectoryLock?
        do {
            try config.log.validate()
            try fileSystem.makeDirectories(config.dataDirectory)
            let lock = try DataDirectoryLock.acquire(config.dataDirectory, fileSystem: fileSystem)
            directoryLock = lock
            let store = TopicStore(dataDirectory: config.dataDirectory, fileSystem: fileSystem)
            var topics: [String: Topic] = [:]
            for metadata in try store.load() {
                let logConfig = try metadata.config.logConfig(defaults: config.log)
                let partitions = try (0..<metadata.config.partitions).map { index in
                    try Partition.open(directory: TopicStore.partitionDirectory(config.dataDirectory, topic: metadata.name, partition: index),
                                       topic: metadata.name, topicId: metadata.id, index: Int32(index), config: logConfig,
                                       snapshotIntervalBytes: config.producerStateSnapshotBytes, fileSystem: fileSystem, clock: clock)
                }
                topics[metadata.name] = Topic(metadata: metadata, partitions: partitions)
            }
            let offsets = try OffsetStore(dataDirectory: config.dataDirectory, fileSystem: fileSystem, clock: clock,
                                          compactionBytesMax: config.offsetsCompactionBytes, hooks: offsetHooks)
            _ = try offsets.forgetStale(topics: topics.mapValues(\.metadata))
            for topic in topics.values {
                for partition in topic.partitions where mayHaveLostVisibleRecords(partition.log) {
                    _ = try offsets.clamp(TopicPartition(topic.metadata.name, partition.index), to: partition.log.logEndOffset)
                }
            }
            let dedupe = try DedupeWindow(dataDirectory: config.dataDirectory, fsync: config.log.fsync, fileSystem: fileSystem, clock: clock)
            try dedupe.forgetLost(topic: { topics[$0]?.metadata }) { topic, partition in
                topics[topic]?.partitions.first { $0.index == partition }?.log.logEndOffset
            }
            let producerIds = try ProducerIdAllocator(dataDirectory: config.dataDirectory, fileSystem: fileSystem)
            let delays = try DelayStore(dataDirectory: config.dataDirectory, fsync: config.log.fsync, fileSystem: fileSystem, clock: clock)
            // A directory made by a run killed before it synced the directory's parent is found
            // again, and not made (or synced) again, yet a power cut could still take it: every
            // directory of the broker is in one of these three, synced before anything is answered.
            for directory in [parentDirectory(of: config.dataDirectory), config.dataDirectory, store.directory] {
                try fileSystem.syncDirectory(directory)
            }
            let broker = Broker(config: config, fileSystem: fileSystem, clock: clock, directoryLock: lock, store: store, topics: topics, offsets: offsets,
                                producerIds: producerIds, delays: delays, dedupe: dedupe, delivery: try DeliveryLoop())
            broker.startRetention()
            broker.startDelayedDelivery()
            return broker
        } catch {
            // A broker that failed to open leaves the directory to the next opener.
            directoryLock?.release()
            switch error {
            case let error as BrokerError: throw error
            case let error as LogError: throw BrokerError.from(error)
            default: throw BrokerError.storage(.failed(String(describing: error)))
            }
        }
    }

    /// Whether a partition may have come back shorter than what consumers were shown before the
    /// restart, so that committed offsets above its end must come down to it (`OffsetStore.clamp`).
    ///
    /// Kafka stores any committed offset and returns it unchanged, even one beyond the log end,
    /// and so does Spool: a commit past the end is not clamped merely for being there. The clamp
    /// protects one case only: under a relaxed fsync policy (`interval`, `never`) records are
    /// visible to consumers before they are on disk, so a crash can take away records a group
    /// already committed past; without the clamp the group would skip the records produced at
    /// those offsets afterwards. Under `always` the high watermark is the durable end, so nothing a
    /// consumer saw is lost and a commit beyond the end was beyond it before the restart too; after
    /// a clean shutdown everything was flushed. Either way the offsets are left as committed. The
    /// policy that counts is the one the crashed run used, which its recovery checkpoint records
    /// (a crash under `interval` followed by a restart under `always` clamps too), or the one the
    /// partition is opened with when no checkpoint says.
    static func mayHaveLostVisibleRecords(_ log: PartitionLog) -> Bool {
        let report = log.recoveryReport
        return (log.fsync != .always || report.previousRunRelaxedFsync) && !report.cleanShutdown && !report.isNew
    }

    private init(config: BrokerConfig, fileSystem: any FileSystem, clock: @escaping @Sendable () -> Int64, directoryLock: DataDirectoryLock, store: TopicStore,
                 topics: [String: Topic], offsets: OffsetStore, producerIds: ProducerIdAllocator, delays: DelayStore, dedupe: DedupeWindow,
                 delivery: DeliveryLoop) {
        self.config = config
        self.delivery = delivery
        self.fileSystem = fileSystem
        self.clock = clock
        self.directoryLock = directoryLock
        self.topicStore = store
        self.topics = Mutex(topics)
        self.offsets = offsets
        self.producerIds = producerIds
        self.delays = delays
        self.dedupe = dedupe
        self.groups = GroupCoordinator(limits: config.groupLimits)
        self.retentionTimer = RepeatingTimer(queue: DispatchQueue.global(qos: .utility), intervalMs: config.retentionCheckIntervalMs)
    }

    /// Flushes and closes every partition (saving producer state for a fast restart) and the
    /// offsets log, then releases the data directory. Safe to call twice.
    public func close() throws(BrokerError) {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // Released last, after every file is closed, even when closing one failed.
        defer { directoryLock.release() }
        retentionTimer.stop()
        stopDelayedDelivery()
        groups.shutdown()
        let all = topics.withLock { topics in topics.values.flatMap(\.partitions) }
        var firstError: BrokerError?
        for partition in all {
            do { try partition.close() } catch { firstError = firstError ?? .storage(.failed(String(describing: error))) }
        }
        for close in [offsets.close, delays.close, dedupe.close] {
            do { try close() } catch { firstError = firstError ?? .storage(error as? LogError ?? .failed(String(describing: error))) }
        }
        if let firstError { throw firstError }
    }

    /// Stops as a crash of the process would leave things: nothing more is flushed, written or
    /// closed cleanly (the next open recovers), and the data directory lock is released so another
    /// broker can open the directory. For crash tests, which cannot kill their own process; the
    /// broker answers `.closed` afterwards.
    public func abandon() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        retentionTimer.stop()
        stopDelayedDelivery()
        groups.shutdown()
        directoryLock.release()
    }

    func ensureOpen() throws(BrokerError) {
        if isClosed.load(ordering: .acquiring) { throw .closed }
    }

    /// The partition, or `.unknownTopicOrPartition`.
    func partition(_ topic: String, _ index: Int32) throws(BrokerError) -> Partition {
        try ensureOpen()
        guard let partitions = topics.withLock({ $0[topic]?.partitions }) else {
            throw .unknownTopicOrPartition(topic: topic, partition: index)
        }
        guard index >= 0, Int(index) < partitions.count else { throw .unknownTopicOrPartition(topic: topic, partition: index) }
        return partitions[Int(index)]
    }

    /// Runs retention over every partition now. The broker also does this on its own every
    /// `retentionCheckIntervalMs`.
    public func enforceRetention() {
        let all = topics.withLock { topics in topics.values.flatMap(\.partitions) }
        for partition in all { _ = try? partition.log.enforceRetention() }
        _ = try? dedupe.log.enforceRetention()
        dedupe.expire(now: clock(), windowMs: dedupeWindowMs)
    }

    private func startRetention() {
        retentionTimer.start { [weak self] in self?.enforceRetention() }
    }
}

/// The delayed-delivery thread's controls: the alarm it sleeps on (woken at the earliest due time,
/// by a record held due sooner, by the wall clock being set, or to stop), a stop flag, and a
/// signal when it has ended.
final class DeliveryLoop: Sendable {
    let alarm: WallClockAlarm
    let finished = DispatchSemaphore(value: 0)
    let stopping = Atomic(false)
    /// How many times the loop has looked at the clock (a wait ended, or it started).
    let looks = Atomic(0)

    init() throws { alarm = try WallClockAlarm() }
}
