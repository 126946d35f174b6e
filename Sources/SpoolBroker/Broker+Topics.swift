import SpoolFormat
import Foundation
import SpoolLog

/// A topic as `describe` reports it.
public struct TopicDescription: Equatable, Sendable {
    public struct PartitionInfo: Equatable, Sendable {
        public var partition: Int32
        public var logStartOffset: Int64
        public var highWatermark: Int64
        public var logEndOffset: Int64
        public var sizeInBytes: Int
    }

    public var name: String
    public var id: String
    public var partitions: [PartitionInfo]
    /// The configs set explicitly for this topic.
    public var configs: [String: String]
}

/// A manual replica assignment for one partition of a new topic (CreateTopics' `assignments`).
public struct PartitionAssignment: Equatable, Sendable {
    public var partition: Int32
    /// Node ids of the replicas; on Spool, exactly the broker's own node id.
    public var replicas: [Int32]

    public init(partition: Int32, replicas: [Int32]) {
        self.partition = partition
        self.replicas = replicas
    }
}

extension Broker {
    /// Creates a topic with `partitions` partitions (nil: `BrokerConfig.defaultPartitions`) and the
    /// given Kafka topic configs, any of `TopicConfigCatalogue` (validated as Kafka validates them,
    /// and refused where Spool cannot honour the value). Nothing is created when it throws.
    ///
    /// - Parameters:
    ///   - replicationFactor: nil (or -1) for the default; Spool is a single node, so anything but
    ///     1 is `.invalidReplicationFactor`.
    ///   - assignments: a manual replica assignment instead of `partitions` and
    ///     `replicationFactor`: partitions 0…n-1, each with exactly `[nodeId]`. The partition count
    ///     is the number of entries. Otherwise `.invalidReplicaAssignment`.
    ///   - nodeId: this broker's node id, as the server advertises it.
    ///   - validateOnly: check everything, create nothing (the description then shows empty
    ///     partitions).
    /// - Throws: `.invalidTopic`, `.topicAlreadyExists`, `.topicCollision` (a name that differs from
    ///   an existing topic's only in '.' against '_'), `.invalidPartitions`, `.invalidConfig`,
    ///   `.invalidReplicationFactor`, `.invalidReplicaAssignment`, `.invalidRequest` (both a count
    ///   and an assignment; too many topics), `.invalidPartitions` also when the broker would hold
    ///   more than `BrokerConfig.partitionsMax` partitions, `.storage`.
    @discardableResult
    public func createTopic(_ name: String, partitions: Int? = nil, configs: [String: String] = [:], replicationFactor: Int? = nil,
                            assignments: [PartitionAssignment]? = nil, nodeId: Int32 = 0,
                            validateOnly: Bool = false) throws(BrokerError) -> TopicDescription {
        try ensureOpen()
        try TopicName.validate(name)
        let count = try Self.partitionCount(partitions: partitions, replicationFactor: replicationFactor, assignments: assignments,
                                            nodeId: nodeId, defaultPartitions: self.config.defaultPartitions)
        let config = try TopicConfig(partitions: count, overrides: configs).validated()
        let logConfig = try config.logConfig(defaults: self.config.log)
        return try topicChanges.withLock { _ throws(BrokerError) -> TopicDescription in
            let (exists, topicCount, partitionCount) = topics.withLock { ($0[name] != nil, $0.count, Self.partitionCount(of: $0)) }
            if exists { throw .topicAlreadyExists(name) }
            if let existing = collidingTopic(name) { throw .topicCollision(name: name, existing: existing) }
            guard topicCount < self.config.topicsMax else { throw .invalidRequest("the broker holds its maximum of \(self.config.topicsMax) topics") }
            try checkPartitionBudget(holding: partitionCount, adding: count)
            let metadata = TopicMetadata(name: name, id: UUID().uuidString, config: config, createdMs: clock(), createdWithEntryIds: true)
            if validateOnly { return describe(Topic(metadata: metadata, partitions: []), partitionCount: count) }
            // A deletion of a topic of this name that did not finish goes first (or the creation
            // fails, retriably): the next start would finish it, taking this topic's directories.
            if topicStore.hasPendingDeletion(name) {
                do { try topicStore.finishPendingDeletion(name) } catch { throw .storageFailure(error, path: topicStore.deletingPath(name)) }
            }
            try forgetEntriesWithoutId(of: name)
            var opened: [Partition] = []
            do {
                for index in 0..<config.partitions {
                    opened.append(try openPartition(topic: name, topicId: metadata.id, index: index, config: logConfig))
                }
                try topicStore.save(metadata)
            } catch {
                for partition in opened { try? partition.log.close() }
                try? topicStore.discard(metadata)
                throw .storageFailure(error, path: topicStore.path(name))
            }
            topics.withLock { $0[name] = Topic(metadata: metadata, partitions: opened) }
            return describe(Topic(metadata: metadata, partitions: opened))
        }
    }

    /// Forgets the committed offsets (durably) and idempotency keys of topic `name` stored without
    /// a topic id, before a topic is created under the name, under `topicChanges`: they are an
    /// earlier topic's (`TopicMetadata.ownsEntriesWithoutId`), and no topic has the name now.
    /// That topic's deletion forgets them, but one left pending forgot nothing yet, and the
    /// dedupe log keeps the keys a deletion forgot from memory: without this a group of the new
    /// topic would resume at the old topic's offset, skipping the records below it, and the new
    /// topic would drop records as duplicates of the old topic's keys. The offsets go before the
    /// topic is stored, so no crash leaves the topic with them; keys the dedupe log brings back
    /// are dropped by the next open (`DedupeWindow.forgetLost`), the new topic owning none.
    /// Nothing is appended when there are none, as in every data directory made since ids were
    /// stored.
    private func forgetEntriesWithoutId(of name: String) throws(BrokerError) {
        dedupe.forgetWithoutId(topic: name)
        _ = try offsets.forgetWithoutId(topic: name)
    }

    /// An existing topic whose name differs from `name` only in '.' against '_' (Kafka refuses
    /// `a_b` beside `a.b`: their metric names would be the same).
    func collidingTopic(_ name: String) -> String? {
        let key = TopicName.collisionKey(name)
        return topics.withLock { topics in topics.keys.filter { $0 != name && TopicName.collisionKey($0) == key }.min() }
    }

    /// Partitions of every topic together.
    static func partitionCount(of topics: [String: Topic]) -> Int {
        topics.values.reduce(0) { $0 + $1.partitions.count }
    }

    /// Refuses `adding` partitions to the `holding` the broker has when that would pass
    /// `partitionsMax` (see there: each partition keeps files open).
    func checkPartitionBudget(holding: Int, adding: Int) throws(BrokerError) {
        guard holding + adding > config.partitionsMax else { return }
        throw .invalidPartitions(
            "The broker holds \(holding) partitions; \(adding) more would pass its limit of \(config.partitionsMax) "
                + "(each partition keeps \(BrokerConfig.descriptorsPerPartition) files open: raise the open-file limit, "
                + "ulimit -n, or set spool serve --max-partitions).")
    }

    /// Opens (creating it) one partition of a topic.
    func openPartition(topic: String, topicId: String, index: Int, config logConfig: LogConfig) throws -> Partition {
        try Partition.open(
            directory: TopicStore.partitionDirectory(config.dataDirectory, topic: topic, partition: index),
            topic: topic, topicId: topicId, index: Int32(index), config: logConfig,
            snapshotIntervalBytes: config.producerStateSnapshotBytes, fileSystem: fileSystem, clock: clock)
    }

    /// The partition count a CreateTopics request asks for, checked as Kafka checks it, for a
    /// single node whose id is `nodeId`.
    static func partitionCount(partitions: Int?, replicationFactor: Int?, assignments: [PartitionAssignment]?, nodeId: Int32,
                               defaultPartitions: Int) throws(BrokerError) -> Int {
        let factor = replicationFactor == -1 ? nil : replicationFactor
        let count = partitions == -1 ? nil : partitions
        guard let assignments else {
            if let factor {
                guard factor > 0 else { throw .invalidReplicationFactor("Replication factor must be larger than 0, or -1 to use the default value.") }
                guard factor == 1 else {
                    throw .invalidReplicationFactor("Unable to replicate the partition \(factor) time(s): The target replication factor of \(factor) cannot be reached because only 1 broker(s) are registered.")
                }
            }
            if let count, count <= 0 { throw .invalidPartitions("Number of partitions was set to an invalid non-positive value.") }
            let resolved = count ?? defaultPartitions
            guard resolved <= TopicConfig.partitionsMax else {
                throw .invalidPartitions("Number of partitions must be between 1 and \(TopicConfig.partitionsMax), not \(resolved).")
            }
            return resolved
        }
        guard count == nil, factor == nil else {
            throw .invalidRequest("Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
        }
        guard !assignments.isEmpty else { throw .invalidReplicaAssignment("The manual partition assignment is empty.") }
        guard assignments.count <= TopicConfig.partitionsMax else {
            throw .invalidPartitions("Number of partitions must be between 1 and \(TopicConfig.partitionsMax), not \(assignments.count).")
        }
        guard assignments.map(\.partition).sorted() == (0..<Int32(assignments.count)).map({ $0 }) else {
            throw .invalidReplicaAssignment("Partitions should be a consecutive 0-based integer sequence")
        }
        for assignment in assignments { try checkReplicas(assignment.replicas, nodeId: nodeId) }
        return assignments.count
    }

    /// One partition's replicas in a manual assignment: exactly this node, once.
    static func checkReplicas(_ replicas: [Int32], nodeId: Int32) throws(BrokerError) {
        guard let first = replicas.first else {
            throw .invalidReplicaAssignment("The manual partition assignment includes an empty replica list.")
        }
        if let other = replicas.first(where: { $0 != nodeId }) {
            throw .invalidReplicaAssignment("The manual partition assignment includes broker \(other), but no such broker is registered (Spool is the single node \(nodeId)).")
        }
        guard replicas.count == 1 else {
            throw .invalidReplicaAssignment("The manual partition assignment includes the broker \(first) more than once.")
        }
    }

    /// The topic, creating it with the default partition count if auto-creation is on.
    public func ensureTopic(_ name: String) throws(BrokerError) -> TopicDescription {
        if let held = heldRecordsTopicDescription(name) { return held }
        if let topic = topics.withLock({ $0[name] }) { return describe(topic) }
        guard config.autoCreateTopics else { throw .unknownTopicOrPartition(topic: name, partition: nil) }
        do {
            return try createTopic(name)
        } catch .topicAlreadyExists {
            return try describeTopic(name)
        }
    }

    /// `ensureTopic` for async callers: a topic that exists is looked up at once, a creation runs
    /// through `changingTopics`.
    public func ensuringTopic(_ name: String) async throws(BrokerError) -> TopicDescription {
        if let topic = topics.withLock({ $0[name] }) { return describe(topic) }
        return try await changingTopics { [self] () throws(BrokerError) in try ensureTopic(name) }
    }

    /// Runs `work` on the broker's topic-change thread and waits for it there, not on a cooperative
    /// thread. Creating, growing, reconfiguring and deleting topics create, sync and delete files
    /// under `topicChanges`, and each waits for the one before it: from async code, call them
    /// through here (`deleteTopic` does so itself), so that a slow disk delays the topic changes
    /// alone and never the requests beside them (heartbeats, fetches, produces).
    public func changingTopics<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        try await topicChangeQueue.run(work)
    }

    /// Deletes a topic, its partitions' data, its idempotency keys and the offsets groups committed
    /// for it.
    ///
    /// The keys and offsets are forgotten after the topic is gone, by its id: a topic created again
    /// under the name meanwhile keeps its own, and the old ones are no longer read for the name
    /// (a commit for the deleted topic not yet stored is refused or forgotten with the others,
    /// see `OffsetStore.commit`; what a crash kept is dropped when the broker opens). Those
    /// stored without an id, before ids were, are forgotten too; a topic created under the name
    /// reads none of them, even before that (`forgetEntriesWithoutId`).
    ///
    /// The topic leaves `topics` only once its deletion is on disk (`TopicStore.markDeleting`):
    /// the delayed-delivery loop drops the held records of a topic it does not find there, and
    /// marks them delivered, durably. Were the topic gone from `topics` first, a power cut before
    /// the deletion reached the disk would bring the topic back without those records.
    ///
    /// A deletion whose last steps fail (removing the partitions' files) throws `.storage` and
    /// leaves its marker, the topic gone all the same; deleting the name again finishes it
    /// (`finishDeletionLeftPending`), so a client retrying its DeleteTopics succeeds once the
    /// disk lets it, rather than being told the topic is unknown. Its keys and offsets are
    /// forgotten then; meanwhile they are read for no topic, and a topic created under the name
    /// (which finishes the deletion first) reads none of them.
    ///
    /// Returns the deleted topic's id (a UUID string), which DeleteTopics answers with; nil when
    /// the deletion finished was one left pending whose marker cannot be read.
    @discardableResult
    public func deleteTopic(_ name: String) async throws(BrokerError) -> String? {
        try await deleteTopic { [self] () throws(BrokerError) -> TopicToDelete in
            if let metadata = topics.withLock({ $0[name]?.metadata }) { return .stored(metadata) }
            guard topicStore.hasPendingDeletion(name) else { throw .unknownTopicOrPartition(topic: name, partition: nil) }
            return .pending(name: name, topicStore.pendingDeletion(name))
        }.removed?.id
    }

    /// Deletes the topic whose id (`TopicDescription.id`, a UUID string) is `id`, as `deleteTopic`
    /// does by name, and returns its name. A deletion of that topic left pending (its marker
    /// holds the id) is finished, as by name: Kafka finds a topic by id until its deletion is
    /// done. The id is looked up under `topicChanges`, so a topic created under the same name
    /// meanwhile is never the one deleted.
    public func deleteTopic(id: String) async throws(BrokerError) -> String {
        let wanted = id.uppercased()
        return try await deleteTopic { [self] () throws(BrokerError) -> TopicToDelete in
            if let metadata = topics.withLock({ topics in topics.values.first { $0.metadata.id == wanted }?.metadata }) {
                return .stored(metadata)
            }
            // A marker beside a stored topic of its name (which `createTopic` no longer leaves) is
            // not finished here: that would remove the stored topic's partitions.
            guard let pending = topicStore.pendingDeletion(id: wanted), topics.withLock({ $0[pending.name] }) == nil else {
                throw .unknownTopicId(id)
            }
            return .pending(name: pending.name, pending)
        }.name
    }

    /// What a deletion found to delete, under `topicChanges`.
    private enum TopicToDelete {
        /// A stored topic, deleted from the start.
        case stored(TopicMetadata)
        /// A deletion left pending, to finish; the metadata its marker holds (nil if unreadable).
        case pending(name: String, TopicMetadata?)
    }

    /// Deletes what `find` finds, under `topicChanges` (so nothing else changes the topics
    /// meanwhile), then forgets its idempotency keys and committed offsets by its id. Returns the
    /// topic's name, and its metadata when known.
    private func deleteTopic(finding find: @escaping @Sendable () throws(BrokerError) -> TopicToDelete)
        async throws(BrokerError) -> (name: String, removed: TopicMetadata?) {
        try ensureOpen()
        let deleted = try await changingTopics { [self] () throws(BrokerError) -> (name: String, removed: TopicMetadata?) in
            try topicChanges.withLock { _ throws(BrokerError) -> (name: String, removed: TopicMetadata?) in
                switch try find() {
                case let .stored(metadata):
                    try deleteStored(metadata)
                    return (metadata.name, metadata)
                case let .pending(name, metadata):
                    try finishDeletionLeftPending(name)
                    return (name, metadata)
                }
            }
        }
        await afterTopicDeletionIsWritten.withLock { $0 }?(deleted.name)
        if let removed = deleted.removed {
            dedupe.forget(topic: removed.name, id: removed.id)
            try await offsets.forget(topic: removed.name, id: removed.id)
        }
        return deleted
    }

    /// Deletes a stored topic, under `topicChanges`: marks it deleted on disk, takes it out of
    /// `topics`, discards its partitions and removes their files.
    private func deleteStored(_ metadata: TopicMetadata) throws(BrokerError) {
        let name = metadata.name
        beforeTopicDeletionIsWritten.withLock { $0 }?(name)
        do { try topicStore.markDeleting(metadata) } catch { throw .storage(.failed(String(describing: error))) }
        // Under `topicChanges`, nothing else removes or replaces the topic meanwhile.
        // The partitions' flushes move to the retired sum as the topic leaves `topics`
        // (under its lock, where `flushStatistics` reads them), and the ones their logs
        // make while closing follow.
        let (topic, atRemoval) = topics.withLock { topics in
            let topic = topics.removeValue(forKey: name) ?? Topic(metadata: metadata, partitions: [])
            let flushes = topic.partitions.map(\.log.flushStatistics)
            retiredFlushes.withLock { retired in retired = flushes.reduce(retired, +) }
            return (topic, flushes)
        }
        for (partition, flushes) in zip(topic.partitions, atRemoval) {
            try? partition.discard()
            let closing = partition.log.flushStatistics - flushes
            retiredFlushes.withLock { $0 = $0 + closing }
        }
        do { try topicStore.finishDeleting(metadata) } catch { throw .storage(.failed(String(describing: error))) }
    }

    /// Finishes a deletion of `name` that failed part way (its marker is there, the topic is not):
    /// throws `.storage` again if it still fails. Its keys and offsets, hidden already, are
    /// forgotten by the caller when the marker can be read, else at the next start; those stored
    /// without an id also by a topic's creation under the name (`forgetEntriesWithoutId`).
    private func finishDeletionLeftPending(_ name: String) throws(BrokerError) {
        do { try topicStore.finishPendingDeletion(name) } catch { throw .storageFailure(error, path: topicStore.deletingPath(name)) }
    }

    /// Every topic, by name.
    public func listTopics() -> [TopicDescription] {
        topics.withLock { Array($0.values) }.sorted { $0.metadata.name < $1.metadata.name }.map { describe($0) }
    }

    public func describeTopic(_ name: String) throws(BrokerError) -> TopicDescription {
        if let held = heldRecordsTopicDescription(name) { return held }
        guard let topic = topics.withLock({ $0[name] }) else { throw .unknownTopicOrPartition(topic: name, partition: nil) }
        return describe(topic)
    }

    /// Partition count of a topic, nil if it does not exist.
    public func partitionCount(_ topic: String) -> Int? {
        topics.withLock { $0[topic]?.partitions.count }
    }

    /// Whether the topic exists and has this partition.
    public func hasPartition(_ topicPartition: TopicPartition) -> Bool {
        guard let count = partitionCount(topicPartition.topic) else { return false }
        return topicPartition.partition >= 0 && Int(topicPartition.partition) < count
    }

    /// The description of an open topic; `partitionCount` adds empty partitions past the open
    /// ones (a topic validated but not created).
    func describe(_ topic: Topic, partitionCount: Int = 0) -> TopicDescription {
        var partitions = topic.partitions.map { partition in
            TopicDescription.PartitionInfo(
                partition: partition.index, logStartOffset: partition.log.logStartOffset,
                highWatermark: partition.log.highWatermark, logEndOffset: partition.log.logEndOffset,
                sizeInBytes: partition.log.sizeInBytes)
        }
        for index in partitions.count..<max(partitionCount, partitions.count) {
            partitions.append(TopicDescription.PartitionInfo(partition: Int32(index), logStartOffset: 0, highWatermark: 0, logEndOffset: 0, sizeInBytes: 0))
        }
        return TopicDescription(name: topic.metadata.name, id: topic.metadata.id, partitions: partitions, configs: topic.metadata.config.overrides)
    }
}
