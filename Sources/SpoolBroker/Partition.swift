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
final class Partition: Sendable {
    let topic: String
    let index: Int32
    let log: PartitionLog
    private let producers: Mutex<ProducerStateTable>
    private let clock: @Sendable () -> Int64

    static let snapshotFileName = "producer-state.json"
    /// Producers idle this long are forgotten when the state is saved (Kafka's producer.id.expiration.ms default).
    static let producerExpiryMs: Int64 = 86_400_000

    private struct Snapshot: Codable {
        var offset: Int64
        var table: ProducerStateTable
    }

    private init(topic: String, index: Int32, log: PartitionLog, producers: ProducerStateTable, clock: @escaping @Sendable () -> Int64) {
        self.topic = topic
        self.index = index
        self.log = log
        self.producers = Mutex(producers)
        self.clock = clock
    }

    /// Opens the partition's log (recovering it) and rebuilds producer state: from the snapshot
    /// saved at the last clean close, then from the headers of every batch after it.
    static func open(directory: String, topic: String, index: Int32, config: LogConfig, fileSystem: any FileSystem,
                     clock: @escaping @Sendable () -> Int64) throws -> Partition {
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
        // The snapshot describes the log as it was at a clean close; once read it is stale.
        try? fileSystem.remove(snapshotPath)
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
        return Partition(topic: topic, index: index, log: log, producers: table, clock: clock)
    }

    /// What an append did.
    struct Appended: Equatable {
        var baseOffset: Int64
        var lastOffset: Int64
        /// The batch had been appended before (a producer retry): nothing new was stored.
        var duplicate: Bool
        /// Where records held for later delivery went in the delay log, if any.
        var delayLogOffset: Int64? = nil
        /// Where accepted idempotency keys went in the dedupe log, if any.
        var dedupeLogOffset: Int64? = nil
    }

    /// Appends one batch from a producer: producer rules, idempotence, Spool's headers (through
    /// `router`), then the log (which checks size, structure and CRC). Nothing is stored when it
    /// throws.
    func append(_ batch: UnsafeRawBufferPointer, router: HeaderRouter? = nil) throws(BrokerError) -> Appended {
        guard batch.count <= log.config.batchBytesLimit else {
            throw .messageTooLarge(bytes: batch.count, limit: log.config.batchBytesLimit)
        }
        let header: RecordBatchHeader
        do throws(FormatError) {
            header = try RecordBatchHeader(parsing: batch)
            guard header.totalSize == batch.count else {
                throw FormatError.lengthMismatch(declared: header.totalSize, available: batch.count)
            }
            try RecordBatchView.checkProducerRules(header)
        } catch {
            throw BrokerError.from(.invalidBatch(error))
        }
        guard header.producerId >= 0 else { return try appendRouted(batch, header: header, router: router) }
        return try producers.withLock { table throws(BrokerError) -> Appended in
            if case let .duplicate(base, last) = try table.check(header) {
                return Appended(baseOffset: base, lastOffset: last, duplicate: true)
            }
            let appended = try appendRouted(batch, header: header, router: router)
            var stored = header
            stored.baseOffset = appended.baseOffset
            table.record(stored, appendMs: clock())
            return appended
        }
    }

    /// Appends the batch, first handing it to the router when it may carry Spool's headers (the
    /// router needs the CRC checked before it trusts the records).
    private func appendRouted(_ batch: UnsafeRawBufferPointer, header: RecordBatchHeader, router: HeaderRouter?) throws(BrokerError) -> Appended {
        guard let router, HeaderRouter.mayCarryHeaders(batch, header) else { return try appendToLog(batch) }
        do { _ = try RecordBatchView.validate(batch) } catch { throw BrokerError.from(.invalidBatch(error)) }
        let routed = try router.route(batch, topic: topic, partition: index) { bytes throws(BrokerError) in try appendToLog(bytes) }
        if let routed { return routed }
        return try appendToLog(batch)
    }

    private func appendToLog(_ batch: UnsafeRawBufferPointer) throws(BrokerError) -> Appended {
        do {
            let result = try log.append(batch)
            return Appended(baseOffset: result.baseOffset, lastOffset: result.lastOffset, duplicate: false)
        } catch {
            throw BrokerError.from(error)
        }
    }

    /// Saves producer state for a fast restart, then closes the log.
    func close(fileSystem: any FileSystem) throws {
        let snapshot = producers.withLock { table in
            table.expire(olderThan: clock() - Self.producerExpiryMs)
            return Snapshot(offset: log.logEndOffset, table: table)
        }
        try log.close()
        if let bytes = try? JSONEncoder().encode(snapshot) {
            try? fileSystem.writeAtomically(log.directory + "/" + Self.snapshotFileName, Array(bytes))
        }
    }
}
