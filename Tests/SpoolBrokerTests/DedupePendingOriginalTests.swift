import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import SpoolTestSupport
import Synchronization
import Testing

/// A produce with acks=all whose record is dropped as a duplicate by its idempotency key is not
/// acknowledged before the original record is on disk: while the original's key is only reserved
/// (its append still running, and able to fail) the duplicate gets a retriable error (under acks=1
/// too: the original is not in the log yet), and once the
/// original is stored in another partition the duplicate waits for that partition's flush.
@Suite struct DedupePendingOriginalTests {
    private func record(_ value: Int, key: String = "K") -> [UInt8] {
        RecordBatch(producing: [ProducerRecord(value: Array(repeating: UInt8(ascii: "x"), count: value),
                                               headers: [RecordHeader(SpoolHeaders.idempotencyKey, key)], timestamp: currentTimeMs())]).encoded()
    }

    /// Runs `body` with a broker on a disk whose syncs and writes can be held, with topic `orders`
    /// (2 partitions, a dedupe window, a first record in each).
    private func withBroker(_ name: String, _ body: (Broker, FaultInjectingFileSystem) async throws -> Void) async throws {
        let directory = TestDataDirectory(name)
        defer { directory.remove() }
        let disk = FaultInjectingFileSystem()
        var config = directory.config(fsync: .always)
        // The big batch is written with pwrite, with no other file work.
        config.log.preallocateBytes = 256 << 10
        config.log.segmentBytes = 1 << 20
        config.log.indexIntervalBytes = 1 << 20
        let broker = try Broker.open(config, fileSystem: disk)
        defer { try? broker.close() }
        try broker.createTopic("orders", partitions: 2, configs: ["dedupe.window.ms": "60000"])
        for index in Int32(0)..<2 { _ = try await broker.produce(topic: "orders", partition: index, records: record(10, key: "first-\(index)"), acks: .all) }
        try await body(broker, disk)
    }

    private func waitUntil(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while !condition() && Date() < deadline { usleep(1_000) }
        return condition()
    }

    @Test("a duplicate with acks=all or acks=1 of a key whose original is still being appended is not acknowledged as stored",
          arguments: [Int32(0), 1], [Acks.all, .leader])
    func duplicateOfAReservedKeyIsNotAcknowledged(partition: Int32, acks: Acks) async throws {
        try await withBroker("\(#function)-\(partition)-\(acks.rawValue)") { broker, disk in
            let gate = DispatchSemaphore(value: 0)
            disk.gatesWrites.store(true, ordering: .relaxed)
            disk.syncGate.withLock { $0 = gate }
            let original = Task { try await broker.produce(topic: "orders", partition: 0, records: record(9 << 10), acks: .all) }
            #expect(waitUntil { disk.syncsWaiting.load(ordering: .relaxed) > 0 }, "the original's write never reached the disk")
            var answered: Result<ProduceResult, BrokerError>
            do throws(BrokerError) {
                answered = .success(try await broker.produce(topic: "orders", partition: partition, records: record(10), acks: acks))
            } catch {
                answered = .failure(error)
            }
            disk.gatesWrites.store(false, ordering: .relaxed)
            disk.syncGate.withLock { $0 = nil }
            gate.signal()
            switch answered {
            case let .success(result):
                Issue.record("the duplicate was acknowledged (\(result)) while its original was not on disk")
            case let .failure(error):
                #expect(error.code == .notEnoughReplicas, "a client retries NOT_ENOUGH_REPLICAS; got \(error)")
            }
            let stored = try await original.value
            #expect(stored.baseOffset == 1 && !stored.duplicate)
            // The original is on disk now: the retry is a duplicate, acknowledged.
            let retried = try await broker.produce(topic: "orders", partition: partition, records: record(10), acks: acks)
            #expect(retried.duplicate)
        }
    }

    /// `inTwoHalves`: as the server produces with acks=all, appending with acks=1 and then waiting
    /// for the flush (`waitUntilDurable`).
    @Test("a duplicate with acks=all of a record stored in another partition waits for that partition's flush", arguments: [false, true])
    func duplicateWaitsForTheOriginalsFlush(inTwoHalves: Bool) async throws {
        try await withBroker("\(#function)-\(inTwoHalves)") { broker, disk in
            let gate = DispatchSemaphore(value: 0)
            disk.syncGate.withLock { $0 = gate }
            // Stored (acks=1) but not yet flushed.
            let original = try await broker.produce(topic: "orders", partition: 0, records: record(10), acks: .leader)
            #expect(original.baseOffset == 1 && !original.duplicate)
            let done = DoneFlag()
            let duplicate = Task {
                defer { done.value.store(true, ordering: .relaxed) }
                guard inTwoHalves else { return try await broker.produce(topic: "orders", partition: 1, records: record(10), acks: .all) }
                let appended = try await broker.produce(topic: "orders", partition: 1, records: record(10)[...], acks: .leader, willWaitUntilDurable: true)
                try await broker.waitUntilDurable(appended, topic: "orders", partition: 1)
                return appended
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(!done.isSet, "the duplicate was acknowledged before its original was on disk")
            disk.syncGate.withLock { $0 = nil }
            gate.signal()
            let result = try await duplicate.value
            #expect(result.duplicate)
        }
    }
}

private final class DoneFlag: Sendable {
    let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
}
