import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolLog
import SpoolSystem
import SpoolTestSupport
import Testing

/// A produce whose partition needs file work first (more disk blocks, or a new segment), or whose
/// batch is written with pwrite, does that work on the broker's queue for blocking appends, not on
/// one of Swift's cooperative threads.
@Suite struct AppendFileWorkTests {
    enum Work: String, CaseIterable { case allocation, roll, write }

    @Test("a produce whose partition must allocate disk blocks, roll a segment or pwrite a large batch does it on no cooperative thread; other produces are answered meanwhile",
          arguments: Work.allCases)
    func fileWorkOffThePool(work: Work) async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        var config = directory.config(fsync: .always)
        // A write needs no file work: blocks allocated well ahead, in a segment with room.
        config.log.preallocateBytes = work == .write ? 256 << 10 : 4096
        config.log.segmentBytes = work == .write ? 1 << 20 : 16 << 10
        config.log.indexIntervalBytes = work == .write ? 1 << 20 : config.log.indexIntervalBytes
        let disk = FaultInjectingFileSystem()
        let broker = try Broker.open(config, fileSystem: disk)
        defer { try? broker.close() }
        // One partition each, more than there are cooperative threads: waiting on them, the
        // produces would hold every one.
        let count = ProcessInfo.processInfo.activeProcessorCount * 2
        for index in 0..<count {
            try broker.createTopic("big-\(index)", partitions: 1)
            // A first batch of 9 KiB, so that the next one of 9 KiB starts a segment.
            if work == .roll { _ = try await broker.produce(topic: "big-\(index)", partition: 0, records: batch("first", count: 1, valueBytes: 9 << 10), acks: .all) }
            // A first small batch, so that the segment's first blocks are allocated.
            if work == .write { _ = try await broker.produce(topic: "big-\(index)", partition: 0, records: batch("first", count: 1), acks: .all) }
        }
        try broker.createTopic("ready", partitions: 1)
        // The writes of 9 KiB batches are pwrites; the probe's small batch goes through the mapping.
        func gate(_ on: Bool) {
            if work == .write { disk.gatesWrites.store(on, ordering: .relaxed) } else { disk.gatesAllocations.store(on, ordering: .relaxed) }
        }
        gate(true)
        var produces: [Task<ProduceResult, any Error>] = []
        let probeAnswered = await disk.probeWhileSyncsWait(start: {
            produces = (0..<count).map { index in
                Task { try await broker.produce(topic: "big-\(index)", partition: 0, records: batch("big", count: 1, valueBytes: 9 << 10), acks: .leader) }
            }
        }, probe: {
            (try? await broker.produce(topic: "ready", partition: 0, records: batch("probe", count: 1), acks: .leader)) != nil
        })
        gate(false)
        #expect(probeAnswered, "a produce was not answered while others waited for file work")
        for (index, produce) in produces.enumerated() {
            let result = try await produce.value
            #expect(result.baseOffset == (work == .allocation ? 0 : 1), "big-\(index)")
        }
        for index in 0..<count {
            #expect(try broker.partition("big-\(index)", 0).log.segmentBaseOffsets == (work == .roll ? [0, 1] : [0]), "big-\(index)")
        }
    }

    enum InternalLog: String, CaseIterable { case dedupe, delay }

    @Test("a produce whose idempotency keys need the dedupe log's file work, or whose held records need the delay log's, does it on no cooperative thread; other produces are answered meanwhile",
          arguments: InternalLog.allCases)
    func internalLogFileWorkOffThePool(log: InternalLog) async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        // Not `always`: under it a held record waits for the delay log's flush, and so goes where
        // a thread may block whatever its log's files need.
        let disk = FaultInjectingFileSystem()
        let broker = try Broker.open(directory.config(fsync: .interval(milliseconds: 20)), fileSystem: disk)
        defer { try? broker.close() }
        // More produces than cooperative threads, to partitions of their own (so that none waits
        // for another's append to its partition): waiting on those threads, they would hold every one.
        let count = ProcessInfo.processInfo.activeProcessorCount * 2
        try broker.createTopic("jobs", partitions: count)
        try broker.createTopic("ready", partitions: 1)
        for index in 0..<count { _ = try await broker.produce(topic: "jobs", partition: Int32(index), records: batch("first", count: 1), acks: .all) }
        _ = try await broker.produce(topic: "ready", partition: 0, records: batch("first", count: 1), acks: .all)
        // The internal log so full that its next append starts a segment.
        let internalLog = log == .dedupe ? broker.dedupe.log : broker.delays.log
        try internalLog.fillActiveSegment()
        let filled = internalLog.logEndOffset
        let due = currentTimeMs() + 3_600_000
        func routed(_ index: Int) -> [UInt8] {
            let header = log == .dedupe ? RecordHeader(SpoolHeaders.idempotencyKey, "key-\(index)") : RecordHeader(SpoolHeaders.deliverAt, String(due))
            return RecordBatch(producing: [ProducerRecord(key: Array("k".utf8), value: Array("routed-\(index)".utf8), headers: [header],
                                                          timestamp: currentTimeMs())]).encoded()
        }
        disk.gatesAllocations.store(true, ordering: .relaxed)
        var produces: [Task<ProduceResult, any Error>] = []
        let probeAnswered = await disk.probeWhileSyncsWait(start: {
            produces = (0..<count).map { index in
                Task { try await broker.produce(topic: "jobs", partition: Int32(index), records: routed(index), acks: .leader) }
            }
        }, probe: {
            (try? await broker.produce(topic: "ready", partition: 0, records: batch("probe", count: 1), acks: .leader)) != nil
        })
        disk.gatesAllocations.store(false, ordering: .relaxed)
        #expect(probeAnswered, "a produce was not answered while others waited for the \(log) log's file work")
        for produce in produces { #expect(try await !produce.value.duplicate) }
        switch log {
        case .dedupe:
            for index in 0..<count { #expect(try await values(broker, "jobs", Int32(index)) == ["first-0", "routed-\(index)"]) }
            // Every key was confirmed: the same key again is a duplicate, stored nowhere.
            for index in 0..<count {
                #expect(try await broker.produce(topic: "jobs", partition: Int32(index), records: routed(index), acks: .all).duplicate)
            }
            #expect(internalLog.logEndOffset == filled + Int64(count))
            #expect(internalLog.segmentBaseOffsets == [0, filled])
        case .delay:
            #expect(broker.heldRecordCount == count)
            for index in 0..<count { #expect(try await values(broker, "jobs", Int32(index)) == ["first-0"]) }
            #expect(internalLog.segmentBaseOffsets == [0, filled])
        }
    }

    @Test("a batch with an idempotency key whose partition needs file work is stored once: the key's reservation is given back before the hand-off and taken again after")
    func idempotencyKeyAcrossTheHandOff() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        var config = directory.config(fsync: .always)
        config.log.preallocateBytes = 4096
        let broker = try Broker.open(config)
        defer { try? broker.close() }
        try broker.createTopic("keyed", partitions: 1)
        func keyed(_ value: String) -> [UInt8] {
            RecordBatch(producing: [ProducerRecord(key: Array("k".utf8), value: Array(value.utf8) + [UInt8](repeating: 0x2E, count: 9 << 10),
                                                   headers: [RecordHeader(SpoolHeaders.idempotencyKey, "once")], timestamp: currentTimeMs())]).encoded()
        }
        // 9 KiB past the 4 KiB allocated: the append needs fallocate, so it is handed off.
        let first = try await broker.produce(topic: "keyed", partition: 0, records: keyed("first"), acks: .all)
        #expect(!first.duplicate)
        #expect(first.baseOffset == 0)
        let again = try await broker.produce(topic: "keyed", partition: 0, records: keyed("again"), acks: .all)
        #expect(again.duplicate, "the key was confirmed by the first")
        #expect(try await values(broker, "keyed").map { String($0.prefix(5)) } == ["first"])
    }

    @Test("a batch stored whose idempotency keys the dedupe log cannot take is acknowledged, not failed: a producer sending it again gets the duplicate, not a second copy")
    func keysTheDedupeLogCannotTake() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let broker = try Broker.open(directory.config(fsync: .interval(milliseconds: 20)))
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        let batch = RecordBatch(producing: [ProducerRecord(key: Array("k".utf8), value: Array("v".utf8),
                                                           headers: [RecordHeader(SpoolHeaders.idempotencyKey, "key-1")], timestamp: currentTimeMs())],
                                producerId: 7, producerEpoch: 0, baseSequence: 0).encoded()
        // The dedupe log fails (a full disk, a failed fsync): here, closed under the broker.
        try broker.dedupe.log.close()
        let first = try await broker.produce(topic: "jobs", partition: 0, records: batch, acks: .all)
        #expect(first.baseOffset == 0 && !first.duplicate)
        let again = try await broker.produce(topic: "jobs", partition: 0, records: batch, acks: .all)
        #expect(again.duplicate && again.baseOffset == 0)
        #expect(try broker.partition("jobs", 0).log.logEndOffset == 1)
    }
}
