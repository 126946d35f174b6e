import Foundation
import SpoolBroker
import SpoolFormat
import Testing

/// A held record becomes readable when it is delivered, and retention must count from then, as it
/// would for a record produced at that time: one held longer than its topic's `retention.ms`
/// kept its produce timestamp and was deleted by the next retention passes after it arrived.
@Suite struct HeldRecordsRetentionTests {
    /// The first record of the partition: its timestamp and headers.
    private func firstRecord(_ broker: Broker, _ topic: String) async throws -> (timestamp: Int64, headers: [RecordHeader])? {
        let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition(topic, 0), fetchOffset: 0)], maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        guard let slice = fetched.first?.records, !slice.isEmpty else { return nil }
        var first: (Int64, [RecordHeader])?
        try slice.forEachBatch { bytes in
            let decoded = try RecordBatch(decoding: bytes)
            if first == nil, let record = decoded.records.first { first = (decoded.timestamp(of: record), record.headers) }
        }
        return first
    }

    @Test("a record held longer than its topic's retention.ms is kept by retention after it is delivered, its produce time in a header")
    func aRecordHeldPastTheRetentionIsKeptAfterDelivery() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        let day = 86_400_000
        try broker.createTopic("jobs", partitions: 1, configs: ["retention.ms": String(7 * day)])
        let producedAt = clock.nowMs
        let held = ProducerRecord(key: nil, value: Array("in eight days".utf8),
                                  headers: [RecordHeader(SpoolHeaders.deliverAt, String(producedAt + Int64(8 * day)))], timestamp: producedAt)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: RecordBatch(producing: [held]).encoded(), acks: .all)
        clock.advance(ms: 8 * day)
        broker.clockMoved()
        #expect(try await waitForValues(broker, "jobs", count: 1, timeoutMs: 5_000) == ["in eight days"])
        // Two passes: the first rolls an expired active segment, the second deletes it.
        broker.enforceRetention()
        broker.enforceRetention()
        #expect(try await values(broker, "jobs") == ["in eight days"], "retention deleted the record just delivered")
        let delivered = try #require(try await firstRecord(broker, "jobs"))
        #expect(delivered.timestamp == clock.nowMs, "the delivered record's timestamp is when it was delivered")
        #expect(delivered.headers.first { $0.key == SpoolHeaders.producedAt }?.value == Array(String(producedAt).utf8),
                "the time it was produced is kept")
    }
}
