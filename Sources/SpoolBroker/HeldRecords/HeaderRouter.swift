import SpoolFormat
import SpoolLog

/// Acts on the two headers the broker understands, on every produce from any client:
/// `spool-deliver-at` in the future sends a record to the delay store instead of its topic, and a
/// `spool-idempotency-key` already accepted on the topic within its window drops the record.
///
/// A batch that carries neither is stored as it came (`memmem` over its bytes decides). A batch
/// that does is rewritten without the held and dropped records, keeping its producer id, sequence
/// and offset range, so an idempotent producer's next sequence still follows; the dropped offsets
/// are gaps, as after Kafka's compaction. A batch whose records' offset deltas are not 0, 1, 2, …
/// is rewritten with its records renumbered (`renumber`). A rewritten batch is stored
/// uncompressed; a compressed one the router leaves whole is stored as it came.
struct HeaderRouter: Sendable {
    let delays: DelayStore
    let dedupe: DedupeWindow
    let windowMs: @Sendable (String) -> Int64
    /// The id of the topic of this name now, nil if there is none: a produce that took the
    /// partition of a topic deleted since reserves no key (`DedupeWindow.reserve`).
    let currentTopicId: @Sendable (String) -> String?
    let clock: @Sendable () -> Int64
    /// Whether `route` may wait for the disk: for the delay log (its flush, see `DelayStore.hold`,
    /// or its file work), or for the file work of the partition or the dedupe log (see
    /// `PartitionLog.append(_:mayBlock:)`). A caller on one of Swift's cooperative threads says
    /// no. It routes a batch that holds records for later, or whose partition needs file work,
    /// again from a thread that may block (`Routed.needsDiskWait`), and confirms there the keys
    /// that the dedupe log could not take at once (`Partition.Appended.unconfirmedKeys`).
    var mayWaitForDisk = true
    /// Whether the produce is answered (acks=1 or all): a record whose key another produce has
    /// only reserved (its record not yet stored, and its append able to fail) is then not dropped
    /// as a duplicate, but the batch refused with a retriable error (`idempotencyKeyPending`). An
    /// answer that said "stored" for it would be wrong if that append then failed: acks=1 promises
    /// the record is in the log, as acks=all promises it is on disk. Under acks=0 nobody hears
    /// either answer, and the record is dropped.
    var refusesPendingKeys = false
    /// Whether the produce waits for the disk (acks=all): a record dropped as a duplicate of one
    /// stored makes the produce wait for that record's log (`Partition.Appended.originalOffsets`,
    /// `delayLogOffset`).
    var waitsForOriginals = false
    /// Whether the batch's records' offset deltas are out of order, as `Broker.readRecords` found
    /// them in an uncompressed batch (a compressed one's are looked at in `mayCarryHeaders`): the
    /// batch is routed, and stored with its records renumbered (`renumber`).
    var renumbers = false

    /// What `route` did with a batch.
    enum Routed {
        /// No record carries a header that changes anything: the caller appends the batch as it came.
        case unchanged
        case appended(Partition.Appended)
        /// `mayWaitForDisk` is false, and the batch holds records for later (the delay log's
        /// append, and under `fsync=always` its flush, come before the batch's) or its partition
        /// needs file work first. Nothing was stored or kept reserved.
        case needsDiskWait
    }

    /// The header names the router acts on, as they appear in a record's bytes.
    static let routedNames: [[UInt8]] = [Array(SpoolHeaders.deliverAt.utf8), Array(SpoolHeaders.idempotencyKey.utf8)]

    /// Whether the batch may carry a header the router acts on: its records' bytes contain
    /// `spool-deliver-at` or `spool-idempotency-key` (a value that holds the text is a false
    /// alarm, which decoding settles). A job's other headers (`spool-job-id`, …) do not make its
    /// batch decoded here. A compressed batch's records are decompressed to look and each is
    /// read, as Kafka's broker reads every record of a compressed batch it validates: one that
    /// does not decompress is refused with UNKNOWN_SERVER_ERROR (Kafka's `KafkaException`), a
    /// record that cannot be read with INVALID_RECORD. A compressed batch whose records' offset
    /// deltas are out of order is routed too, to be renumbered.
    static func mayCarryHeaders(_ batch: UnsafeRawBufferPointer, _ header: RecordBatchHeader) throws(BrokerError) -> Bool {
        guard header.attributes.compression != Compression.none else {
            return carriesRoutedName(UnsafeRawBufferPointer(rebasing: batch[RecordBatchLayout.headerSize...]))
        }
        let checked: (records: [UInt8], offsetDeltasInOrder: Bool)
        do { checked = try InflatedBatch.checkedRecords(of: batch, header: header) } catch { throw .fromRecordsRead(error) }
        return !checked.offsetDeltasInOrder || checked.records.withUnsafeBytes { carriesRoutedName($0) }
    }

    /// Whether `route` may change the batch: it is to be renumbered (`renumbers`), or it may
    /// carry Spool's headers (`mayCarryHeaders`).
    func mayChange(_ batch: UnsafeRawBufferPointer, _ header: RecordBatchHeader) throws(BrokerError) -> Bool {
        if renumbers { return true }
        return try Self.mayCarryHeaders(batch, header)
    }

    /// Gives the batch's records the offset deltas 0, 1, 2, … where they say others; whether it
    /// did. Stored as they came, a reader would give two records one offset, or go backwards.
    /// Kafka's broker renumbers a compressed batch's records so (`LogValidator`'s
    /// `expectedInnerOffset`); Spool does it for uncompressed ones too, which Kafka stores as sent.
    @discardableResult
    static func renumber(_ batch: inout RecordBatch) -> Bool {
        guard batch.records.indices.contains(where: { batch.records[$0].offsetDelta != Int32($0) }) else { return false }
        for index in batch.records.indices { batch.records[index].offsetDelta = Int32(index) }
        return true
    }

    private static func carriesRoutedName(_ records: UnsafeRawBufferPointer) -> Bool {
        routedNames.contains { ByteSearch.contains(records, $0) }
    }

    /// Routes the records of a batch already checked by `RecordBatchView.validate`, appending what
    /// stays through `append`. `topicId` is the id of the topic whose partition the caller took
    /// (`Partition.topicId`), not that of the topic now under the name: the topic may have been
    /// deleted, and another created under its name, since. A batch with idempotency keys is then
    /// refused with `unknownTopicOrPartition`, as a produce to the deleted topic is, before
    /// anything is stored (`DedupeWindow.reserve`).
    func route(_ batch: UnsafeRawBufferPointer, topic: String, topicId: String, partition: Int32,
               append: (UnsafeRawBufferPointer) throws(BrokerError) -> Partition.Appended?) throws(BrokerError) -> Routed {
        var decoded: RecordBatch
        do { decoded = try RecordBatch(inflating: batch) } catch { throw .fromRecordsRead(error) }
        let renumbered = Self.renumber(&decoded)
        let now = clock()
        var due: [Int64?] = []
        var keys: [(index: Int, key: String)] = []
        // Records an idempotent producer sends again after the delay log delivered them: a crash
        // lost the batch that recorded their sequence (`DeliveredOrigins`). Dropped, as duplicates.
        var resent: Set<Int> = []
        for (index, record) in decoded.records.enumerated() {
            var deliverAt: Int64?
            if let raw = record.header(SpoolHeaders.deliverAt) {
                guard let parsed = SpoolHeaders.parseMilliseconds(raw) else {
                    throw .invalidSpoolHeader("header \(SpoolHeaders.deliverAt) must be milliseconds since the Unix epoch in decimal digits, not '\(String(decoding: raw, as: UTF8.self))'")
                }
                deliverAt = parsed
                if decoded.producerId >= 0 {
                    let origin = DelayStore.Origin(producerId: decoded.producerId, epoch: decoded.producerEpoch,
                                                   sequence: decoded.baseSequence &+ record.offsetDelta)
                    if delays.wasDelivered(DelayStore.PlacedOrigin(topic: topic, partition: partition, topicId: topicId, origin: origin)) {
                        resent.insert(index)
                    }
                }
            }
            due.append(deliverAt.flatMap { $0 > now ? $0 : nil })
            if let key = record.header(SpoolHeaders.idempotencyKey) {
                guard !key.isEmpty else { throw .invalidSpoolHeader("header \(SpoolHeaders.idempotencyKey) is empty") }
                keys.append((index, String(decoding: key, as: UTF8.self)))
            }
        }
        let window = windowMs(topic)
        if keys.isEmpty || window <= 0 {
            keys = []
            if due.allSatisfy({ $0 == nil }) && resent.isEmpty && !renumbered { return .unchanged }
        }
        if !mayWaitForDisk && due.contains(where: { $0 != nil }) { return .needsDiskWait }
        keys.removeAll { resent.contains($0.index) }
        guard let found = dedupe.reserve(topic: topic, topicId: topicId, keys: keys.map(\.key), now: now, windowMs: window,
                                         currentTopicId: currentTopicId) else {
            throw .unknownTopicOrPartition(topic: topic, partition: partition)
        }
        let reserved = zip(keys, found).filter { $0.1 == .reserved }.map(\.0)
        if refusesPendingKeys, let pending = zip(keys, found).first(where: { $0.1 == .pending }) {
            dedupe.release(topic: topic, topicId: topicId, reservedAt: now, keys: reserved.map(\.key))
            throw .idempotencyKeyPending(topic: topic, key: pending.0.key)
        }
        let dropped = Set(zip(keys, found).filter { $0.1 != .reserved }.map(\.0.index)).union(resent)
        var kept: [Record] = []
        var held: [(record: Record, timestamp: Int64, dueMs: Int64, origin: DelayStore.Origin?)] = []
        for (index, record) in decoded.records.enumerated() where !dropped.contains(index) {
            if let dueMs = due[index] {
                let origin = decoded.producerId < 0 ? nil : DelayStore.Origin(
                    producerId: decoded.producerId, epoch: decoded.producerEpoch, sequence: decoded.baseSequence &+ record.offsetDelta)
                held.append((record, decoded.timestamp(of: record), dueMs, origin))
            } else {
                kept.append(record)
            }
        }
        // Held records first, on disk before the partition's batch is appended (`DelayStore.hold`).
        var heldOffsets: ClosedRange<Int64>?
        do throws(BrokerError) {
            if !held.isEmpty { heldOffsets = try delays.hold(held, topic: topic, topicId: topicId, partition: partition) }
            // The partition needs file work and this thread may not wait for it (the held records
            // made it wait already otherwise): nothing stays stored or reserved.
            func giveBack() -> Routed {
                if let heldOffsets { delays.cancel(heldOffsets) }
                dedupe.release(topic: topic, topicId: topicId, reservedAt: now, keys: reserved.map(\.key))
                return .needsDiskWait
            }
            var appended: Partition.Appended
            if kept.count == decoded.records.count && !renumbered {
                guard let stored = try append(batch) else { return giveBack() }
                appended = stored
            } else if kept.isEmpty && decoded.producerId < 0 {
                // Nothing to store and no producer sequence to keep: answer with where the first
                // duplicate went, or the log end for held records.
                let original = keys.first.flatMap { dedupe.entry(topic: topic, topicId: topicId, key: $0.key) }
                let offset = original.flatMap { $0.partition == partition && $0.offset >= 0 ? $0.offset : nil } ?? -1
                appended = Partition.Appended(baseOffset: offset, lastOffset: offset, duplicate: held.isEmpty)
            } else {
                var rewritten = decoded
                rewritten.records = kept
                let stored: Partition.Appended?
                do throws(BrokerError) {
                    stored = try rewritten.encoded().withBytes { raw throws(BrokerError) in try append(raw) }
                } catch {
                    if let heldOffsets { delays.cancel(heldOffsets) }
                    throw error
                }
                guard let stored else { return giveBack() }
                appended = stored
            }
            appended.delayLogOffset = heldOffsets?.upperBound
            for index in dropped {
                let original = keys.first { $0.index == index }.flatMap { dedupe.entry(topic: topic, topicId: topicId, key: $0.key) }
                appended.duplicateOffsets[index] = original.flatMap { $0.partition == partition && $0.offset >= 0 ? $0.offset : nil } ?? -1
                if waitsForOriginals, let original { awaitOriginal(original, in: &appended) }
            }
            let stored = reserved.filter { due[$0.index] == nil }
            let delayedKeys = reserved.filter { due[$0.index] != nil }
            var confirmations = stored.compactMap { entry -> (key: String, offset: Int64)? in
                guard appended.baseOffset >= 0, let record = decoded.records[safe: entry.index] else { return nil }
                return (entry.key, appended.baseOffset + Int64(record.offsetDelta))
            }
            confirmations += delayedKeys.map { ($0.key, -2) }
            if !confirmations.isEmpty {
                confirm(DedupeWindow.Confirmation(topic: topic, topicId: topicId, partition: partition, keys: confirmations, now: now),
                        into: &appended)
            }
            return .appended(appended)
        } catch {
            dedupe.release(topic: topic, topicId: topicId, reservedAt: now, keys: reserved.map(\.key))
            throw error
        }
    }

    /// Makes an acks=all produce that dropped a record as a duplicate of `original` wait for the
    /// log that holds the original too: its partition up to its offset, or, for a record held for
    /// later (-2), the delay log up to its end now (the original was held before its key was
    /// confirmed). A key only reserved (-1) is one of the same batch, stored with it.
    private func awaitOriginal(_ original: DedupeWindow.Entry, in appended: inout Partition.Appended) {
        if original.offset >= 0 {
            appended.originalOffsets[original.partition] = max(original.offset, appended.originalOffsets[original.partition] ?? original.offset)
        } else if original.offset == -2 {
            let end = delays.log.logEndOffset - 1
            if end >= 0 { appended.delayLogOffset = max(end, appended.delayLogOffset ?? end) }
        }
    }

    /// Confirms keys in the dedupe log, or, when this thread may not wait for the disk and the log
    /// cannot take them at once, leaves them reserved for the caller to confirm from a thread that
    /// may (`Partition.Appended.unconfirmedKeys`).
    private func confirm(_ confirmation: DedupeWindow.Confirmation, into appended: inout Partition.Appended) {
        switch dedupe.confirmStored(confirmation, mayBlock: mayWaitForDisk) {
        case let .logged(offset): appended.dedupeLogOffset = offset
        case .needsDiskWait: appended.unconfirmedKeys = confirmation
        case .nothingToLog, .failed: break
        }
    }
}

extension HeaderRouter {
    /// Confirms again the idempotency keys of a batch resent after the partition stored it (a
    /// duplicate by its producer sequence), where the window lacks them: a crash can keep the
    /// partition's batch and lose the keys that were to follow it, and without this a later record
    /// with one of those keys would be stored too. A record the partition holds keeps its offset
    /// there (`base`, where the partition stored the batch, plus its delta); one it does not was
    /// held for later delivery (-2). The missing keys are reserved first, so a record with one of
    /// them that arrives meanwhile is a duplicate; then confirmed (`confirm(_:into:)`), which sets
    /// the dedupe log offset to wait on in `duplicate`. Every key still known: nothing to do. A
    /// batch resent through the partition of a topic deleted since, whose keys the deletion forgot,
    /// is refused as a produce to a deleted topic (`DedupeWindow.reserve`), rather than taking
    /// over keys that a topic created again under the name accepted.
    func reconfirmKeys(_ batch: UnsafeRawBufferPointer, topic: String, topicId: String, partition: Int32, storedAt base: Int64,
                       into duplicate: inout Partition.Appended, storedOffsets: () -> Set<Int64>) throws(BrokerError) {
        let window = windowMs(topic)
        guard window > 0, var decoded = try? RecordBatch(inflating: batch) else { return }
        // Renumbered as the partition stored it.
        Self.renumber(&decoded)
        var missing: [(key: String, offsetDelta: Int32)] = []
        for record in decoded.records {
            guard let raw = record.header(SpoolHeaders.idempotencyKey), !raw.isEmpty else { continue }
            let key = String(decoding: raw, as: UTF8.self)
            guard dedupe.entry(topic: topic, topicId: topicId, key: key) == nil, !missing.contains(where: { $0.key == key }) else { continue }
            missing.append((key, record.offsetDelta))
        }
        let now = clock()
        guard let seen = dedupe.reserve(topic: topic, topicId: topicId, keys: missing.map(\.key), now: now, windowMs: window,
                                        currentTopicId: currentTopicId) else {
            throw .unknownTopicOrPartition(topic: topic, partition: partition)
        }
        missing = zip(missing, seen).filter { $0.1 == .reserved }.map(\.0)
        guard !missing.isEmpty else { return }
        let stored = storedOffsets()
        let confirmations = missing.map { entry -> (key: String, offset: Int64) in
            let offset = base + Int64(entry.offsetDelta)
            return (entry.key, stored.contains(offset) ? offset : -2)
        }
        confirm(DedupeWindow.Confirmation(topic: topic, topicId: topicId, partition: partition, keys: confirmations, now: now),
                into: &duplicate)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

extension ArraySlice where Element == UInt8 {
    /// `withUnsafeBytes` for a body that throws `BrokerError` (the standard one rethrows `any Error`).
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws(BrokerError) -> T) throws(BrokerError) -> T {
        let result: Result<T, BrokerError> = withUnsafeBytes { raw in
            do throws(BrokerError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for a body that throws `BrokerError`.
    func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws(BrokerError) -> T) throws(BrokerError) -> T {
        try self[...].withBytes(body)
    }
}
