@testable import SpoolBroker
import SpoolClient
import SpoolEmbedded
import SpoolFormat
import Testing

@Suite struct EmbeddedBrokerTests {
    static func open(_ data: TestDataDirectory) throws -> EmbeddedBroker {
        var config = data.config()
        // Two consumers started together must land in one generation: the second's first JoinGroup
        // has to arrive within the delay, and 100 ms is within reach of a task waiting for a thread
        // on a loaded machine.
        config.groupLimits.initialRebalanceDelayMs = 1_000
        config.groupLimits.tickMs = 10
        return EmbeddedBroker(broker: try Broker.open(config))
    }

    static var options: Consumer.Options {
        var options = Consumer.Options()
        options.heartbeatIntervalMs = 50
        options.pollWaitMs = 100
        return options
    }

    /// Polls until `count` records arrived or 10 s passed.
    static func receive(_ consumer: Consumer, count: Int) async throws -> [ConsumedRecord] {
        var records: [ConsumedRecord] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while records.count < count && ContinuousClock.now < deadline {
            let batch = try await consumer.poll()
            for record in batch { consumer.markConsumed(record) }
            records += batch
        }
        return records
    }

    @Test func keysGoWhereKafkaPutsThemAndSendsAreDurable() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var spool = try Self.open(data)
        try spool.createTopic("emails", partitions: 4)
        var placed: [String: Int32] = [:]
        for user in ["alice", "bob", "carol", "dave", "erin"] {
            let sent = try await spool.send(topic: "emails", key: user, value: "hello \(user)", headers: ["spool-job-id": "job-\(user)"])
            #expect(sent.partition == Partitioner.partition(forKey: Array(user.utf8), partitions: 4))
            placed[user] = sent.partition
        }
        let again = try await spool.send(topic: "emails", key: "alice", value: "second")
        #expect(again.partition == placed["alice"])
        #expect(again.offset == 1, "one key, one partition, in order")
        try spool.close()

        spool = try Self.open(data)
        let described = try spool.broker.describeTopic("emails")
        #expect(described.partitions.map(\.highWatermark).reduce(0, +) == 6)
        try spool.close()
    }

    /// Each record's answer is where it is: a duplicate by its idempotency key answers with where
    /// its key was first stored, and a new record beside it with its own place in the batch.
    @Test func duplicatesInABatchAnswerWithTheirOriginalsOffsets() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let spool = try Self.open(data)
        defer { try? spool.close() }
        try spool.createTopic("orders", partitions: 1)
        func record(_ value: String, id: String? = nil) -> OutgoingRecord {
            OutgoingRecord(key: "k", value: value, headers: id.map { ["spool-idempotency-key": $0] } ?? [:])
        }
        let first = try await spool.send(topic: "orders", records: [record("a", id: "a"), record("c"), record("b", id: "b")])
        #expect(first.map(\.offset) == [0, 1, 2])
        let again = try await spool.send(topic: "orders", records: [record("a", id: "a"), record("b", id: "b")])
        #expect(again.map(\.offset) == [0, 2], "both are duplicates: each answers with its original")
        let mixed = try await spool.send(topic: "orders", records: [record("b", id: "b"), record("d", id: "d")])
        #expect(mixed.map(\.offset) == [2, 4], "b's original, and d after the gap its duplicate left")
        let fetched = await spool.broker.fetch([FetchPartitionRequest(TopicPartition("orders", 0), fetchOffset: 4)], maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        let records = try #require(fetched.first?.records).withUnsafeBytes { FetchedRecords(decoding: $0, topic: "orders", partition: 0, from: 4) }.records
        #expect(records.first.map { ($0.offset, $0.valueString) } ?? (-1, nil) == (4, "d"))
    }

    /// A batch that cannot be read (a compressed one that does not decompress, stored before the
    /// broker read produced batches' records) used to be skipped without a word: the records after
    /// it were handed out and committed past the ones never read.
    @Test func aConsumerStopsAtAnUnreadableBatchAndSaysSo() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let spool = try Self.open(data)
        defer { try? spool.close() }
        try spool.createTopic("jobs", partitions: 1)
        _ = try await spool.send(topic: "jobs", records: [OutgoingRecord(key: "a", value: "first"), OutgoingRecord(key: "a", value: "second")])
        // Plain records under the zstd flag, appended past the produce path's checks.
        let unreadable = RecordBatch(producing: [ProducerRecord(value: Array("unreadable".utf8), timestamp: 1_000)], attributes: BatchAttributes(compression: .zstd)).encoded()
        _ = try unreadable.withUnsafeBytes { raw in try spool.broker.partition("jobs", 0).append(raw) }
        _ = try await spool.send(topic: "jobs", key: "a", value: "after")

        let consumer = try await spool.consumer(group: "g", topics: ["jobs"], options: Self.options)
        let first = try await Self.receive(consumer, count: 2)
        #expect(first.map(\.valueString) == ["first", "second"])
        var failure: ClientError?
        let deadline = ContinuousClock.now + .seconds(10)
        while failure == nil && ContinuousClock.now < deadline {
            do {
                let more = try await consumer.poll()
                #expect(more.isEmpty, "nothing past the unreadable batch is handed out: \(more.map(\.offset))")
            } catch { failure = error }
        }
        #expect(failure?.description.contains("the batch at offset 2 of jobs[0] cannot be read: records compressed with zstd do not inflate") == true)
        try await consumer.commit()
        #expect(spool.broker.committedOffsets(group: "g", partitions: [TopicPartition("jobs", 0)])[TopicPartition("jobs", 0)]?.offset == 2)
        await consumer.close()
    }

    @Test func aGroupSharesPartitionsCommitsAndResumesAfterARestart() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var spool = try Self.open(data)
        try spool.createTopic("jobs", partitions: 4)
        let records = (0..<200).map { OutgoingRecord(key: "user-\($0 % 37)", value: "job-\($0)") }
        _ = try await spool.send(topic: "jobs", records: records)

        let members = spool
        async let first = members.consumer(group: "workers", topics: ["jobs"], options: Self.options)
        async let second = members.consumer(group: "workers", topics: ["jobs"], options: Self.options)
        let (a, b) = try await (first, second)
        #expect(a.generation == b.generation)
        #expect(Set(a.assignment).isDisjoint(with: Set(b.assignment)))
        #expect(Set(a.assignment + b.assignment) == Set((0..<4).map { TopicPartition("jobs", Int32($0)) }))

        var received: [ConsumedRecord] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while received.count < 200 && ContinuousClock.now < deadline {
            for consumer in [a, b] {
                let batch = try await consumer.poll()
                for record in batch { consumer.markConsumed(record) }
                received += batch
            }
        }
        #expect(received.count == 200)
        #expect(Set(received.map { $0.valueString ?? "" }).count == 200, "each record exactly once across the group")
        for record in received where record.keyString == "user-5" {
            #expect(record.partition == Partitioner.partition(forKey: Array("user-5".utf8), partitions: 4))
        }
        try await a.commit()
        try await b.commit()
        let report = spool.broker.describeGroup("workers")
        #expect(report.state == .stable)
        #expect(report.members.count == 2)
        #expect(report.totalLag == 0)
        await a.close()
        await b.close()

        _ = try await spool.send(topic: "jobs", records: (0..<10).map { OutgoingRecord(key: "user-\($0)", value: "late-\($0)") })
        try spool.close()

        spool = try Self.open(data)
        #expect(spool.broker.describeGroup("workers").totalLag == 10, "committed offsets and lag survive the restart")
        let resumed = try await spool.consumer(group: "workers", topics: ["jobs"], options: Self.options)
        let rest = try await Self.receive(resumed, count: 10)
        #expect(Set(rest.compactMap(\.valueString)) == Set((0..<10).map { "late-\($0)" }), "resumes at the committed offsets")
        try await resumed.commit()
        #expect(spool.broker.describeGroup("workers").totalLag == 0)
        await resumed.close()
        try spool.close()
    }

    @Test func theRecordsSequenceHandsOutRecordsAndCommitsWhatWasHandedOut() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let spool = try Self.open(data)
        defer { try? spool.close() }
        _ = try await spool.send(topic: "events", records: (0..<5).map { OutgoingRecord(key: nil, value: "e\($0)") })
        let consumer = try await spool.consumer(group: "readers", topics: ["events"], options: Self.options)
        var seen: [String] = []
        for try await record in consumer.records {
            seen.append(record.valueString ?? "")
            if seen.count == 3 { break }
        }
        try await consumer.commit()
        #expect(seen == ["e0", "e1", "e2"])
        #expect(spool.broker.committedOffsets(group: "readers")[TopicPartition("events", 0)]?.offset == 3)
        await consumer.close()
    }

    @Test func badInputIsAClearError() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var config = data.config()
        config.autoCreateTopics = false
        let spool = EmbeddedBroker(broker: try Broker.open(config))
        defer { try? spool.close() }
        await #expect(throws: BrokerError.unknownTopicOrPartition(topic: "nope", partition: nil)) {
            _ = try await spool.send(topic: "nope", key: "k", value: "v")
        }
        try spool.createTopic("one", partitions: 1)
        await #expect(throws: BrokerError.unknownTopicOrPartition(topic: "one", partition: 3)) {
            _ = try await spool.send(topic: "one", records: [OutgoingRecord(key: nil, value: [1], partition: 3)])
        }
        await #expect(throws: ClientError.invalidArgument("the group id is empty")) { _ = try await spool.consumer(group: "", topics: ["one"]) }
    }
}
