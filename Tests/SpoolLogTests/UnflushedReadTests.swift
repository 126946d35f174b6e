import Dispatch
import SpoolLog
import SpoolTestSupport
import Testing

/// Reads while appended records wait for their flush (fsync=always: the high watermark trails the
/// log end until the flush), and lookups by time.
@Suite struct UnflushedReadTests {
    /// A log (fsync=always) holding `flushed` durably and `waiting` appended, whose flush is held
    /// while `body` runs.
    private func withUnflushed(_ flushed: [UInt8], then waiting: [UInt8], _ body: (PartitionLog) throws -> Void) async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let disk = FaultInjectingFileSystem()
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(fsync: .always), fileSystem: disk)
        try await log.appendDurably(flushed)
        let gate = DispatchSemaphore(value: 0)
        disk.syncGate.withLock { $0 = gate }
        defer {
            disk.syncGate.withLock { $0 = nil }
            gate.signal()
            try? log.close()
        }
        _ = try log.append(waiting)  // its flush waits at the gate
        try body(log)
    }

    @Test func aReadBetweenTheHighWatermarkAndTheLogEndIsEmptyAndPastTheEndOutOfRange() async throws {
        try await withUnflushed(makeBatch(tag: "a", records: 2), then: makeBatch(tag: "b", records: 3)) { log in
            #expect(log.logEndOffset == 5)
            #expect(log.highWatermark == 2)
            // As in Kafka: a reader there waits for the records, it is not reset.
            for offset: Int64 in [2, 3, 5] {
                let read = try log.read(from: offset, maxBytes: 1 << 20)
                #expect(read.slice.isEmpty, "offset \(offset)")
                #expect(read.highWatermark == 2)
            }
            #expect(throws: LogError.offsetOutOfRange(requested: 6, logStart: 0, highWatermark: 2)) { try log.read(from: 6, maxBytes: 1 << 20) }
        }
    }

    @Test func theLargestTimestampIsAVisibleRecordsWhileANewerBatchWaitsForItsFlush() async throws {
        try await withUnflushed(makeBatch(tag: "a", records: 2, timestamp: 1_000), then: makeBatch(tag: "b", records: 3, timestamp: 2_000)) { log in
            #expect(log.highWatermark == 2)
            // Kafka's ListOffsets -3: the visible record with the largest timestamp (1,000 and 1,001).
            let largest = try log.maxTimestamp()
            #expect(largest.map { [$0.offset, $0.timestamp] } == [1, 1_001])
        }
    }

    @Test func aLookupByTimeAnswersWithTheFoundRecordsTimestamp() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        defer { try? log.close() }
        try await log.appendDurably(makeBatch(tag: "a", records: 3, timestamp: 1_000))
        try await log.appendDurably(makeBatch(tag: "b", records: 3, timestamp: 2_000))
        // Records are stamped 1,000-1,002 and 2,000-2,002.
        #expect(try log.record(atOrAfter: 1_500).map { [$0.offset, $0.timestamp] } == [3, 2_000])
        #expect(try log.record(atOrAfter: 1_001).map { [$0.offset, $0.timestamp] } == [1, 1_001])
        #expect(try log.record(atOrAfter: 0).map { [$0.offset, $0.timestamp] } == [0, 1_000])
        #expect(try log.record(atOrAfter: 2_003) == nil)
    }
}
