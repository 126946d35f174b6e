import Foundation
import SpoolBroker
import SpoolFormat
import SpoolSystem
import Testing

/// One record with the given headers, key "k" and value `value`.
private func record(_ value: String, headers: [(String, String)] = [], timestamp: Int64 = currentTimeMs()) -> ProducerRecord {
    ProducerRecord(key: Array("k".utf8), value: Array(value.utf8), headers: headers.map { RecordHeader($0.0, $0.1) }, timestamp: timestamp)
}

private func produce(_ broker: Broker, _ topic: String, _ records: [ProducerRecord], producerId: Int64 = -1, sequence: Int32 = -1) async throws -> ProduceResult {
    try await broker.produce(topic: topic, partition: 0, records: RecordBatch(producing: records, producerId: producerId, producerEpoch: producerId >= 0 ? 0 : -1,
                                                                                baseSequence: sequence).encoded(), acks: .all)
}

/// Waits (bounded) until the partition holds `count` records; returns their values.
func waitForValues(_ broker: Broker, _ topic: String, count: Int, timeoutMs: Int = 30_000) async throws -> [String] {
    let deadline = monotonicNanoseconds() + UInt64(timeoutMs) * 1_000_000
    while true {
        let current = try await values(broker, topic)
        if current.count >= count || monotonicNanoseconds() > deadline { return current }
        try await Task.sleep(for: .milliseconds(2))
    }
}

@Suite("Delayed delivery (spool-deliver-at)")
struct DelayedDeliveryTests {
    // The broker runs on a clock the test moves, so "not yet due" and "due" are decided by the test,
    // not by how fast a loaded machine gets from one line to the next. How soon after its time a
    // record arrives on a real clock is measured by `spool-bench delay`, which CI runs.
    @Test("a held record is not visible early, arrives once its time has come, and other records of its batch go at once")
    func heldUntilDue() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        let due = clock.nowMs + 3_000
        let result = try await produce(broker, "jobs", [record("now"), record("later", headers: [(SpoolHeaders.deliverAt, String(due))])])
        #expect(result.baseOffset == 0)
        #expect(try await values(broker, "jobs") == ["now"])
        #expect(broker.heldRecordCount == 1)
        // A record due a millisecond earlier shows when the delivery loop has looked at the time
        // just before "later" falls due: it arrives alone.
        _ = try await produce(broker, "jobs", [record("sentinel", headers: [(SpoolHeaders.deliverAt, String(due - 1))])])
        clock.advance(ms: 2_999)
        broker.clockMoved()
        #expect(try await waitForValues(broker, "jobs", count: 2) == ["now", "sentinel"])
        // The sentinel counts as held until its delivery's marker is durable, just after it is visible.
        for _ in 0..<1000 where broker.heldRecordCount > 1 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(broker.heldRecordCount == 1, "not delivered before its time")
        clock.advance(ms: 1)
        broker.clockMoved()
        #expect(try await waitForValues(broker, "jobs", count: 3) == ["now", "sentinel", "later"])
        // The count drops once the delivery's marker is durable, just after the record is visible.
        for _ in 0..<1000 where broker.heldRecordCount > 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(broker.heldRecordCount == 0)
    }

    @Test("held records are counted by topic, first runs apart from later attempts; delivery takes them off; a restart counts them again")
    func heldCountsByTopic() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        var broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        try broker.createTopic("jobs", partitions: 1)
        try broker.createTopic("mail", partitions: 1)
        let soon = String(clock.nowMs + 1_000), late = String(clock.nowMs + 60_000)
        _ = try await produce(broker, "jobs", [record("a", headers: [(SpoolHeaders.deliverAt, soon)]),
                                               record("b", headers: [(SpoolHeaders.deliverAt, late), (SpoolHeaders.attempt, "2")]),
                                               record("c", headers: [(SpoolHeaders.deliverAt, late), (SpoolHeaders.attempt, "1")])])
        _ = try await produce(broker, "mail", [record("d", headers: [(SpoolHeaders.deliverAt, late), (SpoolHeaders.attempt, "3")])])
        #expect(broker.heldRecordsByTopic == ["jobs": HeldCounts(scheduled: 2, retrying: 1), "mail": HeldCounts(retrying: 1)])
        clock.advance(ms: 1_000)
        broker.clockMoved()
        #expect(try await waitForValues(broker, "jobs", count: 1) == ["a"])
        #expect(broker.heldRecordsByTopic == ["jobs": HeldCounts(scheduled: 1, retrying: 1), "mail": HeldCounts(retrying: 1)])
        for _ in 0..<1000 where broker.heldRecordCount > 3 { try await Task.sleep(for: .milliseconds(5)) }
        try broker.close()
        broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        #expect(broker.heldRecordsByTopic == ["jobs": HeldCounts(scheduled: 1, retrying: 1), "mail": HeldCounts(retrying: 1)])
        clock.advance(ms: 59_000)
        broker.clockMoved()
        #expect(try await waitForValues(broker, "mail", count: 1) == ["d"])
        #expect(try await waitForValues(broker, "jobs", count: 3).count == 3)
        #expect(broker.heldRecordsByTopic.isEmpty)
    }

    @Test("a due time in the past delivers at once, straight into the topic")
    func pastIsImmediate() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let broker = try Broker.open(directory.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        _ = try await produce(broker, "jobs", [record("past", headers: [(SpoolHeaders.deliverAt, "1000")])])
        #expect(try await values(broker, "jobs") == ["past"])
        #expect(broker.heldRecordCount == 0)
    }

    @Test("held records survive a restart and are delivered once")
    func survivesRestart() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        var broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        try broker.createTopic("jobs", partitions: 1)
        let due = clock.nowMs + 3_000
        _ = try await produce(broker, "jobs", (0..<3).map { record("held-\($0)", headers: [(SpoolHeaders.deliverAt, String(due))]) })
        try broker.close()
        broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        #expect(broker.heldRecordCount == 3)
        #expect(try await values(broker, "jobs").isEmpty)
        clock.advance(ms: 3_000)
        broker.clockMoved()
        #expect(try await waitForValues(broker, "jobs", count: 3) == ["held-0", "held-1", "held-2"])
        try broker.close()
        broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        #expect(broker.heldRecordCount == 0)
        // A record held after the restart: once it has been delivered, a record delivered again
        // (due long ago) would have been delivered too, in that round or an earlier one.
        _ = try await produce(broker, "jobs", [record("sentinel", headers: [(SpoolHeaders.deliverAt, String(clock.nowMs + 1))])])
        clock.advance(ms: 1)
        broker.clockMoved()
        #expect(try await waitForValues(broker, "jobs", count: 4) == ["held-0", "held-1", "held-2", "sentinel"])
    }

    @Test("a malformed spool-deliver-at is refused and nothing is stored")
    func malformedRefused() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let broker = try Broker.open(directory.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        for bad in ["soon", "-5", "", "1764370000000.5", "99999999999999999999"] {
            await #expect(throws: BrokerError.self) {
                _ = try await produce(broker, "jobs", [record("ok"), record("bad", headers: [(SpoolHeaders.deliverAt, bad)])])
            }
        }
        #expect(try await values(broker, "jobs").isEmpty)
        #expect(broker.heldRecordCount == 0)
    }
}

/// A clock the test moves by hand.
@Suite("Dedupe window (spool-idempotency-key)")
struct DedupeWindowTests {
    @Test("the same key twice in the window stores one record and answers with the first's offset; after the window, two")
    func window() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        try broker.createTopic("orders", partitions: 1, configs: ["dedupe.window.ms": "60000"])
        let first = try await produce(broker, "orders", [record("a", headers: [(SpoolHeaders.idempotencyKey, "order-1")])])
        let second = try await produce(broker, "orders", [record("a-again", headers: [(SpoolHeaders.idempotencyKey, "order-1")])])
        #expect(second.duplicate)
        #expect(second.baseOffset == first.baseOffset)
        #expect(try await values(broker, "orders") == ["a"])
        clock.advance(ms: 59_000)
        _ = try await produce(broker, "orders", [record("still-dup", headers: [(SpoolHeaders.idempotencyKey, "order-1")])])
        #expect(try await values(broker, "orders") == ["a"])
        clock.advance(ms: 2_000)
        _ = try await produce(broker, "orders", [record("after-window", headers: [(SpoolHeaders.idempotencyKey, "order-1")])])
        #expect(try await values(broker, "orders") == ["a", "after-window"])
    }

    @Test("keys survive a restart; duplicates inside one batch are dropped; other topics are separate")
    func restartAndBatch() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        var broker = try Broker.open(directory.config())
        try broker.createTopic("orders", partitions: 1)
        try broker.createTopic("refunds", partitions: 1)
        _ = try await produce(broker, "orders", [record("x", headers: [(SpoolHeaders.idempotencyKey, "k1")]),
                                                 record("x-dup", headers: [(SpoolHeaders.idempotencyKey, "k1")]),
                                                 record("y", headers: [(SpoolHeaders.idempotencyKey, "k2")])])
        #expect(try await values(broker, "orders") == ["x", "y"])
        try broker.close()
        broker = try Broker.open(directory.config())
        defer { try? broker.close() }
        _ = try await produce(broker, "orders", [record("x-after-restart", headers: [(SpoolHeaders.idempotencyKey, "k1")]), record("plain")])
        #expect(try await values(broker, "orders") == ["x", "y", "plain"])
        _ = try await produce(broker, "refunds", [record("x-refund", headers: [(SpoolHeaders.idempotencyKey, "k1")])])
        #expect(try await values(broker, "refunds") == ["x-refund"])
    }

    @Test("an idempotent producer's batch whose records are all duplicates keeps its sequence going")
    func idempotentProducerSequence() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        var broker = try Broker.open(directory.config())
        try broker.createTopic("orders", partitions: 1)
        let producer = try broker.initProducerId().producerId
        _ = try await produce(broker, "orders", [record("a", headers: [(SpoolHeaders.idempotencyKey, "k")])], producerId: producer, sequence: 0)
        let dropped = try await produce(broker, "orders", [record("a2", headers: [(SpoolHeaders.idempotencyKey, "k")]),
                                                           record("a3", headers: [(SpoolHeaders.idempotencyKey, "k")])],
                                        producerId: producer, sequence: 1)
        #expect(dropped.baseOffset == 1)
        // The next batch follows on from the dropped one's sequence, across a restart too.
        try broker.close()
        broker = try Broker.open(directory.config())
        defer { try? broker.close() }
        let next = try await produce(broker, "orders", [record("b")], producerId: producer, sequence: 3)
        #expect(next.baseOffset == 3)
        #expect(try await values(broker, "orders") == ["a", "b"])
    }

    @Test("dedupe.window.ms is checked: negative, too long or not a number is refused")
    func configChecked() throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let broker = try Broker.open(directory.config())
        defer { try? broker.close() }
        for bad in ["-1", "604800001", "day"] {
            #expect(throws: BrokerError.self) { try broker.createTopic("t", partitions: 1, configs: ["dedupe.window.ms": bad]) }
        }
        try broker.createTopic("off", partitions: 1, configs: ["dedupe.window.ms": "0"])
    }
}

/// Resends of an idempotent producer's held records are recognised by producer id, epoch and
/// sequence, but only on the same partition of the same topic: sequences are per partition.
@Suite struct HeldRecordOriginTests {
    /// A broker on a clock the test moves, with topic "jobs", and an idempotent producer's id.
    private static func opened(_ directory: TestDataDirectory, _ clock: ManualClock, partitions: Int) throws -> (Broker, Int64) {
        let broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        try broker.createTopic("jobs", partitions: partitions)
        return (broker, try broker.initProducerId().producerId)
    }

    @Test func theSameSequenceOnTwoPartitionsIsTwoRecords() async throws {
        let (directory, clock) = (TestDataDirectory(), ManualClock())
        defer { directory.remove() }
        let (broker, producer) = try Self.opened(directory, clock, partitions: 2)
        defer { try? broker.close() }
        let due = String(clock.nowMs + 1_000)
        for partition in Int32(0)...1 {
            let batch = RecordBatch(producing: [record("p\(partition)", headers: [(SpoolHeaders.deliverAt, due)])],
                                    producerId: producer, producerEpoch: 0, baseSequence: 0).encoded()
            _ = try await broker.produce(topic: "jobs", partition: partition, records: batch, acks: .all)
        }
        #expect(broker.heldRecordCount == 2, "the second partition's record was taken for a resend of the first's")
        // A real resend (same partition, same sequence) is still held once.
        let resend = RecordBatch(producing: [record("p1", headers: [(SpoolHeaders.deliverAt, due)])],
                                 producerId: producer, producerEpoch: 0, baseSequence: 0).encoded()
        _ = try await broker.produce(topic: "jobs", partition: 1, records: resend, acks: .all)
        #expect(broker.heldRecordCount == 2)
        clock.advance(ms: 1_000)
        broker.clockMoved()
        for partition in Int32(0)...1 {
            var delivered: [String] = []
            for _ in 0..<2000 where delivered.isEmpty {
                delivered = try await values(broker, "jobs", partition)
                if delivered.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(delivered == ["p\(partition)"])
        }
    }

    /// The origin is the delay log's business (a restart reads it there, from the held record):
    /// a delivered record carries what its producer sent, and when it was produced, nothing else.
    @Test func aDeliveredRecordCarriesNoOriginHeader() async throws {
        let (directory, clock) = (TestDataDirectory(), ManualClock())
        defer { directory.remove() }
        let (broker, producer) = try Self.opened(directory, clock, partitions: 1)
        defer { try? broker.close() }
        let due = String(clock.nowMs + 1_000)
        let batch = RecordBatch(producing: [record("later", headers: [(SpoolHeaders.deliverAt, due), ("trace", "t-1")])],
                                producerId: producer, producerEpoch: 0, baseSequence: 0).encoded()
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch, acks: .all)
        clock.advance(ms: 1_000)
        broker.clockMoved()
        #expect(try await waitForValues(broker, "jobs", count: 1) == ["later"])
        let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0)], maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        var keys: [String] = []
        try fetched.first?.records?.forEachBatch { bytes in keys += try RecordBatch(decoding: bytes).records.flatMap { $0.headers.map(\.key) } }
        #expect(keys == [SpoolHeaders.deliverAt, "trace", SpoolHeaders.producedAt])
    }
}
