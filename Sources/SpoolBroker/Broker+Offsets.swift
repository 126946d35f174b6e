import SpoolFormat
import SpoolLog

/// Where a group stands on one partition.
public struct PartitionLag: Equatable, Sendable {
    public var topicPartition: TopicPartition
    /// nil when the group has committed nothing for this partition.
    public var committed: CommittedOffset?
    public var logStartOffset: Int64
    public var highWatermark: Int64
    /// highWatermark − committed offset; nil without a commit.
    public var lag: Int64?
}

extension Broker {
    /// The offset for `timestamp` (Kafka ListOffsets): -2 is the log start, -1 the high
    /// watermark, -3 the record with the largest timestamp; otherwise the first record at or after
    /// the time, or (-1, -1) if there is none. A failed log throws `.storage` (see `onlineLog`).
    public func listOffset(topic: String, partition index: Int32, timestamp: Int64) throws(BrokerError) -> (offset: Int64, timestamp: Int64) {
        let log = try onlineLog(topic, index)
        switch timestamp {
        case -2: return (log.logStartOffset, -1)
        case -1: return (log.highWatermark, -1)
        case -3:
            do { return try log.maxTimestamp() ?? (-1, -1) } catch { throw BrokerError.from(error) }
        default:
            do {
                // The found record's own timestamp, as Kafka answers (not the one asked for).
                return try log.record(atOrAfter: timestamp) ?? (-1, -1)
            } catch {
                throw BrokerError.from(error)
            }
        }
    }

    /// ListOffsets v0: up to `maxCount` offsets, newest first, where reading can start from by
    /// `timestamp` (-1: latest, -2: earliest), as `PartitionLog.offsetsBefore` finds them. A
    /// failed log throws `.storage` (see `onlineLog`).
    public func offsetsBefore(topic: String, partition index: Int32, timestamp: Int64, maxCount: Int) throws(BrokerError) -> [Int64] {
        let log = try onlineLog(topic, index)
        do { return try log.offsetsBefore(timestamp, maxCount: maxCount) } catch { throw BrokerError.from(error) }
    }

    /// The log a ListOffsets reads, unless it failed: a failed log is offline, and Kafka answers
    /// for a partition in an offline log directory with KAFKA_STORAGE_ERROR at every ListOffsets
    /// version (`ReplicaManager.fetchOffsetForTimestamp` and `legacyFetchOffsetsForTimestamp` call
    /// `getPartitionOrException`, which throws `KafkaStorageException`). Fetch answers it too
    /// (`LogReadResult.failure`).
    private func onlineLog(_ topic: String, _ index: Int32) throws(BrokerError) -> PartitionLog {
        let log = try readableLog(topic, index)
        if let failure = log.failure { throw BrokerError.from(failure) }
        return log
    }

    /// The log end offset of a partition; nil if there is no such partition.
    public func logEndOffset(topic: String, partition index: Int32) -> Int64? {
        (try? partition(topic, index))?.log.logEndOffset
    }

    /// The log start offset of a partition; nil if there is no such partition. Kafka's produce
    /// answers carry it beside most errors (`ReplicaManager.appendToLocalLog`).
    public func logStartOffset(topic: String, partition index: Int32) -> Int64? {
        (try? partition(topic, index))?.log.logStartOffset
    }

    /// Stores offsets for a group, durably, before returning. Every partition must exist and every
    /// metadata string fit the limit; otherwise nothing is stored. Each offset is stored for the
    /// topic found here: one deleted before the offsets are stored gets them refused
    /// (`.unknownTopicOrPartition`), even if created again meanwhile. Generation and member checks
    /// against the group coordinator are the caller's (see `commitOffsets(group:generation:member:)`).
    public func storeOffsets(group: String, _ commits: [TopicPartition: CommittedOffset]) async throws(BrokerError) {
        try ensureOpen()
        guard !group.isEmpty, group.utf8.count <= OffsetStore.groupIdBytesMax else { throw .group(.invalidGroupId) }
        var topicIds: [TopicPartition: String] = [:]
        for (topicPartition, commit) in commits {
            topicIds[topicPartition] = try partition(topicPartition.topic, topicPartition.partition).topicId
            guard commit.metadata.utf8.count <= OffsetStore.metadataBytesMax else { throw .group(.offsetMetadataTooLarge) }
            guard commit.offset >= -1 else { throw .offsetOutOfRange(requested: commit.offset, logStart: 0, highWatermark: 0) }
        }
        let now = clock()
        let changes = commits.sorted { $0.key < $1.key }.map { topicPartition, commit in
            var stamped = commit
            if stamped.commitTimestampMs <= 0 { stamped.commitTimestampMs = now }
            return (OffsetStore.Key(group: group, topicPartition: topicPartition), OffsetStore.Stored(committed: stamped, topicId: topicIds[topicPartition]))
        }
        try await offsets.commit(changes) { [self] in topicId($0) }
    }

    /// What a group has committed (all its partitions, or the ones asked for), for the topics
    /// that have the names now: not what it committed for a deleted topic of the same name.
    public func committedOffsets(group: String, partitions: [TopicPartition]? = nil) -> [TopicPartition: CommittedOffset] {
        let all = offsets.committed(group: group, topicId: topicId)
        guard let partitions else { return all }
        return all.filter { partitions.contains($0.key) }
    }

    /// Groups that have committed offsets.
    public func groupsWithOffsets() -> Set<String> { offsets.groups(topicId: topicId) }

    /// Lag of `group` on every partition it committed for, and on `partitions` besides.
    public func lag(group: String, partitions extra: [TopicPartition] = []) -> [PartitionLag] {
        let committed = committedOffsets(group: group)
        let keys = Set(committed.keys).union(extra)
        return keys.sorted().compactMap { topicPartition in
            guard let log = try? partition(topicPartition.topic, topicPartition.partition).log else { return nil }
            let commit = committed[topicPartition]
            let highWatermark = log.highWatermark
            return PartitionLag(topicPartition: topicPartition, committed: commit, logStartOffset: log.logStartOffset,
                                highWatermark: highWatermark, lag: commit.map { max(0, highWatermark - $0.offset) })
        }
    }
}
