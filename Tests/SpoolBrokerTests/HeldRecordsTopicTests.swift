import Foundation
import SpoolBroker
import SpoolFormat
import Testing

/// `__spool_delayed`: the delay log, readable as a topic (Metadata, ListOffsets, Fetch) and
/// closed to every write.
@Suite struct HeldRecordsTopicTests {
    @Test("held records and delivered markers are readable as __spool_delayed; producing to it or creating it fails")
    func readableNotWritable() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        let broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 2)
        let due = clock.nowMs + 60_000
        let held = ProducerRecord(key: Array("k".utf8), value: Array("later".utf8),
                                  headers: [RecordHeader(SpoolHeaders.deliverAt, String(due))], timestamp: clock.nowMs)
        _ = try await broker.produce(topic: "jobs", partition: 1, records: RecordBatch(producing: [held]).encoded(), acks: .all)

        let description = try broker.describeTopic(Broker.heldRecordsTopic)
        #expect(description.partitions.count == 1 && description.partitions[0].highWatermark == 1)
        #expect(try broker.ensureTopic(Broker.heldRecordsTopic) == description)
        #expect(try broker.listOffset(topic: Broker.heldRecordsTopic, partition: 0, timestamp: -1).offset == 1)
        let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition(Broker.heldRecordsTopic, 0), fetchOffset: 0)],
                                         maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        #expect(fetched[0].error == .none)
        var records: [Record] = []
        try fetched[0].records?.forEachBatch { records += try RecordBatch(decoding: $0).records }
        #expect(records.count == 1)
        #expect(records.first?.headerString(SpoolHeaders.heldTopic) == "jobs")
        #expect(records.first?.headerString(SpoolHeaders.heldPartition) == "1")
        #expect(records.first?.headerString(SpoolHeaders.deliverAt) == String(due))
        let outside = await broker.fetch([FetchPartitionRequest(TopicPartition(Broker.heldRecordsTopic, 1), fetchOffset: 0)],
                                         maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        #expect(outside[0].error == .unknownTopicOrPartition)

        await #expect(throws: BrokerError.self) {
            try await broker.produce(topic: Broker.heldRecordsTopic, partition: 0, records: RecordBatch(producing: [held]).encoded(), acks: .all)
        }
        #expect(throws: BrokerError.self) { try broker.createTopic(Broker.heldRecordsTopic) }
        #expect(!broker.listTopics().map(\.name).contains(Broker.heldRecordsTopic))
    }
}
