import Foundation
import SpoolBroker
import SpoolClient
@testable import SpoolEmbedded
import SpoolFormat
@testable import SpoolJobs
import Testing

/// `EmbeddedTransport.readAll` (dead-letter lists, replays of held keys, job lists): the whole
/// topic or an error, never part of it, as the network transport's read.
@Suite struct EmbeddedReadAllTests {
    private func partitions(_ broker: Broker, _ topic: String) throws -> [(partition: Int32, start: Int64, end: Int64)] {
        try broker.describeTopic(topic).partitions.map { ($0.partition, $0.logStartOffset, $0.highWatermark) }
    }

    /// Three records a batch, four batches.
    private func topic(_ spool: EmbeddedBroker) async throws {
        _ = try spool.createTopic("letters")
        for batch in 0..<4 {
            _ = try await spool.send(topic: "letters", records: (0..<3).map { OutgoingRecord(key: nil, value: Array("r\(batch * 3 + $0)".utf8)) })
        }
    }

    @Test func aFetchErrorPartWayThroughFailsTheRead() async throws {
        let test = try JobsTestBroker()
        defer { test.stop() }
        try await topic(test.spool)
        let broker = test.spool.broker
        let calls = LockedValue(0)
        await #expect(throws: ClientError.self) {
            _ = try await EmbeddedTransport.readAll("letters", try partitions(broker, "letters")) { request in
                calls.withLock { $0 += 1 }
                var fetched = await broker.fetch([request], maxWaitMs: 0, minBytes: 1, maxBytes: 40)
                if calls.value == 2 {
                    fetched[0].error = .notLeaderOrFollower
                    fetched[0].records = nil
                }
                return fetched.first
            }
        }
        #expect(calls.value == 2)
    }

    @Test func aLogStartThatMovedPastTheReadIsReadOnFrom() async throws {
        let test = try JobsTestBroker()
        defer { test.stop() }
        try await topic(test.spool)
        let broker = test.spool.broker
        let calls = LockedValue(0)
        let records = try await EmbeddedTransport.readAll("letters", try partitions(broker, "letters")) { request in
            calls.withLock { $0 += 1 }
            // DeleteRecords moves the log start past the read after its first batch.
            if calls.value == 2 { _ = try? await broker.deleteRecords(topic: "letters", partition: 0, before: 6) }
            return await broker.fetch([request], maxWaitMs: 0, minBytes: 1, maxBytes: 40).first
        }
        #expect(records.map(\.offset) == [0, 1, 2, 6, 7, 8, 9, 10, 11])
    }
}
