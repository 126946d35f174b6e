import SpoolFormat
import SpoolLog
import SpoolSystem
import Synchronization

/// Committed offsets, kept in an internal partition log (`DATA/__consumer_offsets-0`, fsync
/// `always`) and in memory. A commit is appended and flushed before it is applied and
/// acknowledged, so an acknowledged commit survives any crash. Opening replays the log; when it
/// grows past `compactionBytesMax` the live entries are rewritten and older segments deleted.
///
/// Thread-safe. One lock (`state`) orders everything that appends: a commit appends its batch and
/// records it as pending under the lock, waits for the flush outside it, then applies every pending
/// change up to its own, in log order, so the applied map is always the state of a prefix of the
/// log and a slow commit can never undo a newer one. Compaction takes its snapshot under the same
/// lock from the applied map plus the pending changes, so the snapshot is the state of the log
/// exactly at its first offset; each chunk of the snapshot is appended under the lock too, leaving
/// out keys that a commit changed after the snapshot was taken (their newer record is already
/// below it). Old segments are deleted only after the snapshot is durable, front first. A commit
/// waits at most for one chunk to be copied into the log, never for compaction's fsyncs.
///
/// Each offset is stored with the id of the topic it was committed for (`Stored.topicId`): a
/// topic deleted and created again under its name is another topic, and its groups start
/// afresh. Readers see only the offsets of the topic that has the name now, so offsets of a
/// deleted topic that its deletion has not forgotten yet, or that a crash kept, are never where a
/// group resumes the new one; `forgetStale` drops those a crash kept when the broker opens.
/// Offsets stored before ids were carry none: they are the offsets of the topic of their name,
/// which holds because only a topic upgraded in place keeps them (`TopicMetadata.ownsEntriesWithoutId`):
/// a topic's creation forgets those of its name first (`forgetWithoutId`), and opening drops
/// those of a topic that does not own them (`forgetStale`).
final class OffsetStore: Sendable {
    struct Key: Hashable {
        var group: String
        var topicPartition: TopicPartition
    }

    /// A committed offset as stored: with the topic it was committed for.
    struct Stored: Equatable, Sendable {
        var committed: CommittedOffset
        /// The id of the topic (`TopicMetadata.id`) the offset was committed for; nil for offsets
        /// stored before ids were, which count as the offsets of the topic that has the name: a
        /// topic upgraded in place, the only one that keeps them (see the type's comment).
        var topicId: String?

        /// Whether this is an offset of the topic whose id is `current` (nil: no topic has the
        /// name, and the offset is no topic's, whether or not it carries an id: a deletion left
        /// pending forgets none until it is finished, and they must not show meanwhile).
        func isOf(_ current: String?) -> Bool {
            guard let current else { return false }
            return topicId == nil || topicId == current
        }
    }

    /// A change appended to the log but not yet applied: its flush has not been seen to finish.
    private struct PendingChange {
        var key: Key
        /// nil deletes the key.
        var stored: Stored?
        var logOffset: Int64
    }

    private struct State {
        /// The committed offsets readers see: the state of the log up to some durable offset.
        var entries: [Key: Stored]
        /// Changes appended after what `entries` covers, in log order.
        var pending: [PendingChange] = []
        /// Keys appended to since the running compaction took its snapshot; nil when none runs.
        var changedDuringCompaction: Set<Key>?

        /// Applies the pending changes at or below `logOffset`, which the caller knows are durable.
        mutating func applyPending(through logOffset: Int64) {
            let count = pending.prefix { $0.logOffset <= logOffset }.count
            for change in pending.prefix(count) {
                entries[change.key] = change.stored
            }
            pending.removeFirst(count)
        }

        /// Every change appended so far, pending ones included: what replaying the log would give.
        func appended() -> [Key: Stored] {
            var all = entries
            for change in pending { all[change.key] = change.stored }
            return all
        }
    }

    /// Points where a test stops a commit or a compaction to force an interleaving. None are set
    /// outside tests.
    struct Hooks: Sendable {
        /// A commit the broker checked is about to be appended.
        var commitAppending: (@Sendable ([Key]) async -> Void)?
        /// A commit's records are durable and about to be applied.
        var commitDurable: (@Sendable ([Key]) async -> Void)?
        /// Compaction has rolled the log and is about to take its snapshot.
        var compactionRolled: (@Sendable () async -> Void)?
        /// Compaction has taken its snapshot and is about to append it.
        var compactionSnapshotTaken: (@Sendable () async -> Void)?
        /// Compaction is about to delete the segments its snapshot replaced.
        var compactionDeleting: (@Sendable () async -> Void)?
        /// A deletion (DeleteGroups, OffsetDelete) was decided from the offsets the broker read and
        /// is about to be appended.
        var deletionDecided: (@Sendable () async -> Void)?
    }

    static let directoryName = "__consumer_offsets-0"
    static let metadataBytesMax = 4096
    /// Longest group id, in UTF-8 bytes: the record key stores it with a 16-bit length.
    static let groupIdBytesMax = Int(UInt16.max)
    /// The log size past which a commit starts a compaction.
    static let compactionBytesDefault = 64 << 20
    /// Records per batch of a compaction's snapshot.
    static let snapshotChunkRecordsDefault = 1000

    let log: PartitionLog
    /// Held by appends on `fileWork`, announced before they are queued: a commit on a cooperative
    /// thread then goes there too rather than wait.
    private let state: HandOffLock<State>
    /// Where appends and compactions that do file work (or wait for a lock that such work holds)
    /// run, off the request's cooperative thread.
    private let fileWork = BlockingQueue(label: "spool.offsets")
    private let compacting = Atomic(false)
    private let clock: @Sendable () -> Int64
    private let compactionBytesMax: Int
    private let snapshotChunkRecords: Int
    private let hooks: Hooks

    init(dataDirectory: String, fileSystem: any FileSystem, clock: @escaping @Sendable () -> Int64,
         compactionBytesMax: Int = compactionBytesDefault, snapshotChunkRecords: Int = snapshotChunkRecordsDefault,
         hooks: Hooks = Hooks()) throws {
        precondition(snapshotChunkRecords > 0, "a snapshot chunk holds at least one record")
        var config = LogConfig.internalLog(fsync: .always)
        config.segmentBytes = Self.segmentBytes(compactionBytesMax: compactionBytesMax, internalLogSegmentBytes: config.segmentBytes)
        log = try PartitionLog.open(directory: dataDirectory + "/" + Self.directoryName, config: config,
                                    fileSystem: fileSystem, clock: clock)
        self.clock = clock
        self.compactionBytesMax = compactionBytesMax
        self.snapshotChunkRecords = snapshotChunkRecords
        self.hooks = hooks
        var loaded: [Key: Stored] = [:]
        try log.replay { batch in
            for record in batch.records {
                guard let key = record.key.flatMap(Self.decodeKey) else { continue }
                loaded[key] = record.value.flatMap(Self.decodeValue)
            }
        }
        state = HandOffLock(State(entries: loaded))
    }

    /// Appends the commits, waits until they are on disk, then applies them; `nil` deletes. Each
    /// names the topic it is for (`Stored.topicId`, which must be set); `topicId` answers the id
    /// of the topic that has a name now. A commit any of whose topics is no longer the one it
    /// names when it is appended (deleted since the caller looked, perhaps created again) is
    /// refused with `.unknownTopicOrPartition`, and nothing is stored. The check is made under the lock a
    /// topic's deletion takes to forget its offsets (`forget(topic:id:)`), after the topic left
    /// the broker's topics: so each commit is either in the log before the deletion's tombstones,
    /// which then cover it, or refused.
    func commit(_ changes: [(Key, Stored?)], topicId: @escaping @Sendable (String) -> String?) async throws(BrokerError) {
        guard !changes.isEmpty else { return }
        precondition(changes.allSatisfy { $0.1 == nil || $0.1?.topicId != nil }, "a commit names the topic it is for")
        await hooks.commitAppending?(changes.map(\.0))
        let batch = Self.encode(changes, now: clock())
        let appended: CommitAppend
        do {
            appended = try await appending { state, mayBlock throws(LogError) -> CommitAppend? in
                if let gone = changes.first(where: { key, stored in stored.map { $0.topicId != topicId(key.topicPartition.topic) } ?? false }) {
                    return .topicGone(gone.0.topicPartition)
                }
                return try self.appendLocked(changes, batch, &state, mayBlock: mayBlock).map(CommitAppend.appended)
            }
        } catch {
            throw .storage(error)
        }
        let lastOffset: Int64
        switch appended {
        case let .topicGone(topicPartition): throw .unknownTopicOrPartition(topic: topicPartition.topic, partition: topicPartition.partition)
        case let .appended(offset): lastOffset = offset
        }
        do { try await log.waitUntilDurable(lastOffset) } catch { throw .storage(error) }
        await hooks.commitDurable?(changes.map(\.0))
        state.withLock { $0.applyPending(through: lastOffset) }
        await compactIfLarge()
    }

    /// What `commit` did under the lock.
    private enum CommitAppend: Sendable {
        /// Appended, up to this offset.
        case appended(Int64)
        /// Nothing appended: this partition's topic is not the one the commit was for.
        case topicGone(TopicPartition)
    }

    /// Deletes each key of `expected` whose stored offset is still the one given, topic id
    /// included (pending commits included), as one batch appended under the lock, and waits until
    /// the deletion is on disk. A commit that changed a key after the caller read it survives: a
    /// DeleteGroups or OffsetDelete takes effect as of the moment it looked at the group, never
    /// over a commit made since, such as one by a member that joined in between, or one for a
    /// topic created again under the name meanwhile that happens to have the same offset.
    /// Returns the keys deleted.
    @discardableResult
    func delete(ifUnchanged expected: [Key: Stored]) async throws(BrokerError) -> [Key] {
        guard !expected.isEmpty else { return [] }
        await hooks.deletionDecided?()
        return try await delete { key, stored in expected[key] == stored }
    }

    /// Deletes the committed offsets of topic `name` whose topic was the one with id `topicId`
    /// (and those stored before ids were: theirs or an earlier topic's of the name), pending
    /// commits included, and waits until the deletion is on disk. For a deleted topic: offsets of
    /// a topic created again under the name since stay. Returns the keys deleted.
    @discardableResult
    func forget(topic name: String, id topicId: String) async throws(BrokerError) -> [Key] {
        try await delete { key, stored in key.topicPartition.topic == name && stored.isOf(topicId) }
    }

    /// Deletes every key for which `doomed` holds, judged on every change appended so far
    /// (pending ones included), as one batch appended under the lock, and waits until the
    /// deletion is on disk. Returns the keys deleted.
    private func delete(where doomed: @escaping @Sendable (Key, Stored) -> Bool) async throws(BrokerError) -> [Key] {
        let now = clock()
        let appended: Deleted?
        do {
            appended = try await appending { state, mayBlock throws(LogError) -> Deleted?? in
                let keys = state.appended().filter { doomed($0.key, $0.value) }.map(\.key)
                    .sorted { ($0.group, $0.topicPartition) < ($1.group, $1.topicPartition) }
                guard !keys.isEmpty else { return .some(nil) }
                let changes = keys.map { ($0, Stored?.none) }
                guard let lastOffset = try self.appendLocked(changes, Self.encode(changes, now: now), &state, mayBlock: mayBlock) else { return nil }
                return Deleted(keys: keys, lastOffset: lastOffset)
            }
            if let appended { try await log.waitUntilDurable(appended.lastOffset) }
        } catch {
            throw .storage(error)
        }
        guard let appended else { return [] }
        state.withLock { $0.applyPending(through: appended.lastOffset) }
        await compactIfLarge()
        return appended.keys
    }

    /// What `delete(ifUnchanged:)` appended.
    private struct Deleted: Sendable {
        var keys: [Key]
        var lastOffset: Int64
    }

    /// Runs `body` under the lock with the log's appends allowed to block or not: first on the
    /// caller's thread, when the lock is free and no append that may block is under way, without;
    /// then, when `body` returned nil (it appended nothing, because its append needs file work),
    /// or the lock was busy, on `fileWork`, with. So a commit never waits for the disk or for
    /// file work on a cooperative thread.
    private func appending<T: Sendable>(_ body: @escaping @Sendable (inout State, Bool) throws(LogError) -> T?) async throws(LogError) -> T {
        if let tried = try state.withLockIfFree({ state throws(LogError) -> T? in try body(&state, false) }), let done = tried {
            return done
        }
        return try await state.announcingMayBlock { () async throws(LogError) -> T in
            try await fileWork.run { [self] () throws(LogError) -> T in
                try state.withLock { state throws(LogError) -> T in
                    guard let done = try body(&state, true) else { preconditionFailure("an append that may block always appends") }
                    return done
                }
            }
        }
    }

    /// Appends `batch`, the encoding of `changes`, and records them as pending; the caller holds
    /// the lock. Returns the batch's last offset, or nil when the append would need file work and
    /// `mayBlock` is false (nothing appended).
    private func appendLocked(_ changes: [(Key, Stored?)], _ batch: [UInt8], _ state: inout State, mayBlock: Bool) throws(LogError) -> Int64? {
        guard let result = try log.append(batch, mayBlock: mayBlock) else { return nil }
        for (index, (key, stored)) in changes.enumerated() {
            state.pending.append(PendingChange(key: key, stored: stored, logOffset: result.baseOffset + Int64(index)))
            state.changedDuringCompaction?.insert(key)
        }
        return result.lastOffset
    }

    private static func encode(_ changes: [(Key, Stored?)], now: Int64) -> [UInt8] {
        RecordBatch(producing: changes.map { key, stored in
            ProducerRecord(key: encodeKey(key), value: stored.map(encodeValue), timestamp: now)
        }).encoded()
    }

    /// What `group` committed for the topics that have the names now (`topicId` answers a name's id).
    func committed(group: String, topicId: (String) -> String?) -> [TopicPartition: CommittedOffset] {
        stored(group: group, topicId: topicId).mapValues(\.committed)
    }

    /// What `group` committed for the topics that have the names now, as stored: with the topic id
    /// each was committed for, what `delete(ifUnchanged:)` compares.
    func stored(group: String, topicId: (String) -> String?) -> [TopicPartition: Stored] {
        state.withLock { state in
            var result: [TopicPartition: Stored] = [:]
            for (key, stored) in state.entries where key.group == group && stored.isOf(topicId(key.topicPartition.topic)) {
                result[key.topicPartition] = stored
            }
            return result
        }
    }

    /// The groups with an offset committed for a topic that has its name now.
    func groups(topicId: (String) -> String?) -> Set<String> {
        state.withLock { state in
            Set(state.entries.filter { $0.value.isOf(topicId($0.key.topicPartition.topic)) }.keys.map(\.group))
        }
    }

    /// Brings every committed offset of `topicPartition` above `end` down to `end`, durably, and
    /// returns the keys changed. For a partition that may have lost records a group had read
    /// (see `Broker.mayHaveLostVisibleRecords`): the group would otherwise skip the records
    /// produced at those offsets again. The new offsets are stored, not only applied, so a later
    /// restart, when the partition may have grown past them, does not bring back the old ones.
    /// Blocks until they are on disk: for opening, not for a Swift concurrency thread's hot path.
    func clamp(_ topicPartition: TopicPartition, to end: Int64) throws(BrokerError) -> [Key] {
        try storeBlocking { state in
            state.appended().compactMap { key, stored -> (Key, Stored?)? in
                guard key.topicPartition == topicPartition, stored.committed.offset > end else { return nil }
                var clamped = stored
                clamped.committed.offset = end
                return (key, clamped)
            }.sorted { $0.0.group < $1.0.group }
        }
    }

    /// Deletes, durably, every committed offset that is not of a topic in `topics` (by name):
    /// those of a topic no longer there, of a topic that had the name before (another id), and
    /// those stored without an id for a topic that does not own them
    /// (`TopicMetadata.ownsEntriesWithoutId`). Returns the keys deleted. A topic's deletion
    /// removes the topic, then its offsets: a crash between the two leaves the offsets behind, and
    /// the topic may have been created again under the name meanwhile.
    /// Blocks until the deletions are on disk: for opening.
    func forgetStale(topics: [String: TopicMetadata]) throws(BrokerError) -> [Key] {
        try deleteBlocking { key, stored in topics[key.topicPartition.topic]?.owns(entryOf: stored.topicId) != true }
    }

    /// Deletes, durably, the committed offsets of topic `name` stored without a topic id, pending
    /// commits included, and returns the keys deleted. For a topic about to be created under the
    /// name: they are an earlier topic's (`TopicMetadata.ownsEntriesWithoutId`). No commit for the
    /// name is stored meanwhile, since none carries an id that a topic of the name has.
    /// Blocks until the deletions are on disk, holding the lock as a holder that may block: not
    /// for a Swift concurrency thread's hot path.
    func forgetWithoutId(topic name: String) throws(BrokerError) -> [Key] {
        try deleteBlocking { key, stored in key.topicPartition.topic == name && stored.topicId == nil }
    }

    /// `delete(where:)` on the caller's thread, which may block.
    private func deleteBlocking(where doomed: (Key, Stored) -> Bool) throws(BrokerError) -> [Key] {
        try storeBlocking { state in
            state.appended().filter { doomed($0.key, $0.value) }.keys
                .sorted { ($0.group, $0.topicPartition) < ($1.group, $1.topicPartition) }.map { ($0, nil) }
        }
    }

    /// Appends the changes that `select` picks from the state, under the lock as a holder that
    /// may block, waits until they are durable, then applies them; returns their keys.
    private func storeBlocking(_ select: (State) -> [(Key, Stored?)]) throws(BrokerError) -> [Key] {
        let now = clock()
        do {
            let picked = try state.withLockMayBlock { state throws(LogError) -> (changes: [(Key, Stored?)], lastOffset: Int64)? in
                let changes = select(state)
                guard !changes.isEmpty else { return nil }
                guard let lastOffset = try appendLocked(changes, Self.encode(changes, now: now), &state, mayBlock: true) else {
                    preconditionFailure("an append that may block always appends")
                }
                return (changes, lastOffset)
            }
            guard let picked else { return [] }
            try log.waitUntilDurableBlocking(picked.lastOffset)
            state.withLock { $0.applyPending(through: picked.lastOffset) }
            return picked.changes.map(\.0)
        } catch {
            throw .storage(error)
        }
    }

    /// The offsets log's segment size: a quarter of the compaction threshold, so that a compaction
    /// finds segments to delete, and no more than other internal logs use.
    static func segmentBytes(compactionBytesMax: Int, internalLogSegmentBytes: Int) -> Int {
        min(internalLogSegmentBytes, max(LogConfig.segmentBytesMin, compactionBytesMax / 4))
    }

    private func compactIfLarge() async {
        guard log.sizeInBytes > compactionBytesMax, log.segmentBaseOffsets.count > 1 else { return }
        await compact()
    }

    /// Rewrites the live entries at the end of the log and deletes the segments before them. One
    /// compaction at a time; a call while one runs returns at once.
    ///
    /// The snapshot is the state of the log at `start`, taken under the lock that appends take,
    /// pending changes included; so every record below `start` is superseded by the snapshot or
    /// by a later record, and the segments wholly below it can go once the snapshot is durable.
    func compact() async {
        guard !compacting.exchange(true, ordering: .acquiringAndReleasing) else { return }
        defer {
            state.withLock { $0.changedDuringCompaction = nil }
            compacting.store(false, ordering: .releasing)
        }
        do {
            // The roll makes the old segments whole, so they can be deleted; where it falls does
            // not matter for correctness: `start` is taken below, under the lock.
            try await fileWork.run { [log] () throws(LogError) in try log.roll() }
            await hooks.compactionRolled?()
            let (start, live) = state.withLock { state in
                state.changedDuringCompaction = []
                return (log.logEndOffset, state.appended())
            }
            await hooks.compactionSnapshotTaken?()
            let now = clock()
            let snapshot = Array(live)
            for chunkStart in stride(from: 0, to: snapshot.count, by: snapshotChunkRecords) {
                let chunk = snapshot[chunkStart..<min(chunkStart + snapshotChunkRecords, snapshot.count)]
                _ = try await state.announcingMayBlock { () async throws(LogError) -> Int64? in
                    try await fileWork.run { [self] () throws(LogError) in try appendSnapshotChunk(chunk, now: now) }
                }
            }
            // Every record from `start` on must be on disk before the records below it go: the
            // snapshot's, and the newer ones of the keys it left out (changed meanwhile), which a
            // chunk left out entirely would not wait for. Appends take the lock, so the log end
            // read under it covers every change the snapshot skipped.
            let end = state.withLock { _ in log.logEndOffset }
            if end > start { try await log.waitUntilDurable(end - 1) }
            await hooks.compactionDeleting?()
            _ = try await fileWork.run { [log] () throws(LogError) in try log.deleteSegments(before: start) }
        } catch {
            // Compaction is an optimisation: on failure the log just stays larger until next time.
        }
    }

    /// Appends one chunk of a compaction's snapshot, leaving out keys changed since the snapshot
    /// was taken (their newer records are already in the log, after `start`). The batch is encoded
    /// before the lock is taken, and again under it only when a key must be left out. Returns the
    /// last offset appended, or nil when every key of the chunk had changed.
    private func appendSnapshotChunk(_ chunk: ArraySlice<(key: Key, value: Stored)>, now: Int64) throws(LogError) -> Int64? {
        func encode(_ entries: some Sequence<(key: Key, value: Stored)>) -> [UInt8] {
            RecordBatch(producing: entries.map {
                ProducerRecord(key: Self.encodeKey($0.key), value: Self.encodeValue($0.value), timestamp: now)
            }).encoded()
        }
        let encoded = encode(chunk)
        return try state.withLock { state throws(LogError) -> Int64? in
            let changed = state.changedDuringCompaction ?? []
            guard chunk.contains(where: { changed.contains($0.key) }) else { return try log.append(encoded).lastOffset }
            let unchanged = chunk.filter { !changed.contains($0.key) }
            guard !unchanged.isEmpty else { return nil }
            return try log.append(encode(unchanged)).lastOffset
        }
    }

    func close() throws { try log.close() }

    // MARK: - Record format
    // Key: version u8 (1), group (u16 length + UTF-8), topic (u16 length + UTF-8), partition i32.
    // Value: version u8 (1), offset i64, leader epoch i32, commit time i64, metadata (u16 + UTF-8),
    // then the id of the topic committed for (u16 + UTF-8), absent from values stored before ids
    // were (readers of that version stop after the metadata, so they read these values too).
    // A null value deletes the key.

    static func encodeKey(_ key: Key) -> [UInt8] {
        var bytes: [UInt8] = [1]
        appendString(key.group, to: &bytes)
        appendString(key.topicPartition.topic, to: &bytes)
        bytes.appendBigEndian(key.topicPartition.partition)
        return bytes
    }

    static func encodeValue(_ stored: Stored) -> [UInt8] {
        let committed = stored.committed
        var bytes: [UInt8] = [1]
        bytes.appendBigEndian(committed.offset)
        bytes.appendBigEndian(committed.leaderEpoch)
        bytes.appendBigEndian(committed.commitTimestampMs)
        appendString(committed.metadata, to: &bytes)
        if let topicId = stored.topicId { appendString(topicId, to: &bytes) }
        return bytes
    }

    static func decodeKey(_ bytes: [UInt8]) -> Key? {
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            guard (try? reader.readInt8()) == 1, let group = readString(&reader), let topic = readString(&reader),
                  let partition = try? reader.readInt32() else { return nil }
            return Key(group: group, topicPartition: TopicPartition(topic, partition))
        }
    }

    static func decodeValue(_ bytes: [UInt8]) -> Stored? {
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            guard (try? reader.readInt8()) == 1, let offset = try? reader.readInt64(), let epoch = try? reader.readInt32(),
                  let time = try? reader.readInt64(), let metadata = readString(&reader) else { return nil }
            let topicId = reader.remaining > 0 ? readString(&reader) : nil
            return Stored(committed: CommittedOffset(offset: offset, leaderEpoch: epoch, metadata: metadata, commitTimestampMs: time),
                          topicId: topicId)
        }
    }

    private static func appendString(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = Array(text.utf8.prefix(Int(UInt16.max)))
        bytes.appendBigEndian(UInt16(utf8.count))
        bytes += utf8
    }

    private static func readString(_ reader: inout ByteReader) -> String? {
        guard let length = try? reader.readInt16(), let bytes = try? reader.readBytes(Int(UInt16(bitPattern: length))) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }
}
