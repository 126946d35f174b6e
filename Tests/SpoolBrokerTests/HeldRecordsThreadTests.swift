import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import SpoolTestSupport
import Synchronization
import Testing

/// A produce that holds records for later under `fsync=always` waits for the delay log's disk
/// before its batch is appended; that wait happens on the broker's queue for held-record appends,
/// not on one of Swift's cooperative threads.
@Suite struct HeldRecordsThreadTests {
    private static func heldBatch(_ value: String, dueMs: Int64, alsoNow: String? = nil, producerId: Int64 = -1, sequence: Int32 = -1) -> [UInt8] {
        var records = [ProducerRecord(key: Array("k".utf8), value: Array(value.utf8),
                                      headers: [RecordHeader(SpoolHeaders.deliverAt, String(dueMs))], timestamp: currentTimeMs())]
        if let alsoNow { records.append(ProducerRecord(key: Array("k".utf8), value: Array(alsoNow.utf8), timestamp: currentTimeMs())) }
        return RecordBatch(producing: records, producerId: producerId, producerEpoch: producerId >= 0 ? 0 : -1, baseSequence: sequence).encoded()
    }

    /// A broker whose disk the test can hold (`FaultInjectingFileSystem.probeWhileSyncsWait`), with
    /// the topics "jobs" and "ready", fsync=always.
    private static func gatedBroker(_ directory: TestDataDirectory) throws -> (FaultInjectingFileSystem, Broker) {
        let disk = FaultInjectingFileSystem()
        let broker = try Broker.open(directory.config(fsync: .always), fileSystem: disk)
        try broker.createTopic("jobs", partitions: 1)
        try broker.createTopic("ready", partitions: 1)
        return (disk, broker)
    }

    @Test("produces holding records wait for the delay log's disk on no cooperative thread; other produces are answered meanwhile")
    func heldProducesDoNotHoldTheCooperativePool() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let (disk, broker) = try Self.gatedBroker(directory)
        defer { try? broker.close() }
        let due = currentTimeMs() + 3_600_000
        // More waiting produces than cooperative threads: on them, they would hold every one.
        let count = ProcessInfo.processInfo.activeProcessorCount * 2
        var holds: [Task<ProduceResult, any Error>] = []
        let probeAnswered = await disk.probeWhileSyncsWait(start: {
            holds = (0..<count).map { index in
                Task { try await broker.produce(topic: "jobs", partition: 0, records: Self.heldBatch("held-\(index)", dueMs: due), acks: .all) }
            }
        }, probe: {
            (try? await broker.produce(topic: "ready", partition: 0, records: batch("probe", count: 1), acks: .leader)) != nil
        })
        #expect(probeAnswered, "a produce was not answered while held records waited for the disk")
        for hold in holds { _ = try await hold.value }
        #expect(broker.heldRecordCount == count)
        #expect(try await values(broker, "jobs").isEmpty)
    }

    @Test("idempotent produces to a partition whose producer lock an idempotent held produce holds while it waits for the disk hold no cooperative thread")
    func idempotentProducesDoNotWaitForTheLockOnTheCooperativePool() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let (disk, broker) = try Self.gatedBroker(directory)
        defer { try? broker.close() }
        let due = currentTimeMs() + 3_600_000
        let count = ProcessInfo.processInfo.activeProcessorCount * 2
        let held = Mutex<Task<ProduceResult, any Error>?>(nil)
        let others = Mutex<[Task<ProduceResult, any Error>]>([])
        let probeAnswered = await disk.probeWhileSyncsWait(start: {
            // Holds the partition's producer lock while the delay log's flush waits at the gate.
            let task = Task {
                try await broker.produce(topic: "jobs", partition: 0, records: Self.heldBatch("held", dueMs: due, producerId: 1, sequence: 0), acks: .leader)
            }
            held.withLock { $0 = task }
        }, probe: {
            // More produces to that partition than cooperative threads, from other idempotent
            // producers; then this task sleeps, and can go on only if a cooperative thread is free.
            let tasks = (0..<count).map { index in
                Task { try await broker.produce(topic: "jobs", partition: 0, records: batch("other-\(index)", count: 1, producerId: Int64(10 + index), epoch: 0, sequence: 0), acks: .leader) }
            }
            others.withLock { $0 = tasks }
            try? await Task.sleep(for: .milliseconds(50))
            return (try? await broker.produce(topic: "ready", partition: 0, records: batch("probe", count: 1), acks: .leader)) != nil
        })
        #expect(probeAnswered, "a produce was not answered while idempotent produces waited behind a held produce")
        _ = try await held.withLock { $0 }?.value
        for other in others.withLock({ $0 }) { _ = try await other.value }
        #expect(broker.heldRecordCount == 1)
        // Readable once flushed (fetches see what is durable).
        var stored: [String] = []
        for _ in 0..<1_000 where stored.count < count {
            stored = try await values(broker, "jobs")
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(Set(stored) == Set((0..<count).map { "other-\($0)-0" }))
    }

    @Test("a batch that holds a record is appended after the hand-off to the queue that may wait for the disk, from an array or the caller's pointer",
          arguments: [false, true])
    func handOffOfABatchThatHoldsARecord(rawPointer: Bool) async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let broker = try Broker.open(directory.config(fsync: .always))
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        let due = currentTimeMs() + 3_600_000
        let records = Self.heldBatch("later", dueMs: due, alsoNow: "now", producerId: 7, sequence: 0)
        let result: ProduceResult
        if rawPointer {
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: records.count, alignment: 1)
            defer { copy.deallocate() }
            records.withUnsafeBytes { copy.copyMemory(from: $0) }
            result = try await broker.produce(topic: "jobs", partition: 0, records: UnsafeRawBufferPointer(copy), acks: .all)
        } else {
            result = try await broker.produce(topic: "jobs", partition: 0, records: records, acks: .all)
        }
        // The batch keeps its offset range, with a gap where the held record was.
        #expect(result.baseOffset == 0)
        #expect(result.lastOffset == 1)
        #expect(!result.duplicate)
        #expect(try await values(broker, "jobs") == ["now"])
        #expect(broker.heldRecordCount == 1)
        // The resent batch is a duplicate, and holds nothing twice.
        let again = try await broker.produce(topic: "jobs", partition: 0, records: records, acks: .all)
        #expect(again.duplicate)
        #expect(broker.heldRecordCount == 1)
    }
}
