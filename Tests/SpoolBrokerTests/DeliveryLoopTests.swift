import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import Synchronization
import Testing

/// The delivery loop of held records is woken when a record due sooner than every other is held.
@Suite("Delayed delivery wakes on events")
struct DeliveryLoopTests {
    private func hold(_ broker: Broker, _ value: String, dueMs: Int64) async throws {
        let record = ProducerRecord(key: Array("k".utf8), value: Array(value.utf8), headers: [RecordHeader(SpoolHeaders.deliverAt, String(dueMs))],
                                    timestamp: currentTimeMs())
        _ = try await broker.produce(topic: "jobs", partition: 0, records: RecordBatch(producing: [record]).encoded(), acks: .all)
    }

    @Test("a record held due before every other wakes the delivery loop, and only such a record")
    func recordDueSoonerWakesTheLoop() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let broker = try Broker.open(directory.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)

        let wakes = Atomic(0)
        broker.delays.onEarlierDue {
            wakes.add(1, ordering: .relaxed)
            broker.delivery.wake.signal()
        }
        let now = currentTimeMs()
        try await hold(broker, "in an hour", dueMs: now + 3_600_000)
        #expect(wakes.load(ordering: .relaxed) == 1, "the first held record is the earliest")
        try await hold(broker, "in two hours", dueMs: now + 7_200_000)
        #expect(wakes.load(ordering: .relaxed) == 1, "a later one does not wake the loop")
        try await hold(broker, "soon", dueMs: now + 200)
        #expect(wakes.load(ordering: .relaxed) == 2)
        var seen: [String] = []
        for _ in 0..<3_000 where seen.isEmpty {
            seen = try await values(broker, "jobs")
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(seen == ["soon"])
    }
}
