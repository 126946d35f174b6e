import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import Synchronization
import Testing

/// The delivery loop of held records sleeps until the earliest due time, and is woken when a
/// record due sooner than every other is held.
@Suite("Delayed delivery wakes on events")
struct DeliveryLoopTests {
    private func hold(_ broker: Broker, _ value: String, dueMs: Int64) async throws {
        let record = ProducerRecord(key: Array("k".utf8), value: Array(value.utf8), headers: [RecordHeader(SpoolHeaders.deliverAt, String(dueMs))],
                                    timestamp: currentTimeMs())
        _ = try await broker.produce(topic: "jobs", partition: 0, records: RecordBatch(producing: [record]).encoded(), acks: .all)
    }

    /// A broker with the one-partition topic "jobs", closed and removed after `body`.
    private func withJobsTopic(_ body: (Broker) async throws -> Void) async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let broker = try Broker.open(directory.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        try await body(broker)
    }

    @Test("a record held due before every other wakes the delivery loop, and only such a record")
    func recordDueSoonerWakesTheLoop() async throws {
        try await withJobsTopic { broker in
            let wakes = Atomic(0)
            broker.delays.onEarlierDue {
                wakes.add(1, ordering: .relaxed)
                broker.delivery.alarm.wake()
            }
            let now = currentTimeMs()
            try await hold(broker, "in an hour", dueMs: now + 3_600_000)
            #expect(wakes.load(ordering: .relaxed) == 1, "the first held record is the earliest")
            try await hold(broker, "in two hours", dueMs: now + 7_200_000)
            #expect(wakes.load(ordering: .relaxed) == 1, "a later one does not wake the loop")
            // Read now: the two holds above may have taken a while on a loaded machine, and a due
            // time passed already is delivered at once, not held.
            try await hold(broker, "soon", dueMs: currentTimeMs() + 500)
            #expect(wakes.load(ordering: .relaxed) == 2)
            #expect(try await waitForValues(broker, "jobs", count: 1) == ["soon"])
        }
    }

    @Test("with nothing due the delivery loop sleeps: no look at the clock until the earliest due time")
    func theLoopSleepsUntilTheEarliestDueTime() async throws {
        try await withJobsTopic { broker in
            try await hold(broker, "in an hour", dueMs: currentTimeMs() + 3_600_000)
            try await Task.sleep(for: .milliseconds(100))
            let looks = broker.delivery.looks.load(ordering: .relaxed)
            // Long enough for a loop that looks once a second to have looked twice.
            try await Task.sleep(for: .milliseconds(2_200))
            #expect(broker.delivery.looks.load(ordering: .relaxed) == looks, "the loop woke with nothing due")

            try await hold(broker, "soon", dueMs: currentTimeMs() + 100)
            #expect(try await waitForValues(broker, "jobs", count: 1) == ["soon"])
            #expect(broker.delivery.looks.load(ordering: .relaxed) > looks)
        }
    }
}
