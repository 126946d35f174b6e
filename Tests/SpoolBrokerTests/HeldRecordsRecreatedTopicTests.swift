import Foundation
@testable import SpoolBroker
import SpoolFormat
import Testing

/// Records held for a topic belong to that topic, not to its name: once it is deleted they go
/// nowhere, even when a topic of the same name exists by the time they fall due.
@Suite struct HeldRecordsRecreatedTopicTests {
    private func heldBatch(dueMs: Int64, now: Int64) -> [UInt8] {
        RecordBatch(producing: [ProducerRecord(key: Array("k".utf8), value: Array("late".utf8),
                                               headers: [RecordHeader(SpoolHeaders.deliverAt, String(dueMs))], timestamp: now)]).encoded()
    }

    /// Runs `body` on a broker with a topic "jobs" of one partition and a clock moved by hand.
    private func withJobsTopic(_ body: (Broker, ManualClock) async throws -> Void) async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let clock = ManualClock()
        let broker = try Broker.open(data.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        try await body(broker, clock)
    }

    /// Lets the one held record fall due and checks that it went nowhere.
    private func expectDroppedWhenDue(_ broker: Broker, _ clock: ManualClock, _ comment: Comment) async throws {
        #expect(broker.heldRecordCount == 1)
        clock.advance(ms: 2_000)
        broker.deliverAllDue()
        #expect(broker.heldRecordCount == 0)
        #expect(try await values(broker, "jobs").isEmpty, comment)
    }

    @Test("records held through the partition of a topic deleted meanwhile are not delivered into the topic created again")
    func heldThroughADeletedTopicsPartitionGoNowhere() async throws {
        try await withJobsTopic { broker, clock in
            // A produce looked the partition up, then the topic was deleted and created again before
            // the produce held its records.
            let looked = try broker.partition("jobs", 0)
            try await broker.deleteTopic("jobs")
            try broker.createTopic("jobs", partitions: 1)
            let batch = heldBatch(dueMs: clock.nowMs + 1_000, now: clock.nowMs)
            _ = try batch.withBytes { raw throws(BrokerError) in try looked.append(raw, router: broker.headerRouter) }
            try await expectDroppedWhenDue(broker, clock, "the held record went into the new topic")
        }
    }

    /// Runs `body` on a broker whose topic "jobs" of one partition was created by a version from
    /// before topic ids were stored with held records (and upgraded in place), holding one record
    /// due in a second, held by that version, without an id.
    private func withUpgradedJobsTopicHolding(_ body: (Broker, ManualClock) async throws -> Void) async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let creating = try Broker.open(data.config())
        try creating.createTopic("jobs", partitions: 1)
        try creating.close()
        try EntriesWithoutId.rewriteTopicAsBeforeIds(data, topic: "jobs")
        let clock = ManualClock()
        let broker = try Broker.open(data.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        let record = try RecordBatch(decoding: heldBatch(dueMs: clock.nowMs + 1_000, now: clock.nowMs)).records[0]
        _ = try broker.delays.hold([(record, clock.nowMs, clock.nowMs + 1_000, nil)], topic: "jobs", topicId: nil, partition: 0)
        try await body(broker, clock)
    }

    @Test("a record held by a version that named no topic id is delivered to the topic of its name, upgraded in place, as then")
    func heldWithoutATopicIdGoToTheTopicOfItsName() async throws {
        try await withUpgradedJobsTopicHolding { broker, clock in
            clock.advance(ms: 2_000)
            broker.deliverAllDue()
            #expect(broker.heldRecordCount == 0)
            let delivered = try await values(broker, "jobs")
            #expect(delivered == ["late"])
        }
    }

    @Test("a record held by a version that named no topic id is not delivered into a topic created again under its name")
    func heldWithoutATopicIdGoNowhereOnceTheTopicIsCreatedAgain() async throws {
        try await withUpgradedJobsTopicHolding { broker, clock in
            try await broker.deleteTopic("jobs")
            try broker.createTopic("jobs", partitions: 1)
            try await expectDroppedWhenDue(broker, clock, "the held record went into the new topic")
        }
    }
}
