import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import Testing

/// Held records fall due together but were each accepted alone: delivery must not pack them into
/// a batch their topic's `max.message.bytes` refuses, which left them held for ever.
@Suite struct HeldRecordsBatchLimitTests {
    private func holdLarge(_ broker: Broker, _ value: Character, dueMs: Int64, now: Int64) async throws {
        let record = ProducerRecord(key: Array("k".utf8), value: Array(repeating: UInt8(value.asciiValue!), count: 3_000),
                                    headers: [RecordHeader(SpoolHeaders.deliverAt, String(dueMs))], timestamp: now)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: RecordBatch(producing: [record]).encoded(), acks: .all)
    }

    /// A broker on a clock the test moves, with the one-partition topic "jobs" made with `configs`.
    private func withJobsTopic(configs: [String: String] = [:], _ body: (Broker, ManualClock) async throws -> Void) async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1, configs: configs)
        try await body(broker, clock)
    }

    @Test("two held records that fit max.message.bytes alone but not together are both delivered")
    func recordsDueTogetherAreSplitToFitTheLimit() async throws {
        try await withJobsTopic(configs: ["max.message.bytes": "4096"]) { broker, clock in
            let due = clock.nowMs + 1_000
            try await holdLarge(broker, "a", dueMs: due, now: clock.nowMs)
            try await holdLarge(broker, "b", dueMs: due, now: clock.nowMs)
            #expect(broker.heldRecordCount == 2)
            clock.advance(ms: 1_000)
            broker.clockMoved()
            let delivered = try await waitForValues(broker, "jobs", count: 2, timeoutMs: 5_000)
            #expect(delivered.map(\.first) == ["a", "b"], "records due together were refused as one batch over max.message.bytes")
            for _ in 0..<1000 where broker.heldRecordCount > 0 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(broker.heldRecordCount == 0)
        }
    }

    @Test("a held record too large for a limit lowered after it was held waits without holding up the others, and arrives once the limit allows it")
    func aRecordOverALoweredLimitDoesNotStallTheOthers() async throws {
        try await withJobsTopic { broker, clock in
            let due = clock.nowMs + 1_000
            try await holdLarge(broker, "a", dueMs: due, now: clock.nowMs)
            let small = ProducerRecord(key: nil, value: Array("b".utf8), headers: [RecordHeader(SpoolHeaders.deliverAt, String(due))],
                                       timestamp: clock.nowMs)
            _ = try await broker.produce(topic: "jobs", partition: 0, records: RecordBatch(producing: [small]).encoded(), acks: .all)
            #expect(broker.incrementalAlterConfigs(.topic, name: "jobs", alterations: [ConfigAlteration(name: "max.message.bytes", operation: .set, value: "1024")]) == .success)
            clock.advance(ms: 1_000)
            broker.clockMoved()
            #expect(try await waitForValues(broker, "jobs", count: 1, timeoutMs: 5_000) == ["b"], "the record over the limit held up the one after it")
            for _ in 0..<1000 where broker.heldRecordCount > 1 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(broker.heldRecordCount == 1, "the record over the limit is kept, not dropped")

            #expect(broker.incrementalAlterConfigs(.topic, name: "jobs", alterations: [ConfigAlteration(name: "max.message.bytes", operation: .set, value: "8192")]) == .success)
            clock.advance(ms: Int(DelayStore.tooLargeRetryMs))
            broker.clockMoved()
            let delivered = try await waitForValues(broker, "jobs", count: 2, timeoutMs: 5_000)
            #expect(delivered.count == 2 && delivered.last?.first == "a", "the kept record was not delivered once the limit allowed it")
        }
    }
}
