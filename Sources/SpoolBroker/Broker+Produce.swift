import SpoolFormat
import SpoolLog

/// Kafka's `acks`: when a produce is answered.
public enum Acks: Int16, Sendable {
    /// No answer at all (the wire server sends none).
    case none = 0
    /// Answered once appended.
    case leader = 1
    /// Answered once durable under `fsync=always` (Spool has one replica: "all" is the disk).
    case all = -1
}

/// What a produce stored.
public struct ProduceResult: Equatable, Sendable {
    /// Offset of the first record of the first batch.
    public var baseOffset: Int64
    /// Offset of the last record of the last batch.
    public var lastOffset: Int64
    public var logStartOffset: Int64
    /// Every batch was a retry of one already stored (or every record a duplicate by its
    /// idempotency key): nothing new was appended.
    public var duplicate: Bool
    var delayLogOffset: Int64? = nil
    var dedupeLogOffset: Int64? = nil
    /// For a produce of one batch: its records dropped as duplicates by their idempotency key, by
    /// index in the batch, with the offset their key was first stored at in this partition (-1
    /// when not known there). The rest of the batch keeps its offsets (`baseOffset` + index).
    public var duplicateOffsets: [Int: Int64] = [:]
    /// For acks=all: the offsets, per partition of the topic, of the stored records that records
    /// dropped as duplicates by their idempotency key copy (`waitUntilDurable` waits for them too).
    var originalOffsets: [Int32: Int64] = [:]

    public init(baseOffset: Int64, lastOffset: Int64, logStartOffset: Int64, duplicate: Bool) {
        self.baseOffset = baseOffset
        self.lastOffset = lastOffset
        self.logStartOffset = logStartOffset
        self.duplicate = duplicate
    }

    init(baseOffset: Int64, lastOffset: Int64, logStartOffset: Int64, duplicate: Bool, delayLogOffset: Int64?, dedupeLogOffset: Int64?) {
        self.init(baseOffset: baseOffset, lastOffset: lastOffset, logStartOffset: logStartOffset, duplicate: duplicate)
        self.delayLogOffset = delayLogOffset
        self.dedupeLogOffset = dedupeLogOffset
    }
}

extension Broker {
    /// Batches a single produce request may carry for one partition.
    static let batchesPerProduceMax = 1024

    /// Appends the record batches in `records` (one or more RecordBatch v2, back to back, as a
    /// Produce request carries them) to a partition. Every batch is checked before any is stored.
    /// With `acks: .all` under `fsync=always` it returns once the batches are on disk.
    public func produce(topic: String, partition index: Int32, records: UnsafeRawBufferPointer, acks: Acks) async throws(BrokerError) -> ProduceResult {
        var progress = try startAppending(topic: topic, partition: index, records: records, acks: acks)
        try append(records, &progress, mayWaitForDisk: false)
        if progress.mustWaitForDisk {
            // Only the bytes outlive this call's start, not the caller's pointer.
            progress = try await appendWaitingForDisk(Array(records)[...], progress)
        }
        return try await acknowledge(progress, acks: acks)
    }

    /// Produces from an array (appended straight from its storage: no copy).
    public func produce(topic: String, partition index: Int32, records: [UInt8], acks: Acks) async throws(BrokerError) -> ProduceResult {
        try await produce(topic: topic, partition: index, records: records[...], acks: acks)
    }

    /// Produces from part of an array, such as the records of a request frame (appended straight
    /// from its storage: no copy).
    /// `willWaitUntilDurable`: a produce with `acks: .leader` whose caller waits for its flush
    /// afterwards (`waitUntilDurable`), an acks=all produce in two halves; its records that are
    /// duplicates by idempotency key are treated as under acks=all (`HeaderRouter.waitsForOriginals`).
    public func produce(topic: String, partition index: Int32, records: ArraySlice<UInt8>, acks: Acks,
                        willWaitUntilDurable: Bool = false) async throws(BrokerError) -> ProduceResult {
        var progress = try records.withBytes { raw throws(BrokerError) in
            var progress = try startAppending(topic: topic, partition: index, records: raw, acks: willWaitUntilDurable ? .all : acks)
            try append(raw, &progress, mayWaitForDisk: false)
            return progress
        }
        if progress.mustWaitForDisk { progress = try await appendWaitingForDisk(records, progress) }
        return try await acknowledge(progress, acks: acks)
    }

    /// A produce's batches, and what those appended so far stored.
    struct AppendProgress: Sendable {
        let partition: Partition
        let batches: [Range<Int>]
        /// Several batches, one or more from an idempotent producer: appended in one piece
        /// (`Partition.appendTogether`), where the disk may be waited for.
        let appendsTogether: Bool
        /// acks=all: a duplicate by idempotency key waits for its original (`HeaderRouter.waitsForOriginals`).
        let waitsForOriginals: Bool
        /// The first batch not yet appended.
        var next = 0
        var first: Partition.Appended?
        var last: Partition.Appended?
        var allDuplicates = true
        var heldOffset: Int64?
        var dedupeOffset: Int64?
        var originalOffsets: [Int32: Int64] = [:]
        /// Keys of batches appended already, for the dedupe log once a thread may wait for it.
        var unconfirmedKeys: [DedupeWindow.Confirmation] = []

        /// Whether the rest of the produce must run where a thread may wait for the disk.
        var mustWaitForDisk: Bool { next < batches.count || !unconfirmedKeys.isEmpty }
    }

    /// Finds the partition and checks every batch, storing nothing.
    private func startAppending(topic: String, partition index: Int32, records: UnsafeRawBufferPointer, acks: Acks) throws(BrokerError) -> AppendProgress {
        let partition = try partition(topic, index)
        let batches = try splitBatches(records, maxBatchBytes: partition.log.batchBytesLimit)
        if partition.log.config.keysRequired {
            for range in batches { try Self.requireKeys(UnsafeRawBufferPointer(rebasing: records[range]), topic: topic, partition: index) }
        }
        guard !batches.isEmpty else { throw .invalidRecord("no record batch in the request") }
        // A batch out of sequence must store none of the others (Kafka checks them all first), so
        // such a produce is not appended a batch at a time. Neither Kafka's Java client nor
        // librdkafka sends one: they send one batch a partition.
        let together = batches.count > 1 && batches.contains { range in
            ((try? RecordBatchHeader(parsing: UnsafeRawBufferPointer(rebasing: records[range])))?.producerId ?? -1) >= 0
        }
        return AppendProgress(partition: partition, batches: batches, appendsTogether: together, waitsForOriginals: acks == .all)
    }

    /// Appends batches from `progress.next` on. Without `mayWaitForDisk` it stops at a batch that
    /// must wait for the disk: one that holds records for later under `fsync=always` (they reach
    /// the delay log's disk before the batch is appended), or one whose partition needs a new
    /// segment or more disk blocks first. Such waits belong on a thread that may block, not on one
    /// of Swift's cooperative threads (`appendWaitingForDisk`).
    private func append(_ records: UnsafeRawBufferPointer, _ progress: inout AppendProgress, mayWaitForDisk: Bool) throws(BrokerError) {
        var router = headerRouter
        router.mayWaitForDisk = mayWaitForDisk
        router.waitsForOriginals = progress.waitsForOriginals
        if progress.appendsTogether {
            // All of them where the disk may be waited for, or none yet.
            guard mayWaitForDisk, progress.next == 0 else { return }
            let batches = progress.batches.map { UnsafeRawBufferPointer(rebasing: records[$0]) }
            for (batch, appended) in zip(batches, try progress.partition.appendTogether(batches, router: router)) {
                note(appended, of: batch, in: &progress)
            }
            return
        }
        while progress.next < progress.batches.count {
            let batch = UnsafeRawBufferPointer(rebasing: records[progress.batches[progress.next]])
            guard let appended = try progress.partition.append(batch, router: router) else { return }
            note(appended, of: batch, in: &progress)
        }
    }

    /// Counts an appended batch and adds what it stored to `progress`.
    private func note(_ appended: Partition.Appended, of batch: UnsafeRawBufferPointer, in progress: inout AppendProgress) {
        if !appended.duplicate {
            let counted = BrokerMetrics.count(batch)
            metrics.recordsIn.add(counted.records, ordering: .relaxed)
            metrics.bytesIn.add(counted.bytes, ordering: .relaxed)
        }
        if appended.baseOffset >= 0 {
            progress.first = progress.first ?? appended
            progress.last = appended
        }
        if let held = appended.delayLogOffset { progress.heldOffset = max(held, progress.heldOffset ?? held) }
        progress.originalOffsets.merge(appended.originalOffsets, uniquingKeysWith: max)
        progress.dedupeOffset = appended.dedupeLogOffset ?? progress.dedupeOffset
        if let keys = appended.unconfirmedKeys { progress.unconfirmedKeys.append(keys) }
        progress.allDuplicates = progress.allDuplicates && appended.duplicate
        progress.next += 1
    }

    /// Confirms the keys left unconfirmed, then appends the rest of the batches, on the queue for
    /// appends that wait for the disk.
    private func appendWaitingForDisk(_ records: ArraySlice<UInt8>, _ progress: AppendProgress) async throws(BrokerError) -> AppendProgress {
        if !progress.unconfirmedKeys.isEmpty { await beforeLateKeysAreConfirmed.withLock { $0 }?() }
        return try await blockingAppends.run { [self] () throws(BrokerError) -> AppendProgress in
            var progress = progress
            for keys in progress.unconfirmedKeys {
                switch dedupe.confirmStored(keys, mayBlock: true) {
                case let .logged(offset): progress.dedupeOffset = max(offset, progress.dedupeOffset ?? offset)
                case .needsDiskWait: preconditionFailure("an append that may block always appends")
                case .nothingToLog, .failed: break
                }
            }
            progress.unconfirmedKeys = []
            try records.withBytes { raw throws(BrokerError) in try append(raw, &progress, mayWaitForDisk: true) }
            return progress
        }
    }

    /// With acks=all under `fsync=always`, waits for the flush that covers the last batch.
    private func acknowledge(_ progress: AppendProgress, acks: Acks) async throws(BrokerError) -> ProduceResult {
        let partition = progress.partition
        // Every record was held for later or dropped as a duplicate: there is no offset in the
        // topic to report (-1, as Kafka does when it has none).
        var result = ProduceResult(baseOffset: progress.first?.baseOffset ?? -1, lastOffset: progress.last?.lastOffset ?? -1,
                                   logStartOffset: partition.log.logStartOffset, duplicate: progress.allDuplicates,
                                   delayLogOffset: progress.heldOffset, dedupeLogOffset: progress.dedupeOffset)
        result.originalOffsets = progress.originalOffsets
        if progress.batches.count == 1 { result.duplicateOffsets = progress.first?.duplicateOffsets ?? [:] }
        if acks == .all { try await waitUntilDurable(result, on: partition) }
        return result
    }

    /// A compacted topic takes only records with keys (Kafka's LogValidator): the batch is refused
    /// with INVALID_RECORD naming the keyless records. A compressed batch is not decompressed here,
    /// so its keys are not checked (as for Spool's other per-record features).
    static func requireKeys(_ batch: UnsafeRawBufferPointer, topic: String, partition: Int32) throws(BrokerError) {
        guard let decoded = try? RecordBatch(decoding: batch), !decoded.attributes.isControl else { return }
        let keyless = decoded.records.indices.filter { decoded.records[$0].key == nil }.map { Int32($0) }
        if !keyless.isEmpty { throw .recordsWithoutKey(topic: topic, partition: partition, batchIndexes: keyless) }
    }

    /// The byte ranges of the batches in `records`. With more than one, each is fully validated
    /// (CRC included) first, so a bad batch late in the request stores nothing; a single batch is
    /// validated once, by the log.
    private func splitBatches(_ records: UnsafeRawBufferPointer, maxBatchBytes: Int) throws(BrokerError) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var position = 0
        while position < records.count {
            guard let size = RecordBatchView.declaredSize(UnsafeRawBufferPointer(rebasing: records[position...])),
                  size >= RecordBatchLayout.headerSize, size <= records.count - position else {
                throw .corruptMessage("record batch at byte \(position) is truncated or has a bad length")
            }
            ranges.append(position..<(position + size))
            guard ranges.count <= Self.batchesPerProduceMax else {
                throw .invalidRecord("more than \(Self.batchesPerProduceMax) batches for one partition")
            }
            position += size
        }
        if ranges.count > 1 {
            for range in ranges {
                if range.count > maxBatchBytes { throw .messageTooLarge(bytes: range.count, limit: maxBatchBytes) }
                do { _ = try RecordBatchView.validateFromProducer(UnsafeRawBufferPointer(rebasing: records[range])) } catch {
                    throw BrokerError.from(.invalidBatch(error))
                }
            }
        }
        return ranges
    }

    /// A fresh producer id (epoch 0) for an idempotent producer (InitProducerId).
    public func initProducerId() throws(BrokerError) -> (producerId: Int64, epoch: Int16) {
        try ensureOpen()
        do { return (try producerIds.allocate(), 0) } catch { throw .storage(.failed(String(describing: error))) }
    }
}
