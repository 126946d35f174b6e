import Dispatch
import SpoolBroker
import SpoolFormat
import SpoolSystem
import Testing

@Suite struct BrokerFetchTests {
    @Test func aParkedFetchIsWokenByNewDataWellBeforeItsDeadline() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 2)
        let started = monotonicNanoseconds()
        async let fetched = broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0),
                                          FetchPartitionRequest(TopicPartition("jobs", 1), fetchOffset: 0)],
                                         maxWaitMs: 10_000, minBytes: 1, maxBytes: 1 << 20)
        try await Task.sleep(for: .milliseconds(100))
        _ = try await broker.produce(topic: "jobs", partition: 1, records: batch("late"), acks: .all)
        let results = await fetched
        let waitedMs = (monotonicNanoseconds() - started) / 1_000_000
        #expect(waitedMs >= 100, "it waited for the data")
        #expect(waitedMs < 5_000, "woken by the flush, not by the 10 s deadline")
        #expect(results.count == 2, "every requested partition is answered")
        #expect(results[0].records?.isEmpty ?? true)
        #expect(results[1].records.map { !$0.isEmpty } == true)
        #expect(results[1].highWatermark == 2)
    }

    @Test func aFetchWithNothingToReadReturnsAtItsDeadline() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("quiet")
        let started = monotonicNanoseconds()
        let results = await broker.fetch([FetchPartitionRequest(TopicPartition("quiet", 0), fetchOffset: 0)], maxWaitMs: 200, minBytes: 1, maxBytes: 100)
        let waitedMs = (monotonicNanoseconds() - started) / 1_000_000
        #expect(waitedMs >= 190)
        #expect(results.first?.error == KafkaErrorCode.none)
        #expect(results.first?.records?.isEmpty ?? true)
    }

    @Test func fetchOutOfRangeAndListOffsets() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("a", count: 3), acks: .all)
        let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 9)], maxWaitMs: 0, minBytes: 1, maxBytes: 100)
        #expect(fetched.first?.error == .offsetOutOfRange)
        #expect(try broker.listOffset(topic: "jobs", partition: 0, timestamp: -2).offset == 0)
        #expect(try broker.listOffset(topic: "jobs", partition: 0, timestamp: -1).offset == 3)
        #expect(try broker.listOffset(topic: "jobs", partition: 0, timestamp: 1_764_370_000_001).offset == 1)
        #expect(try broker.listOffset(topic: "jobs", partition: 0, timestamp: 1_964_370_000_000).offset == -1)
    }
}
