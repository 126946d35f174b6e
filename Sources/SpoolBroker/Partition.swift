import Dispatch
import Foundation
import SpoolFormat
import SpoolLog
import SpoolSystem
import Synchronization

/// One partition as the broker sees it: its log and its idempotent-producer state.
///
/// Thread-safe. Batches from idempotent producers are checked, appended and recorded under one
/// lock so two retries of the same batch can never both be appended; other batches go straight to
/// the log.
///
/// The producer state is saved to `producer-state.json` at a clean close and after every
/// `snapshotIntervalBytes` appended, so that opening the partition after a crash replays only the
/// batch headers after the last snapshot rather than the whole log.
final class Partition: Sendable {
    let topic: String
    /// The id of the topic this partition was opened for. Records held through the partition
    /// carry it, so that they go nowhere once the topic is deleted, even when a produce that took
    /// the partition before the deletion holds them after a topic of the same name was created.
    let topicId: String
    let index: Int32
    let log: PartitionLog
    /// Held, on a thread that may wait for the disk, by an append that may wait for it (a batch
    /// holding records for later, or one whose log needs file work: see `append`).
    private let producers: HandOffLock<ProducerStateTable>
    private let clock: @Sendable () -> Int64
    private let fileSystem: any FileSystem
    private let snapshotIntervalBytes: Int
    /// Bytes appended since the last snapshot was started.
    private let bytesSinceSnapshot = Atomic<Int>(0)
    /// A snapshot is waiting for its offset to be durable or being written: at most one at a time.
    private let snapshotInFlight = Atomic<Bool>(false)
    let isClosed = Atomic<Bool>(false)
    /// Writes snapshots off the produce path and away from the log's flush queue.
    private let snapshotQueue = DispatchQueue(label: "spool.producer-state")

    static let snapshotFileName = "producer-state.json"
    /// How often a caller that may not wait for the disk tries the producers lock before it takes
    /// its batch where it may block.
    static let lockAttemptsMax = 64
    /// Producers idle this long are forgotten when the state is saved (Kafka's producer.id.expiration.ms default).
    static let producerExpiryMs: Int64 = 86_400_000

    private struct Snapshot: Codable {
        var offset: Int64
        var table: ProducerStateTable
    }

    private init(topic: String, topicId: String, index: Int32, log: PartitionLog, producers: ProducerStateTable, snapshotIntervalBytes: Int,
                 fileSystem: any FileSystem, clock: @escaping @Sendable () -> Int64) {
        self.topic = topic
        self.topicId = topicId
        self.index = index
        self.log = log
        self.producers = HandOffLock(producers)
        self.snapshotIntervalBytes = snapshotIntervalBytes
        self.fileSystem = fileSystem
        self.clock = clock
    }

    /// Opens the partition's log (recovering it) and rebuilds producer state: from the last
    /// snapshot, then from the headers of every batch after it.
    static func open(directory: String, topic: String, topicId: String, index: Int32, config: LogConfig, snapshotIntervalBytes: Int = 64 << 20,
                     fileSystem: any FileSystem, clock: @escaping @Sendable () -> Int64) throws -> Partition {
        let log = try PartitionLog.open(directory: directory, config: config, fileSystem: fileSystem, clock: clock)
        var table = ProducerStateTable()
        var from = log.logStartOffset
        let snapshotPath = directory + "/" + snapshotFileName
        if let bytes = try? fileSystem.readFile(snapshotPath, limit: 64 << 20),
           let snapshot = try? JSONDecoder().decode(Snapshot.self, from: Data(bytes)),
           snapshot.offset <= log.logEndOffset, snapshot.offset >= log.logStartOffset {
            table = snapshot.table
            from = snapshot.offset
        }
        // A snapshot stays valid while the log still holds every offset below its own: it is written
        // only once they are all on disk, and recovery never cuts durable batches. Batches after it
        // are replayed from their headers.
        var next = from
        while next < log.highWatermark {
            let slice = try log.read(from: next, maxBytes: 4 << 20).slice
            guard !slice.isEmpty else { break }
            try slice.forEachBatch { bytes in
                let header = try RecordBatchHeader(parsing: bytes)
                if header.producerId >= 0, header.lastOffset >= next { table.record(header, appendMs: header.maxTimestamp) }
                next = header.nextOffset
            }
        }
        return Partition(topic: topic, topicId: topicId, index: index, log: log, producers: table, snapshotIntervalBytes: snapshotIntervalBytes,
                         fileSystem: fileSystem, clock: clock)
    }

    /// What an append did.
    struct Appended {
        var baseOffset: Int64
        var lastOffset: Int64
        /// The batch had been appended before (a producer retry): nothing new was stored.
        var duplicate: Bool
        /// Where records held for later delivery went in the delay log, if any.
        var delayLogOffset: Int64? = nil
        /// Where accepted idempotency keys went in the dedupe log, if any.
        var dedupeLogOffset: Int64? = nil
        /// Accepted idempotency keys, still reserved, that the dedupe log could not take on a
        /// thread that may not wait for the disk: the caller confirms them from one that may.
        var unconfirmedKeys: DedupeWindow.Confirmation? = nil
        /// Records dropped as duplicates by their idempotency key, by index in the batch, with
        /// the offset their key was first stored at in this partition (-1 when not known there).
        var duplicateOffsets: [Int: Int64] = [:]
        /// For an acks=all produce, the records its dropped duplicates are copies of, stored
        /// already: the highest offset per partition of the topic, for the produce to wait for.
        var originalOffsets: [Int32: Int64] = [:]
    }

    /// Appends one batch with no router (records with Spool's headers are stored as they are).
    func append(_ batch: UnsafeRawBufferPointer) throws(BrokerError) -> Appended {
        guard let appended = try append(batch, router: nil) else { preconditionFailure("only a router holds records") }
        return appended
    }

    /// Appends one batch from a producer once `validated` passes it. Nothing is stored when it
    /// throws, or when it returns nil: see `append(_:validated:router:)`.
    func append(_ batch: UnsafeRawBufferPointer, router: HeaderRouter?) throws(BrokerError) -> Appended? {
        try append(batch, validated: validated(batch), router: router)
    }

    /// Appends one batch from a producer that passed `validated` (`header` is what it returned):
    /// idempotence, Spool's headers (through `router`), then the log. Nothing is stored when it
    /// throws, or when it returns nil: the router may not wait for the disk
    /// (`HeaderRouter.mayWaitForDisk`) and the batch holds records for later or the log needs
    /// file work first.
    func append(_ batch: UnsafeRawBufferPointer, validated header: RecordBatchHeader, router: HeaderRouter?) throws(BrokerError) -> Appended? {
        guard header.producerId >= 0 else {
            guard let appended = try appendRouted(batch, header: header, router: router) else { return nil }
            noteAppended(bytes: batch.count)
            return appended
        }
        let appended: Appended?
        if router?.mayWaitForDisk ?? true {
            appended = try producers.withLockMayBlock { table throws(BrokerError) in try appendIdempotent(batch, header, router, &table) }
        } else {
            // A caller that may not wait for the disk never waits for this lock behind an append
            // that does: it takes the lock only when it is free, and goes where it may block
            // (nil) once such an append is under way. Any other holder is brief.
            let outcome = try producers.withLockIfFree(attempts: Self.lockAttemptsMax) { table throws(BrokerError) in
                try appendIdempotent(batch, header, router, &table)
            }
            guard let outcome else { return nil }
            appended = outcome
        }
        // Outside the producers lock: a snapshot takes it.
        if let appended, !appended.duplicate { noteAppended(bytes: batch.count) }
        return appended
    }

    /// The batch's header, once the batch passes the checks Kafka's log makes before it looks at
    /// the producer's state, in Kafka's order: its size (MESSAGE_TOO_LARGE), its CRC
    /// (CORRUPT_MESSAGE) and its compression codec (`UnifiedLog.analyzeAndValidateRecords`),
    /// then the producer rules (INVALID_RECORD: `LogValidator.validateBatch`). A batch with a
    /// second fault in its sequence or epoch gets the error of the first.
    func validated(_ batch: UnsafeRawBufferPointer) throws(BrokerError) -> RecordBatchHeader {
        guard batch.count <= log.batchBytesLimit else {
            throw .messageTooLarge(bytes: batch.count, limit: log.batchBytesLimit)
        }
        do throws(FormatError) {
            return try RecordBatchView.validateFromProducer(batch)
        } catch {
            throw BrokerError.from(.invalidBatch(error))
        }
    }

    /// An idempotent producer's batch, under the producers lock: a retry of a stored batch is
    /// answered with where it went; a new one is appended and recorded. Nil: see `append`.
    private func appendIdempotent(_ batch: UnsafeRawBufferPointer, _ header: RecordBatchHeader, _ router: HeaderRouter?,
                                  _ table: inout ProducerStateTable) throws(BrokerError) -> Appended? {
        if case let .duplicate(base, last) = try table.check(header) {
            var duplicate = Appended(baseOffset: base, lastOffset: last, duplicate: true)
            if let router, try router.mayChange(batch, header) {
                try router.reconfirmKeys(batch, topic: topic, topicId: topicId, partition: index, storedAt: base, into: &duplicate) { [log] in
                    Self.offsetsStored(in: log, from: base, through: last)
                }
            }
            return duplicate
        }
        guard let appended = try appendRouted(batch, header: header, router: router) else { return nil }
        var stored = header
        stored.baseOffset = appended.baseOffset
        table.record(stored, appendMs: clock())
        return appended
    }

    /// The offsets in [first, last] that hold a record: a batch rewritten by the header router
    /// keeps its offset range with gaps where records were held or dropped.
    private static func offsetsStored(in log: PartitionLog, from first: Int64, through last: Int64) -> Set<Int64> {
        var stored: Set<Int64> = []
        guard let slice = try? log.read(from: first, maxBytes: 1, minOneBatch: true).slice else { return stored }
        try? slice.forEachBatch { bytes in
            let batch = try RecordBatch(inflating: bytes)
            for record in batch.records {
                let offset = batch.offset(of: record)
                if offset >= first && offset <= last { stored.insert(offset) }
            }
        }
        return stored
    }

    /// Counts appended bytes and starts a snapshot every `snapshotIntervalBytes`.
    private func noteAppended(bytes: Int) {
        let total = bytesSinceSnapshot.add(bytes, ordering: .relaxed).newValue
        guard total >= snapshotIntervalBytes,
              snapshotInFlight.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        // Idempotent batches are appended and recorded under the producers lock, so the table
        // holds every one below the log end read under it, and none above. Taken only when free:
        // an append may hold it while it waits for the disk, and this runs on the caller's thread.
        // When it is not, a later append tries again.
        guard let snapshot = producers.withLockIfFree({ Snapshot(offset: log.logEndOffset, table: $0) }) else {
            snapshotInFlight.store(false, ordering: .releasing)
            return
        }
        bytesSinceSnapshot.store(0, ordering: .relaxed)
        // Saved once everything below its offset is on disk, so that recovery, which keeps every
        // durable batch, never leaves the log shorter than the snapshot.
        log.whenDurable(snapshot.offset - 1) { [self] result in
            snapshotQueue.async { [self] in
                defer { snapshotInFlight.store(false, ordering: .releasing) }
                guard case .success = result, !isClosed.load(ordering: .acquiring) else { return }
                save(snapshot)
            }
        }
    }

    /// Replaces the snapshot file. A failure (a full disk) is harmless: the next open replays
    /// more of the log.
    private func save(_ snapshot: Snapshot) {
        if let bytes = try? JSONEncoder().encode(snapshot) {
            try? fileSystem.writeAtomically(log.directory + "/" + Self.snapshotFileName, Array(bytes))
        }
    }

    /// Appends the validated batch, first handing it to the router when it may carry Spool's
    /// headers (the router trusts its records: their CRC was checked). Nil: see `append`.
    private func appendRouted(_ batch: UnsafeRawBufferPointer, header: RecordBatchHeader, router: HeaderRouter?) throws(BrokerError) -> Appended? {
        let mayBlock = router?.mayWaitForDisk ?? true
        guard let router, try router.mayChange(batch, header) else {
            return try appendToLog(batch, validated: header, mayBlock: mayBlock)
        }
        // A batch the router rewrote is validated again by the log: it has a new CRC.
        switch try router.route(batch, topic: topic, topicId: topicId, partition: index, append: { bytes throws(BrokerError) in try appendToLog(bytes, mayBlock: mayBlock) }) {
        case .unchanged: return try appendToLog(batch, validated: header, mayBlock: mayBlock)
        case let .appended(appended): return appended
        case .needsDiskWait: return nil
        }
    }

    /// Nil: the log needs file work first and `mayBlock` is false (`PartitionLog.append(_:mayBlock:)`).
    /// With `header`, the batch was validated already and its CRC is not computed again.
    private func appendToLog(_ batch: UnsafeRawBufferPointer, validated header: RecordBatchHeader? = nil, mayBlock: Bool) throws(BrokerError) -> Appended? {
        do {
            let appended = if let header { try log.append(batch, validated: header, mayBlock: mayBlock) } else { try log.append(batch, mayBlock: mayBlock) }
            guard let result = appended else { return nil }
            return Appended(baseOffset: result.baseOffset, lastOffset: result.lastOffset, duplicate: false)
        } catch {
            throw BrokerError.from(error)
        }
    }

    /// Saves producer state for a fast restart, then closes the log.
    /// The idempotent producers this partition holds state for: id, epoch, last sequence and the
    /// time of their last append.
    func activeProducers() -> [ActiveProducer] {
        producers.withLock { table in
            table.entries.map { id, entry in
                ActiveProducer(producerId: id, epoch: entry.epoch, lastSequence: entry.batches.last?.lastSequence ?? -1,
                               lastAppendMs: entry.lastAppendMs)
            }.sorted { $0.producerId < $1.producerId }
        }
    }

    /// Closes the log of a partition being deleted, with no snapshot: one still queued sees the
    /// flag and is dropped, and none is written after. (A snapshot written by path after the
    /// deletion could land in a topic created again under the same name, which would then take the
    /// deleted partition's producers for its own.)
    func discard() throws {
        isClosed.store(true, ordering: .releasing)
        snapshotQueue.sync {}
        try log.close()
    }

    func close() throws {
        // A periodic snapshot still queued sees the flag and gives way to this one.
        isClosed.store(true, ordering: .releasing)
        snapshotQueue.sync {}
        let snapshot = producers.withLock { table in
            table.expire(olderThan: clock() - Self.producerExpiryMs)
            return Snapshot(offset: log.logEndOffset, table: table)
        }
        try log.close()
        save(snapshot)
    }
}
