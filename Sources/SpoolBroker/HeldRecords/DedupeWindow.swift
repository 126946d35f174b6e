import Foundation
import SpoolFormat
import SpoolLog
import SpoolSystem
import Synchronization

/// The idempotency keys (`spool-idempotency-key`) accepted per topic, each with where its record
/// went and when, kept in an internal log so the window survives restarts.
///
/// A produce first reserves its keys (a key seen within the window is a duplicate), then appends
/// its records, then confirms the reservations with their offsets; a failed append releases them.
/// A reservation older than the window is taken over by the next produce of its key, and then is
/// that produce's to confirm or release (`Entry.isReservation`), or forgotten (`expire`).
///
/// Each key carries its topic's id, reserved ones too: a topic deleted and created again under its
/// name is another topic, whose offsets start again at 0. A key of the deleted topic is no
/// duplicate for the new one, a produce that took the deleted topic's partition reserves none
/// (`reserve`), the deletion forgets only the deleted topic's keys
/// (`forget(topic:id:)`), however the two interleave, and an old key reloaded by a restart is
/// dropped (`forgetLost`). A confirmation logs only the keys still reserved for its topic
/// (`confirm`): the deleted topic's come after none of the new one's in the log, where a restart
/// would read them last, and drop the key.
///
/// Keys stored before ids were carry none: they are keys of the topic of their name, which holds
/// because only a topic upgraded in place keeps them (`TopicMetadata.ownsEntriesWithoutId`): a
/// topic's creation forgets those of its name first (`forgetWithoutId`), and opening drops those
/// that the log brings back for a topic that does not own them (`forgetLost`).
final class DedupeWindow: Sendable {
    static let directoryName = "__spool_dedupe-0"
    /// The longest window a topic may set: the internal log keeps this much.
    static let windowMaxMs: Int64 = 7 * 86_400_000
    static let windowDefaultMs: Int64 = 86_400_000

    struct Entry: Sendable {
        var partition: Int32
        /// -1 while reserved and not yet stored.
        var offset: Int64
        var acceptedMs: Int64
        /// The id of the topic the key was reserved or stored for; nil for keys stored before ids
        /// were, which count as keys of the topic that has the name: a topic upgraded in place,
        /// the only one that keeps them (see the type's comment).
        var topicId: String? = nil

        /// Whether this is a key of the topic whose id is `topicId`.
        func isOf(_ topicId: String?) -> Bool { self.topicId == nil || self.topicId == topicId }

        /// Whether this is the reservation that a produce at `now` made for the topic with id
        /// `topicId`. A reservation is taken over only for another topic, or once older than the
        /// window by a produce of a later `now` (`reserve`), so its id and time tell it apart.
        func isReservation(of topicId: String, at now: Int64) -> Bool { offset == -1 && self.topicId == topicId && acceptedMs == now }
    }

    let log: PartitionLog
    private let entries: Mutex<[String: [String: Entry]]>
    /// Held by a confirmation from when it picks the keys it logs until they are in the log, so
    /// that a key reserved by another confirmation meanwhile is logged after (`confirm`). Taken
    /// before `entries`, and by appends that may block: a caller that may not waits for none.
    private let confirming = HandOffLock(())
    /// How many times a confirmation that may not block tries `confirming` before it gives up.
    private static let confirmingAttemptsMax = 64

    init(dataDirectory: String, fsync: FsyncPolicy, fileSystem: any FileSystem, clock: @escaping @Sendable () -> Int64) throws {
        var config = LogConfig.internalLog(fsync: fsync)
        config.segmentMs = 3_600_000
        config.retentionMs = Self.windowMaxMs
        log = try PartitionLog.open(directory: dataDirectory + "/" + Self.directoryName, config: config, fileSystem: fileSystem, clock: clock)
        var loaded: [String: [String: Entry]] = [:]
        let oldest = clock() - Self.windowMaxMs
        try log.replay { batch in
            for record in batch.records where batch.timestamp(of: record) >= oldest {
                guard let (topic, key) = record.key.flatMap(Self.decodeKey) else { continue }
                guard let value = record.value else {
                    loaded[topic]?[key] = nil
                    continue
                }
                // Partition and offset, then the topic's id (absent from keys stored before ids were).
                guard value.count >= 12 else { continue }
                let (partition, offset) = value.withUnsafeBytes { raw in
                    (Int32(bigEndian: raw.loadUnaligned(as: Int32.self)), Int64(bigEndian: raw.loadUnaligned(fromByteOffset: 4, as: Int64.self)))
                }
                let topicId = value.count > 12 ? String(decoding: value[12...], as: UTF8.self) : nil
                loaded[topic, default: [:]][key] = Entry(partition: partition, offset: offset, acceptedMs: batch.timestamp(of: record), topicId: topicId)
            }
        }
        entries = Mutex(loaded)
    }

    /// What `reserve` found for a key.
    enum Reservation: Equatable {
        /// Not seen within the window: reserved now for this produce.
        case reserved
        /// Accepted within the window, stored (or held for later), or earlier in the same `keys`.
        case duplicate
        /// Reserved by another produce whose record is not stored yet: its append may still
        /// fail and release the key.
        case pending
    }

    /// For each key in order: whether it was accepted on `topic`, the one with id `topicId`,
    /// within `windowMs` of `now` (or earlier in `keys`), or is reserved by another produce not yet
    /// stored; the others are reserved for that topic.
    ///
    /// Nil, with nothing reserved, when `topicId` is not the id of the topic named `topic` now
    /// (`currentTopicId`): a produce that took the partition of a topic deleted since. A key of
    /// another topic id counts for nothing here, so its reservation would take over the key that a
    /// topic created again under the name accepted, and its append, failing on the closed
    /// partition, would release it: the new topic would accept the key once more. `currentTopicId`
    /// is asked under the lock, so a topic created again under the name, which is there before any
    /// produce to it reserves a key, never has a key taken over by a reservation made after it. It
    /// may take the broker's `topics` lock, as `expire`'s `windowMs` does: that lock is never held
    /// while this one is taken.
    func reserve(topic: String, topicId: String, keys: [String], now: Int64, windowMs: Int64,
                 currentTopicId: (String) -> String?) -> [Reservation]? {
        guard !keys.isEmpty else { return [] }
        return entries.withLock { entries -> [Reservation]? in
            guard currentTopicId(topic) == topicId else { return nil }
            var byKey = entries[topic] ?? [:]
            var reservedHere: Set<String> = []
            let found = keys.map { key -> Reservation in
                if let seen = byKey[key], seen.isOf(topicId), seen.acceptedMs > now - windowMs {
                    return seen.offset == -1 && !reservedHere.contains(key) ? .pending : .duplicate
                }
                byKey[key] = Entry(partition: -1, offset: -1, acceptedMs: now, topicId: topicId)
                reservedHere.insert(key)
                return .reserved
            }
            entries[topic] = byKey
            return found
        }
    }

    /// Forgets the reservations that a produce at `now` (`reserve`'s) made for topic `topic`, the
    /// one with id `topicId`, whose records were not stored. A key whose reservation another
    /// produce took over since, once it was older than the window, is that produce's, and stays.
    func release(topic: String, topicId: String, reservedAt now: Int64, keys: [String]) {
        entries.withLock { entries in
            for key in keys {
                guard entries[topic]?[key]?.isReservation(of: topicId, at: now) == true else { continue }
                entries[topic]?[key] = nil
            }
        }
    }

    /// Keys to store with where their records went (`confirm`).
    struct Confirmation: Sendable {
        var topic: String
        /// The id of the topic the keys were reserved for: that of the partition the records went to.
        var topicId: String
        var partition: Int32
        var keys: [(key: String, offset: Int64)]
        /// When the keys were reserved (`reserve`'s `now`): it tells the reservations of this
        /// produce from those of a later one that took them over (`Entry.isReservation`).
        var now: Int64
    }

    /// What became of keys whose records the partition has stored (`confirm`, `confirmStored`).
    enum StoredConfirmation: Equatable {
        /// In the dedupe log, up to this offset.
        case logged(Int64)
        /// None of the keys is reserved for the confirmation any more: its topic was deleted
        /// (`forget(topic:id:)`), perhaps created again under the name and the key reserved for
        /// the new one, or a later produce took the reservation over once it was older than the
        /// window (`reserve`). Nothing was appended.
        case nothingToLog
        /// Not appended: the log needs the disk (or another confirmation holds it) and this
        /// thread may not wait. The reservations stay, so the keys are still duplicates until the
        /// caller confirms again from a thread that may block.
        case needsDiskWait
        /// The dedupe log failed: the keys were released and the failure reported.
        case failed
    }

    /// Stores the keys still reserved for the confirmation (its topic, its time) with where their records went,
    /// and answers the internal log offset to wait on for durability (`.logged`); with `mayBlock`
    /// false it may answer `.needsDiskWait` (`PartitionLog.append(_:mayBlock:)`). A failed append
    /// releases the keys and throws.
    ///
    /// A key that is not reserved for the topic any more is not logged: the topic was deleted,
    /// which forgot the reservation, and perhaps created again under the name, which reserved
    /// the key for itself. Logged after the new topic's record of the key, the deleted topic's
    /// would be the one a restart reads, and drops (`forgetLost`), so the new topic would accept
    /// the key once more. The keys are picked and appended under `confirming`, so the new topic's
    /// record of a key reserved meanwhile is appended after. Neither is a key whose reservation a
    /// later produce took over, once it was older than the window: logged after that produce's,
    /// with this one's older time, it would end the key's window early.
    func confirm(_ confirmation: Confirmation, mayBlock: Bool) throws(BrokerError) -> StoredConfirmation {
        let pickAndAppend = { (_: inout ()) throws(BrokerError) -> StoredConfirmation in try self.appendReserved(confirmation, mayBlock: mayBlock) }
        if mayBlock { return try confirming.withLockMayBlock(pickAndAppend) }
        return try confirming.withLockIfFree(attempts: Self.confirmingAttemptsMax, pickAndAppend) ?? .needsDiskWait
    }

    /// `confirm`'s work, under `confirming`.
    private func appendReserved(_ confirmation: Confirmation, mayBlock: Bool) throws(BrokerError) -> StoredConfirmation {
        let (topic, partition, now, topicId) = (confirmation.topic, confirmation.partition, confirmation.now, confirmation.topicId)
        let keys = entries.withLock { entries in confirmation.keys.filter { entries[topic]?[$0.key]?.isReservation(of: topicId, at: now) == true } }
        guard !keys.isEmpty else { return .nothingToLog }
        let records = keys.map { entry in
            var value: [UInt8] = []
            value.appendBigEndian(partition)
            value.appendBigEndian(entry.offset)
            value += Array(topicId.utf8)
            return ProducerRecord(key: Self.encodeKey(topic: topic, key: entry.key), value: value, timestamp: now)
        }
        let result: AppendResult
        do {
            guard let stored = try log.append(RecordBatch(producing: records).encoded(), mayBlock: mayBlock) else { return .needsDiskWait }
            result = stored
        } catch {
            release(topic: topic, topicId: topicId, reservedAt: now, keys: keys.map(\.key))
            throw BrokerError.from(error)
        }
        entries.withLock { entries in
            // A key whose reservation the topic's deletion forgot meanwhile, or that a topic
            // created again under the name (or a later produce) reserved since, is not this
            // produce's any more.
            for entry in keys where entries[topic]?[entry.key]?.isReservation(of: topicId, at: now) == true {
                entries[topic]?[entry.key] = Entry(partition: partition, offset: entry.offset, acceptedMs: now, topicId: topicId)
            }
        }
        return .logged(result.lastOffset)
    }

    /// Confirms keys whose records the partition has stored already. A dedupe log that cannot
    /// take them does not fail the produce: its records are in the partition, and a client told
    /// otherwise would send them again, to be stored twice. The keys are released and the failure
    /// is reported on standard error; within the window, a copy sent again may then be stored.
    func confirmStored(_ confirmation: Confirmation, mayBlock: Bool) -> StoredConfirmation {
        do throws(BrokerError) {
            return try confirm(confirmation, mayBlock: mayBlock)
        } catch {
            FileHandle.standardError.write(Data(("spool: the dedupe log could not record \(confirmation.keys.count) idempotency key(s) of "
                + "\(confirmation.topic)[\(confirmation.partition)], whose records are stored: \(error)\n").utf8))
            return .failed
        }
    }

    /// Where the record first accepted with `key` on `topic`, the one with id `topicId`, went, if
    /// it is still in memory.
    func entry(topic: String, topicId: String, key: String) -> Entry? {
        entries.withLock { entries in entries[topic]?[key].flatMap { $0.isOf(topicId) ? $0 : nil } }
    }

    /// Drops keys older than each topic's window (memory only; the log ages out on its own),
    /// reserved ones too. A reservation older than the window is one the next produce of its key
    /// takes over (`reserve`): should its record still be stored, it is no duplicate of a later
    /// one, and its produce's confirmation or release finds nothing of its own and does nothing
    /// (`Entry.isReservation`), as after a takeover. Each produce confirms or releases what it
    /// reserves; one that did not would otherwise leave its key in memory until a restart.
    func expire(now: Int64, windowMs: (String) -> Int64) {
        entries.withLock { entries in
            for topic in Array(entries.keys) {
                let cutoff = now - windowMs(topic)
                entries[topic] = entries[topic]?.filter { $0.value.acceptedMs > cutoff }
                if entries[topic]?.isEmpty == true { entries[topic] = nil }
            }
        }
    }

    /// Forgets, durably, the keys whose records are gone, before the broker serves: those of
    /// topics that no longer exist (`topic` or `logEnd` nil), those that are not the key of the
    /// topic that has the name now (`TopicMetadata.owns(entryOf:)`: stored for a topic deleted
    /// since and created again under its name, or stored without an id, which the deletion
    /// forgot from memory only, for a topic created since), and those naming an offset at or past
    /// their partition's end (`logEnd`), which a crash kept while losing the record. Without this
    /// a client's resend of that record would be dropped as a duplicate of nothing.
    /// Keys of held records (offset -2) stay: their records are in the delay log, on disk before
    /// the key. Blocks until the removals are on disk: for opening only.
    func forgetLost(topic current: (String) -> TopicMetadata?, logEnd: (String, Int32) -> Int64?) throws {
        let lost = entries.withLock { entries in
            entries.flatMap { topic, keys in
                keys.compactMap { key, entry -> (String, String)? in
                    guard current(topic)?.owns(entryOf: entry.topicId) == true, let end = logEnd(topic, entry.partition) else {
                        return (topic, key)
                    }
                    return entry.offset >= 0 && entry.offset >= end ? (topic, key) : nil
                }
            }
        }
        guard !lost.isEmpty else { return }
        let removals = lost.map { ProducerRecord(key: Self.encodeKey(topic: $0.0, key: $0.1), value: nil, timestamp: currentTimeMs()) }
        let result = try log.append(RecordBatch(producing: removals).encoded())
        if log.fsync == .always { try log.waitUntilDurableBlocking(result.lastOffset) }
        entries.withLock { entries in
            for (topic, key) in lost { entries[topic]?[key] = nil }
        }
    }

    /// Forgets the keys of a deleted topic, the one with id `topicId` (and those stored before ids
    /// were: its or an earlier topic's of the name). Keys of a topic created again under the name
    /// since stay. Memory only: the log keeps the keys until they age out, and opening drops them
    /// (`forgetLost`).
    func forget(topic: String, id topicId: String) {
        forget(topic: topic) { $0.isOf(topicId) }
    }

    /// Forgets the keys of `topic` stored before ids were: for a topic about to be created under
    /// the name, whose keys they are not (`TopicMetadata.ownsEntriesWithoutId`). Memory only, as
    /// `forget(topic:id:)`. No key without an id is added after it: every key reserved now carries
    /// its topic's id.
    func forgetWithoutId(topic: String) {
        forget(topic: topic) { $0.topicId == nil }
    }

    private func forget(topic: String, where doomed: (Entry) -> Bool) {
        entries.withLock { entries in
            entries[topic] = entries[topic]?.filter { !doomed($0.value) }
            if entries[topic]?.isEmpty == true { entries[topic] = nil }
        }
    }

    private static func encodeKey(topic: String, key: String) -> [UInt8] { Array(topic.utf8) + [0] + Array(key.utf8) }

    private static func decodeKey(_ bytes: [UInt8]) -> (String, String)? {
        guard let split = bytes.firstIndex(of: 0) else { return nil }
        return (String(decoding: bytes[..<split], as: UTF8.self), String(decoding: bytes[(split + 1)...], as: UTF8.self))
    }

    func close() throws { try log.close() }
}
