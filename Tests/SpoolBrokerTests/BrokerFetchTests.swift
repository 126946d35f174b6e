import Dispatch
import Foundation
import SpoolBroker
import SpoolFormat
import SpoolSystem
import SpoolTestSupport
import Testing

@Suite struct BrokerFetchTests {
    @Test func aParkedFetchIsWokenByNewDataWellBeforeItsDeadline() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try openWithTenMinuteFetchWaits(data)
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 2)
        // The deadline is ten minutes away: a fetch that answers at all was woken by the data.
        let fetched = Task {
            await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0),
                                FetchPartitionRequest(TopicPartition("jobs", 1), fetchOffset: 0)],
                               maxWaitMs: 600_000, minBytes: 1, maxBytes: 1 << 20)
        }
        try #require(await GroupTest.eventually { broker.metrics.fetchesParked.load(ordering: .relaxed) == 1 }, "the fetch parks")
        #expect(broker.metrics.fetchDeadlinesArmed.load(ordering: .relaxed) == 1)
        _ = try await broker.produce(topic: "jobs", partition: 1, records: batch("late"), acks: .all)
        let results = try #require(await GroupTest.within(60_000) { await fetched.value }, "the produce woke the parked fetch")
        #expect(broker.metrics.fetchesParked.load(ordering: .relaxed) == 0)
        #expect(broker.metrics.fetchDeadlinesArmed.load(ordering: .relaxed) == 0, "the ten-minute timer went with the fetch it bounded")
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
        #expect(broker.metrics.fetchDeadlinesArmed.load(ordering: .relaxed) == 0, "a timer that fired is settled too")
        #expect(results.first?.error == KafkaErrorCode.none)
        #expect(results.first?.records?.isEmpty ?? true)
    }

    @Test func aFetchShortOfMinBytesParksOnceRatherThanRereadingUntilItsDeadline() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("early"), acks: .all)
        // Visible data, but far less than MinBytes: the fetch waits out its deadline. The data
        // already read must not wake it, or it re-reads in a loop for the whole wait.
        let results = await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0)],
                                         maxWaitMs: 300, minBytes: 65_536, maxBytes: 1 << 20)
        let parks = broker.metrics.fetchParks.load(ordering: .relaxed)
        // Once; twice at most should the deadline timer fire a hair before the clock reads the deadline.
        #expect((1...2).contains(parks), "parked \(parks) times")
        #expect(results.first?.records?.count == batch("early").count, "what there is comes at the deadline")
        #expect(broker.metrics.fetchesParked.load(ordering: .relaxed) == 0)
    }

    @Test func aFetchReadFromAnOlderSegmentThanTheHighWatermarksIsAnsweredAtOnce() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try openWithTenMinuteFetchWaits(data)
        defer { try? broker.close() }
        // Segments of one batch each (128 bytes, under two): a read returns batches of one segment only.
        try broker.createTopic("jobs", configs: ["segment.bytes": "128"])
        for value in ["a", "b", "c"] { _ = try await broker.produce(topic: "jobs", partition: 0, records: batch(value), acks: .all) }
        // Short of MinBytes, but the records past the first segment are visible already: nothing
        // new will come to wake it, so it answers at once (as Kafka's DelayedFetch), not after ten minutes.
        let results = try #require(await GroupTest.within(60_000) {
            await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0)],
                               maxWaitMs: 600_000, minBytes: 1 << 20, maxBytes: 1 << 20)
        }, "the fetch waited for its deadline")
        #expect(results.first?.records?.count == batch("a").count)
        #expect(broker.metrics.fetchParks.load(ordering: .relaxed) == 0)
        // At the high watermark it waits as before.
        let end = try #require(results.first?.highWatermark)
        let last = await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: end)], maxWaitMs: 300, minBytes: 1 << 20, maxBytes: 1 << 20)
        #expect(last.first?.records?.isEmpty ?? true)
        #expect(broker.metrics.fetchParks.load(ordering: .relaxed) >= 1)
    }

    @Test func aFetchShortOfMinBytesIsCompletedByTheProduceThatMakesThemUp() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try openWithTenMinuteFetchWaits(data)
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        let batchBytes = batch("a").count
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("a"), acks: .all)
        // The deadline is ten minutes away: a fetch that answers at all was completed by the data.
        let fetched = Task {
            await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0)],
                               maxWaitMs: 600_000, minBytes: 2 * batchBytes + 1, maxBytes: 1 << 20)
        }
        try #require(await GroupTest.eventually { broker.metrics.fetchesParked.load(ordering: .relaxed) == 1 }, "the fetch parks")
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("b"), acks: .all)
        let reparked = await GroupTest.eventually {
            broker.metrics.fetchParks.load(ordering: .relaxed) == 2 && broker.metrics.fetchesParked.load(ordering: .relaxed) == 1
        }
        try #require(reparked, "woken by a produce that leaves it short of MinBytes, it parks again (parks: \(broker.metrics.fetchParks.load(ordering: .relaxed)))")
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("c"), acks: .all)
        let results = try #require(await GroupTest.within(60_000) { await fetched.value }, "the produce that made up MinBytes completed the fetch")
        #expect(results.first?.records?.count == 3 * batchBytes)
        #expect(broker.metrics.fetchParks.load(ordering: .relaxed) == 2)
        #expect(broker.metrics.fetchDeadlinesArmed.load(ordering: .relaxed) == 0)
    }

    /// Kafka answers a fetch once the bytes it read reach MinBytes or, when they do not, once
    /// the bytes visible to each partition's read (from its fetch offset to its high watermark,
    /// up to the partition's MaxBytes) add up to MinBytes (`DelayedFetch.tryComplete`), whatever
    /// the fetch's MaxBytes let the answer carry. Counting only the bytes read, a fetch whose
    /// MinBytes exceeds its MaxBytes sat out its deadline however much data there was.
    @Test func aFetchWhoseMinBytesExceedsItsMaxBytesIsAnsweredAtOnceWhenThePartitionsHoldMinBytes() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try await jobs(data, holding: [["a", "b", "c"], ["d"]])
        defer { try? broker.close() }
        let batchBytes = batch("a").count
        // MaxBytes takes one batch, so partition 1 is skipped; the four batches make up MinBytes.
        let requests = [FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0), FetchPartitionRequest(TopicPartition("jobs", 1), fetchOffset: 0)]
        let results = try #require(await GroupTest.within(60_000) {
            await broker.fetch(requests, maxWaitMs: 600_000, minBytes: 4 * batchBytes, maxBytes: batchBytes)
        }, "the fetch waited for its deadline")
        #expect(results.map { $0.records?.count ?? 0 } == [batchBytes, 0], "the answer stays within MaxBytes")
        #expect(results.allSatisfy { $0.error == KafkaErrorCode.none })
        #expect(broker.metrics.fetchParks.load(ordering: .relaxed) == 0)

        // Each partition counts no more than its own MaxBytes: one batch each is short of MinBytes.
        let capped = requests.map { FetchPartitionRequest($0.topicPartition, fetchOffset: 0, maxBytes: batchBytes) }
        let waited = await broker.fetch(capped, maxWaitMs: 300, minBytes: 3 * batchBytes, maxBytes: 1 << 20)
        #expect(waited.map { $0.records?.count ?? 0 } == [batchBytes, batchBytes])
        #expect(broker.metrics.fetchParks.load(ordering: .relaxed) >= 1, "a fetch short of MinBytes answered without waiting")
    }

    /// Kafka's DelayedFetch keeps where its first read placed the fetch offset
    /// (`FetchPartitionStatus.startOffsetMetadata`; at the high watermark, the high watermark's
    /// place) and completes once the high watermark is in a later segment than that
    /// (`DelayedFetch.tryComplete`, Case F), whatever MinBytes asks: a fetch parked at the end of
    /// a segment is answered by the first records appended to the next one.
    @Test func aFetchParkedAtTheEndOfASegmentIsAnsweredByRecordsInTheNext() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try openWithTenMinuteFetchWaits(data)
        defer { try? broker.close() }
        // Segments of one batch each (128 bytes, under two): the next append rolls.
        try broker.createTopic("jobs", configs: ["segment.bytes": "128"])
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("a"), acks: .all)
        let fetched = try await parked(broker, [FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 2)], minBytes: 1 << 20)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("b"), acks: .all)
        let results = try #require(await GroupTest.within(20_000) { await fetched.value }, "the records in the new segment did not answer the fetch")
        #expect(results.first?.records?.count == batch("b").count)
        #expect(broker.metrics.fetchParks.load(ordering: .relaxed) == 1)
    }

    /// Once parked, Kafka counts towards MinBytes at most each partition's MaxBytes of the bytes
    /// from its fetch offset to its high watermark (`DelayedFetch.tryComplete`), not the bytes a
    /// read returns: a first batch larger than the partition's MaxBytes, which a read returns
    /// whole, counts as MaxBytes. Only the first read answers with the bytes it read
    /// (`ReplicaManager.fetchMessages`).
    @Test func aParkedFetchCountsNoMoreThanEachPartitionsMaxBytes() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try openWithTenMinuteFetchWaits(data)
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 2)
        let fetched = try await parked(broker, [FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0, maxBytes: 100),
                                                FetchPartitionRequest(TopicPartition("jobs", 1), fetchOffset: 0, maxBytes: 100)], minBytes: 150)
        let big = batch("big", count: 1, valueBytes: 300)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: big, acks: .all)
        let reparked = await GroupTest.eventually {
            broker.metrics.fetchParks.load(ordering: .relaxed) == 2 && broker.metrics.fetchesParked.load(ordering: .relaxed) == 1
        }
        #expect(reparked, "a batch of \(big.count) bytes counted for more than the partition's MaxBytes of 100")
        // 100 bytes of each partition make up MinBytes.
        _ = try await broker.produce(topic: "jobs", partition: 1, records: big, acks: .all)
        let results = try #require(await GroupTest.within(20_000) { await fetched.value }, "two partitions' MaxBytes did not make up MinBytes")
        #expect(results.first?.records?.count == big.count, "the read returns the first batch whole")
    }

    /// A log that failed (a flush did) answers a parked fetch at once, as Kafka's DelayedFetch
    /// completes for a partition in an offline log directory (`DelayedFetch.tryComplete`, Case
    /// D), with KAFKA_STORAGE_ERROR for it (`ReplicaManager.readFromLog`). It woke the fetch,
    /// and a fetch that parked again would be woken again at once until its deadline.
    @Test func aParkedFetchIsAnsweredOnceWhenItsLogFails() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var config = data.config()
        config.fetchWaitMaxMs = 600_000
        let disk = FaultInjectingFileSystem()
        let broker = try Broker.open(config, fileSystem: disk)
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        let fetched = try await parked(broker, [FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0)], minBytes: 1)
        disk.inject(.dataSync, errno: EIO)
        await #expect(throws: BrokerError.self) { try await broker.produce(topic: "jobs", partition: 0, records: batch("lost"), acks: .all) }
        let results = try #require(await GroupTest.within(20_000) { await fetched.value }, "the failed log did not answer the fetch")
        #expect(results.first?.error == .kafkaStorageError)
        #expect(broker.metrics.fetchParks.load(ordering: .relaxed) == 1)
    }

    /// Kafka reads every requested partition, those that MaxBytes leaves no room for with 0 bytes,
    /// so their errors are answered too (and answer the fetch at once).
    @Test func aPartitionMaxBytesLeavesNoRoomForIsStillReadForItsErrors() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try await jobs(data, holding: [["a"], ["b"]])
        defer { try? broker.close() }
        let results = try #require(await GroupTest.within(60_000) {
            await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0),
                                FetchPartitionRequest(TopicPartition("jobs", 1), fetchOffset: 9)],
                               maxWaitMs: 600_000, minBytes: 1 << 20, maxBytes: 1)
        }, "the fetch waited for its deadline")
        #expect(results.map(\.error) == [KafkaErrorCode.none, .offsetOutOfRange])
        #expect(results.first?.records?.count == batch("a").count)
    }

    @Test(arguments: [0, -1])
    func aFetchWithMinBytesOfNothingAnswersAtOnce(minBytes: Int) async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("a"), acks: .all)
        // At the high watermark there is nothing to read, and nothing is what MinBytes asks for:
        // Kafka answers at once (0 bytes readable >= MinBytes 0), not at the 5 s deadline.
        let started = monotonicNanoseconds()
        let results = await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 2)],
                                         maxWaitMs: 5_000, minBytes: minBytes, maxBytes: 1 << 20)
        let waitedMs = (monotonicNanoseconds() - started) / 1_000_000
        #expect(broker.metrics.fetchParks.load(ordering: .relaxed) == 0, "it never parked")
        #expect(waitedMs < 2_000, "answered after \(waitedMs) ms")
        #expect(results.first?.error == KafkaErrorCode.none)
        #expect(results.first?.records?.isEmpty ?? true)
        #expect(results.first?.highWatermark == 2)
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
        // The answer carries the found record's timestamp, not the one asked for.
        #expect(try broker.listOffset(topic: "jobs", partition: 0, timestamp: 5) == (0, 1_764_370_000_000))
        #expect(try broker.listOffset(topic: "jobs", partition: 0, timestamp: 1_964_370_000_000).offset == -1)
    }

    @Test func onlyTheFirstPartitionWithDataMayExceedMaxBytes() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("big", partitions: 3)
        for partition in Int32(0)..<3 {
            _ = try await broker.produce(topic: "big", partition: partition, records: batch("p\(partition)", count: 1, valueBytes: 600_000), acks: .all)
            _ = try await broker.produce(topic: "big", partition: partition, records: batch("q\(partition)", count: 1, valueBytes: 100), acks: .all)
        }
        let requests = (Int32(0)..<3).map { FetchPartitionRequest(TopicPartition("big", $0), fetchOffset: 0, maxBytes: 1 << 20) }
        let results = await broker.fetch(requests, maxWaitMs: 0, minBytes: 1, maxBytes: 1_000_000)
        let sizes = results.map { $0.records?.count ?? 0 }
        #expect(sizes.reduce(0, +) <= 1_000_000, "the answer stays within fetch max bytes: \(sizes)")
        #expect(sizes[0] > 600_000, "the first partition gets its large batch and the small one after it")
        #expect(sizes[1] == 0 && sizes[2] == 0, "later partitions get nothing that does not fit: \(sizes)")
        #expect(results.allSatisfy { $0.error == KafkaErrorCode.none })

        // A budget smaller than the first batch still returns it, so the consumer makes progress.
        let small = await broker.fetch([FetchPartitionRequest(TopicPartition("big", 1), fetchOffset: 0, maxBytes: 1000)],
                                       maxWaitMs: 0, minBytes: 1, maxBytes: 1000)
        #expect((small.first?.records?.count ?? 0) > 600_000)
        // And once the first partition is empty, the next one may exceed it.
        let skipFirst = await broker.fetch([FetchPartitionRequest(TopicPartition("big", 0), fetchOffset: 2),
                                            FetchPartitionRequest(TopicPartition("big", 2), fetchOffset: 0, maxBytes: 1000)],
                                           maxWaitMs: 0, minBytes: 1, maxBytes: 1000)
        #expect(skipFirst.map { $0.records?.count ?? 0 }[1] > 600_000)
    }

    /// `requests` fetched with a ten-minute wait, once the fetch is parked: one that answers
    /// within a test was answered by what happened to its partitions, not by its deadline.
    private func parked(_ broker: Broker, _ requests: [FetchPartitionRequest], minBytes: Int) async throws -> Task<[FetchedPartition], Never> {
        let fetched = Task { await broker.fetch(requests, maxWaitMs: 600_000, minBytes: minBytes, maxBytes: 1 << 20) }
        try #require(await GroupTest.eventually { broker.metrics.fetchesParked.load(ordering: .relaxed) == 1 }, "the fetch parks")
        return fetched
    }

    /// A broker as `openWithTenMinuteFetchWaits` opens it, with topic "jobs" whose partition N
    /// holds a batch for each value of `values[N]`.
    private func jobs(_ data: TestDataDirectory, holding values: [[String]]) async throws -> Broker {
        let broker = try openWithTenMinuteFetchWaits(data)
        do {
            try broker.createTopic("jobs", partitions: values.count)
            for (partition, batches) in values.enumerated() {
                for value in batches { _ = try await broker.produce(topic: "jobs", partition: Int32(partition), records: batch(value), acks: .all) }
            }
            return broker
        } catch {
            try? broker.close()
            throw error
        }
    }

    /// A broker that lets a fetch park ten minutes: a parked fetch that answers within a test was
    /// answered by data, never by its deadline, however slow the machine.
    private func openWithTenMinuteFetchWaits(_ data: TestDataDirectory) throws -> Broker {
        var config = data.config()
        config.fetchWaitMaxMs = 600_000
        return try Broker.open(config)
    }
}
