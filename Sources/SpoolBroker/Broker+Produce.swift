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
    /// Offset of the batch's first record.
    public var baseOffset: Int64
    /// Offset of the batch's last record.
    public var lastOffset: Int64
    public var logStartOffset: Int64
    /// The batch was a retry of one already stored (or every record a duplicate by its
    /// idempotency key): nothing new was appended.
    public var duplicate: Bool
    var delayLogOffset: Int64? = nil
    var dedupeLogOffset: Int64? = nil
    /// The batch's records dropped as duplicates by their idempotency key, by index in the batch,
    /// with the offset their key was first stored at in this partition (-1 when not known there).
    /// The rest of the batch keeps its offsets (`baseOffset` + index).
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
    /// Appends the record batch in `records` (exactly one RecordBatch v2, as a Produce request
    /// carries it for a partition from v3 on) to a partition. With `acks: .all` under
    /// `fsync=always` it returns once the batch is on disk.
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

    /// A produce's batch, and what its append did once it ran.
    struct AppendProgress: Sendable {
        let partition: Partition
        /// Where the batch is in the records.
        let batch: Range<Int>
        /// What `Partition.validated` read of the batch.
        let header: RecordBatchHeader
        /// acks=1 or all: a duplicate by idempotency key of a record not yet stored is refused (`HeaderRouter.refusesPendingKeys`).
        let refusesPendingKeys: Bool
        /// acks=all: a duplicate by idempotency key waits for its original (`HeaderRouter.waitsForOriginals`).
        let waitsForOriginals: Bool
        /// The records' offset deltas are out of order: the batch is stored renumbered (`HeaderRouter.renumbers`).
        let renumbers: Bool
        /// Nil until the batch is appended.
        var appended: Partition.Appended?
        var dedupeOffset: Int64?
        /// The batch's keys, for the dedupe log once a thread may wait for it.
        var unconfirmedKeys: DedupeWindow.Confirmation?

        /// Whether the rest of the produce must run where a thread may wait for the disk.
        var mustWaitForDisk: Bool { appended == nil || unconfirmedKeys != nil }
    }

    /// Finds the partition and checks the records, storing nothing: that they are one batch, then
    /// the batch as Kafka's log checks it before it looks at the producer's state, in Kafka's
    /// order (`Partition.validated`, then the records, `readRecords`). The producer's sequence and
    /// epoch are checked when it is appended.
    private func startAppending(topic: String, partition index: Int32, records: UnsafeRawBufferPointer, acks: Acks) throws(BrokerError) -> AppendProgress {
        let partition = try partition(topic, index)
        let batch = try Self.onlyBatch(in: records)
        let bytes = UnsafeRawBufferPointer(rebasing: records[batch])
        let header = try partition.validated(bytes)
        let inOrder = try Self.readRecords(bytes, header: header, keysRequired: partition.log.config.keysRequired, topic: topic, partition: index)
        return AppendProgress(partition: partition, batch: batch, header: header, refusesPendingKeys: acks != .none, waitsForOriginals: acks == .all,
                              renumbers: !inOrder)
    }

    /// Appends the batch unless it is appended already. Without `mayWaitForDisk` it leaves a batch
    /// that must wait for the disk: one that holds records for later under `fsync=always` (they
    /// reach the delay log's disk before the batch is appended), or one whose partition needs a
    /// new segment or more disk blocks first. Such waits belong on a thread that may block, not on
    /// one of Swift's cooperative threads (`appendWaitingForDisk`).
    private func append(_ records: UnsafeRawBufferPointer, _ progress: inout AppendProgress, mayWaitForDisk: Bool) throws(BrokerError) {
        guard progress.appended == nil else { return }
        var router = headerRouter
        router.mayWaitForDisk = mayWaitForDisk
        router.refusesPendingKeys = progress.refusesPendingKeys
        router.waitsForOriginals = progress.waitsForOriginals
        router.renumbers = progress.renumbers
        let batch = UnsafeRawBufferPointer(rebasing: records[progress.batch])
        guard let appended = try progress.partition.append(batch, validated: progress.header, router: router) else { return }
        if !appended.duplicate {
            let counted = BrokerMetrics.count(batch)
            metrics.recordsIn.add(counted.records, ordering: .relaxed)
            metrics.bytesIn.add(counted.bytes, ordering: .relaxed)
        }
        progress.appended = appended
        progress.dedupeOffset = appended.dedupeLogOffset
        progress.unconfirmedKeys = appended.unconfirmedKeys
    }

    /// Confirms the keys left unconfirmed, or appends the batch, on the queue for appends that
    /// wait for the disk.
    private func appendWaitingForDisk(_ records: ArraySlice<UInt8>, _ progress: AppendProgress) async throws(BrokerError) -> AppendProgress {
        if progress.unconfirmedKeys != nil { await beforeLateKeysAreConfirmed.withLock { $0 }?() }
        return try await blockingAppends.run { [self] () throws(BrokerError) -> AppendProgress in
            var progress = progress
            if let keys = progress.unconfirmedKeys {
                switch dedupe.confirmStored(keys, mayBlock: true) {
                case let .logged(offset): progress.dedupeOffset = max(offset, progress.dedupeOffset ?? offset)
                case .needsDiskWait: preconditionFailure("an append that may block always appends")
                case .nothingToLog, .failed: break
                }
                progress.unconfirmedKeys = nil
            }
            try records.withBytes { raw throws(BrokerError) in try append(raw, &progress, mayWaitForDisk: true) }
            return progress
        }
    }

    /// With acks=all under `fsync=always`, waits for the flush that covers the batch.
    private func acknowledge(_ progress: AppendProgress, acks: Acks) async throws(BrokerError) -> ProduceResult {
        guard let appended = progress.appended else { preconditionFailure("an append that may wait for the disk always appends") }
        let partition = progress.partition
        // Every record was held for later or dropped as a duplicate: there is no offset in the
        // topic to report (-1, as Kafka does when it has none).
        let stored = appended.baseOffset >= 0
        var result = ProduceResult(baseOffset: stored ? appended.baseOffset : -1, lastOffset: stored ? appended.lastOffset : -1,
                                   logStartOffset: partition.log.logStartOffset, duplicate: appended.duplicate,
                                   delayLogOffset: appended.delayLogOffset, dedupeLogOffset: progress.dedupeOffset)
        result.originalOffsets = appended.originalOffsets
        if stored { result.duplicateOffsets = appended.duplicateOffsets }
        if acks == .all { try await waitUntilDurable(result, on: partition) }
        return result
    }

    /// Reads every record of the batch, as Kafka's `LogValidator` does after the CRC: one that
    /// cannot be read refuses the batch with INVALID_RECORD (a malformed record stored would stop
    /// every consumer of the partition at it). A compacted topic takes only records with keys:
    /// the batch is refused with INVALID_RECORD naming the keyless ones. An uncompressed batch is
    /// read here; a compressed one is decompressed and read where its Spool headers are looked
    /// for (`HeaderRouter.mayCarryHeaders`), and here too only for a compacted topic's keys. One
    /// that does not decompress is refused as Kafka's `KafkaException` ("Failed to decompress
    /// record stream") is, with UNKNOWN_SERVER_ERROR.
    ///
    /// Returns whether the records' offset deltas are 0, 1, 2, … in order, where it read them
    /// (true where it did not: the router looks at a compressed batch's).
    static func readRecords(_ batch: UnsafeRawBufferPointer, header: RecordBatchHeader, keysRequired: Bool, topic: String,
                            partition: Int32) throws(BrokerError) -> Bool {
        guard keysRequired || header.attributes.compression == Compression.none else { return true }
        let read: KeylessRecords.Read
        do { read = try KeylessRecords.read(batch, header: header) ?? KeylessRecords.Read() } catch { throw .fromRecordsRead(error) }
        if keysRequired && !read.keyless.isEmpty { throw .recordsWithoutKey(topic: topic, partition: partition, batchIndexes: read.keyless) }
        return read.offsetDeltasInOrder
    }

    /// Where the one record batch in `records` is; the log validates the batch itself. Several
    /// are refused, as Kafka refuses them from Produce v3 on (`ProduceRequest.validateRecords`):
    /// a produce is one batch, checked and appended whole, so no part of it can be stored while
    /// another part is refused (as a duplicate, out of sequence, or for a disk error).
    ///
    /// Bytes after the batch that are only the start of another (cut short by the end of the
    /// records) are left out, as Kafka's `ByteBufferLogInputStream.nextBatch` stops at them and
    /// its log keeps the whole batches before them (`UnifiedLog.trimInvalidBytes`): the range
    /// returned is the whole batch alone, and nothing of the cut one is stored. A length there
    /// that no batch has is corrupt, as Kafka finds it corrupt.
    private static func onlyBatch(in records: UnsafeRawBufferPointer) throws(BrokerError) -> Range<Int> {
        guard !records.isEmpty else { throw .invalidRecord("no record batch in the request") }
        guard let size = RecordBatchView.declaredSize(records), size >= RecordBatchLayout.headerSize, size <= records.count else {
            throw .corruptMessage("record batch at byte 0 is truncated or has a bad length")
        }
        // Kafka's log refuses a client's batch of magic 2 that does not start at offset 0
        // (`UnifiedLog.analyzeAndValidateRecords`); the broker gives the offsets.
        if Int8(bitPattern: records[RecordBatchLayout.magic]) >= RecordBatchLayout.currentMagic {
            let baseOffset = records.loadUnaligned(fromByteOffset: RecordBatchLayout.baseOffset, as: Int64.self).bigEndian
            guard baseOffset == 0 else { throw .invalidRecord("the baseOffset of the record batch should be 0, but it is \(baseOffset)") }
        }
        let rest = UnsafeRawBufferPointer(rebasing: records[size...])
        // Fewer bytes than a length needs, or a length whose batch is cut short: not a batch.
        guard let next = RecordBatchView.declaredSize(rest) else { return 0..<size }
        guard next - RecordBatchLayout.logOverhead >= RecordBatchLayout.batchLengthMin else {
            throw .corruptMessage("record batch at byte \(size) has a bad length")
        }
        if rest.count > RecordBatchLayout.magic, !(0...RecordBatchLayout.currentMagic).contains(Int8(bitPattern: rest[RecordBatchLayout.magic])) {
            throw .corruptMessage("record batch at byte \(size) has a bad magic")
        }
        guard next > rest.count else { throw .invalidRecord("a produce carries exactly one record batch per partition") }
        return 0..<size
    }

    /// A fresh producer id (epoch 0) for an idempotent producer (InitProducerId).
    public func initProducerId() throws(BrokerError) -> (producerId: Int64, epoch: Int16) {
        try ensureOpen()
        do { return (try producerIds.allocate(), 0) } catch { throw .storage(.failed(String(describing: error))) }
    }
}
