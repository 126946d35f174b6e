import Foundation
import SpoolBroker
import SpoolFormat
@testable import SpoolServer
import Testing

/// The console's history: the rates the Jobs page shows.
@Suite struct ConsoleHistoryTests {
    @Test("a topic's records stored and a group's commits on it are rates per second over the kept samples; one sample is no rate")
    func ratesFollowStoredRecordsAndCommits() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let broker = try Broker.open(BrokerConfig(dataDirectory: data))
        defer { try? broker.close() }
        try broker.createTopic("emails", partitions: 1)
        let history = ConsoleHistory(broker: broker, latency: nil)
        let emails = TopicPartition("emails", 0)
        history.sample()
        #expect(history.storedPerSecond(topic: "emails") == nil, "one sample")

        let batch = RecordBatch(producing: (0..<10).map { _ in ProducerRecord(key: nil, value: Array("hello".utf8), timestamp: 1) }).encoded()
        _ = try await broker.produce(topic: "emails", partition: 0, records: batch, acks: .leader)
        try await broker.commitOffsets(group: "mailers", generationId: -1, memberId: "", offsets: [emails: CommittedOffset(offset: 4, metadata: "")])
        try await Task.sleep(for: .milliseconds(20))
        history.sample()
        let stored = try #require(history.storedPerSecond(topic: "emails"))
        #expect(stored > 0, "10 records stored since the first sample")
        #expect(history.committedPerSecond(group: "mailers", topic: "emails") == nil, "one sample with a commit")

        try await broker.commitOffsets(group: "mailers", generationId: -1, memberId: "", offsets: [emails: CommittedOffset(offset: 10, metadata: "")])
        try await Task.sleep(for: .milliseconds(20))
        history.sample()
        let finished = try #require(history.committedPerSecond(group: "mailers", topic: "emails"))
        #expect(finished > 0, "the commit moved by 6")
        #expect(history.storedPerSecond(topic: "nothing") == nil)
        #expect(history.committedPerSecond(group: "nobody", topic: "emails") == nil)
    }

    @Test("deleting a topic lowers neither the fsync count in /metrics nor the fsyncs per second in the history")
    func fsyncFiguresSurviveATopicsDeletion() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let broker = try Broker.open(BrokerConfig(dataDirectory: data))
        defer { try? broker.close() }
        try broker.createTopic("emails", partitions: 2)
        let batch = RecordBatch(producing: [ProducerRecord(key: nil, value: Array("hello".utf8), timestamp: 1)]).encoded()
        for partition in [0, 1, 0, 1] as [Int32] { _ = try await broker.produce(topic: "emails", partition: partition, records: batch, acks: .all) }
        func fsyncCount() throws -> UInt64 {
            let text = PrometheusText.render(broker: broker, server: PrometheusText.ServerFigures())
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("spool_fsync_seconds_count ") })
            return try #require(UInt64(line.dropFirst("spool_fsync_seconds_count ".count)))
        }
        let history = ConsoleHistory(broker: broker, latency: nil)
        history.sample()
        let before = try fsyncCount()
        #expect(before >= 4, "the produces were flushed")

        try await broker.deleteTopic("emails")
        #expect(try fsyncCount() >= before, "a counter that went down reads as a reset")
        try await Task.sleep(for: .milliseconds(20))
        history.sample()
        let perSecond = try #require(history.samples.last?.fsyncsPerSecond)
        #expect(perSecond >= 0 && perSecond < 1_000_000, "fsyncs per second after the deletion: \(perSecond)")
    }
}
