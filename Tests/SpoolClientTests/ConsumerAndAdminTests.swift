import SpoolClient
import SpoolFormat
import Synchronization
import Testing

@Suite struct ConsumerAndAdminTests {
    @Test func aGroupSharesPartitionsCommitsAndANewMemberResumes() async throws {
        let server = try ClientTestServer()
        defer { server.stop() }
        let client = try server.client()
        defer { client.close() }
        try await client.createTopic("jobs", partitions: 4)
        let producer = Producer(client: client)
        for index in 0..<200 { _ = try await producer.send(topic: "jobs", key: "k\(index % 17)", value: "job-\(index)") }

        var options = Consumer.Options()
        options.pollWaitMs = 100
        options.heartbeatIntervalMs = 100
        let first = try Consumer(client: client, group: "workers", topics: ["jobs"], options: options)
        let second = try Consumer(client: client, group: "workers", topics: ["jobs"], options: options)
        async let a = first.poll()
        async let b = second.poll()
        var seen = try await a + b
        for _ in 0..<1_000 where seen.count < 200 {
            for consumer in [first, second] {
                let batch = try await consumer.poll()
                seen += batch
            }
        }
        #expect(Set(first.assignment).isDisjoint(with: Set(second.assignment)))
        #expect(Set(first.assignment + second.assignment).count == 4)
        #expect(seen.count == 200)
        #expect(Set(seen.compactMap(\.valueString)).count == 200)
        for record in seen { (first.assignment.contains(record.topicPartition) ? first : second).markConsumed(record) }
        try await first.commit()
        try await second.commit()
        let report = try await client.describeGroup("workers")
        #expect(report.members.count == 2)
        #expect(report.totalLag == 0)
        await first.close()
        await second.close()

        for index in 0..<10 { _ = try await producer.send(topic: "jobs", key: "k\(index)", value: "late-\(index)") }
        #expect(try await client.describeGroup("workers").totalLag == 10)
        let resumed = try Consumer(client: client, group: "workers", topics: ["jobs"], options: options)
        var rest: [ConsumedRecord] = []
        for try await record in resumed.records {
            rest.append(record)
            if rest.count == 10 { break }
        }
        try await resumed.commit()
        #expect(Set(rest.compactMap(\.valueString)) == Set((0..<10).map { "late-\($0)" }))
        #expect(try await client.describeGroup("workers").totalLag == 0)
        await resumed.close()
    }

    @Test func aStandaloneConsumerReadsEveryPartitionAndCanPause() async throws {
        let server = try ClientTestServer()
        defer { server.stop() }
        let client = try server.client()
        defer { client.close() }
        try await client.createTopic("logs", partitions: 2)
        let producer = Producer(client: client)
        for index in 0..<20 { _ = try await producer.send(topic: "logs", key: nil, value: "line-\(index)") }
        var options = Consumer.Options()
        options.pollWaitMs = 50
        let consumer = try Consumer(client: client, group: nil, topics: ["logs"], options: options)
        consumer.pause([TopicPartition("logs", 1)])
        var seen: [ConsumedRecord] = []
        for _ in 0..<5 { seen += try await consumer.poll() }
        #expect(seen.allSatisfy { $0.partition == 0 })
        #expect(seen.count == 10)
        consumer.resume([TopicPartition("logs", 1)])
        for _ in 0..<5 { seen += try await consumer.poll() }
        #expect(seen.count == 20)
        await consumer.close()
    }

    @Test func adminCreatesListsDescribesAndDeletesTopics() async throws {
        let server = try ClientTestServer()
        defer { server.stop() }
        let client = try server.client()
        defer { client.close() }
        try await client.createTopic("alpha", partitions: 3, configs: ["retention.ms": "60000"])
        try await client.createTopic("beta")
        await #expect { try await client.createTopic("alpha") } throws: { error in
            guard case .kafka(code: 36, _) = error as? ClientError else { return false }
            return true
        }
        await #expect { try await client.createTopic("bad name") } throws: { error in
            guard case .kafka(code: 17, _) = error as? ClientError else { return false }
            return true
        }
        let listed = try await client.listTopics()
        #expect(listed.map(\.name) == ["alpha", "beta"])
        #expect(listed.map(\.partitions) == [3, 1])
        let producer = Producer(client: client)
        _ = try await producer.send(topic: "alpha", key: nil, value: Array("x".utf8), partition: 2)
        let described = try await client.describeTopic("alpha")
        #expect(described.partitions.map(\.endOffset) == [0, 0, 1])
        try await client.deleteTopic("beta")
        #expect(try await client.listTopics().map(\.name) == ["alpha"])
        await #expect { try await client.deleteTopic("beta") } throws: { error in
            guard case .kafka(code: 3, _) = error as? ClientError else { return false }
            return true
        }
    }
}

@Suite struct ConsumerCallbackTests {
    @Test func rebalanceCallbacksAndAutomaticCommits() async throws {
        let server = try ClientTestServer()
        defer { server.stop() }
        let client = try server.client()
        defer { client.close() }
        try await client.createTopic("events", partitions: 2)
        let producer = Producer(client: client)
        for index in 0..<40 { _ = try await producer.send(topic: "events", key: "k\(index)", value: "e\(index)") }

        let calls = CallLog()
        var options = Consumer.Options()
        options.pollWaitMs = 50
        options.heartbeatIntervalMs = 100
        options.autoCommit = true
        options.autoCommitIntervalMs = 1
        options.onAssigned = { calls.add("assigned \($0.sorted())") }
        options.onRevoked = { calls.add("revoked \($0.sorted())") }
        let consumer = try Consumer(client: client, group: "auto", topics: ["events"], options: options)
        var seen = 0
        for try await _ in consumer.records {
            seen += 1
            if seen == 40 { break }
        }
        #expect(calls.entries == ["assigned [events[0], events[1]]"])
        // Auto-commit on the next poll and on close: everything handed out is committed.
        _ = try await consumer.poll()
        await consumer.close()
        #expect(try await client.describeGroup("auto").totalLag == 0)

        // A second member makes the first give up a partition: revoked, then assigned again.
        let first = try Consumer(client: client, group: "shared", topics: ["events"], options: options)
        _ = try await first.poll()
        #expect(first.assignment.count == 2)
        let second = try Consumer(client: client, group: "shared", topics: ["events"], options: options)
        async let joining: [ConsumedRecord] = second.poll()
        // Bounded by polls, not by time: each poll waits at most 50 ms for records, and the loop
        // ends as soon as the rebalance has happened, however long a loaded machine takes to get there.
        for _ in 0..<2_000 where first.assignment.count == 2 || !calls.entries.contains(where: { $0.hasPrefix("revoked") }) {
            _ = try await first.poll()
        }
        _ = try await joining
        #expect(calls.entries.contains("revoked [events[0], events[1]]"))
        #expect(first.assignment.count == 1)
        #expect(Set(first.assignment + second.assignment) == [TopicPartition("events", 0), TopicPartition("events", 1)])
        await first.close()
        await second.close()
    }
}

@Suite struct AutoCommitRejoinTests {
    /// As Kafka's consumer does before it rejoins: with auto-commit, what was handed out is
    /// committed while this member still owns it, so the member that gets a partition next does
    /// not run its records again, however long the auto-commit interval.
    @Test func aRejoinCommitsWhatWasHandedOutFirst() async throws {
        let server = try ClientTestServer()
        defer { server.stop() }
        let client = try server.client()
        defer { client.close() }
        try await client.createTopic("events", partitions: 2)
        let producer = Producer(client: client)
        for index in 0..<40 { _ = try await producer.send(topic: "events", key: "k\(index)", value: "e\(index)") }

        var options = Consumer.Options()
        options.pollWaitMs = 50
        options.heartbeatIntervalMs = 100
        options.autoCommit = true
        options.autoCommitIntervalMs = 600_000
        let first = try Consumer(client: client, group: "rejoin", topics: ["events"], options: options)
        var seen = 0
        for try await _ in first.records {
            seen += 1
            if seen == 40 { break }
        }
        #expect(first.assignment.count == 2)
        let second = try Consumer(client: client, group: "rejoin", topics: ["events"], options: options)
        async let joining: [ConsumedRecord] = second.poll()
        for _ in 0..<2_000 where first.assignment.count == 2 { _ = try await first.poll() }
        var again = try await joining
        for _ in 0..<5 { again += try await second.poll() }
        #expect(first.assignment.count == 1 && second.assignment.count == 1)
        #expect(again.isEmpty, "the partition's new owner got \(again.count) records the first member had handed out")
        let committed = try await second.committed([TopicPartition("events", 0), TopicPartition("events", 1)])
        #expect(committed.values.map(\.offset).reduce(0, +) == 40, "committed \(committed)")
        await first.close()
        await second.close()
    }
}

/// Callback calls, recorded from whatever thread they run on.
final class CallLog: Sendable {
    private let log = Mutex([String]())
    func add(_ entry: String) { log.withLock { $0.append(entry) } }
    var entries: [String] { log.withLock { $0 } }
}
