import Foundation
import SpoolFormat
import SpoolJobs
import Testing

/// A redrive's idempotency key names the dead letter it sends back. A dead-letter topic deleted
/// and created again reuses partitions and offsets, so a key made of those alone took a new dead
/// letter for one redriven already: it was dropped by the origin topic's dedupe window, marked
/// redriven, and never ran.
@Suite struct RedriveRecreatedDeadLetterTopicTests {
    private func deadLetter(_ queue: JobQueue, id: String) async throws -> Int64? {
        let headers = [RecordHeader(SpoolHeaders.jobId, id), RecordHeader(SpoolHeaders.attempt, "3"), RecordHeader(SpoolHeaders.error, "boom"),
                       RecordHeader(SpoolHeaders.originTopic, "steps"), RecordHeader(SpoolHeaders.failedAt, "1764370000000")]
        let sent = try await queue.transport.send(topic: "steps.dlq", records: [OutgoingRecord(key: nil, value: Array(id.utf8), headers: headers, partition: 0)])
        return sent.first?.offset
    }

    @Test("a dead letter at the place of one redriven before its topic was made again is redriven to its origin")
    func aNewDeadLetterAtAReusedOffsetIsRedriven() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        _ = try broker.spool.createTopic("steps")
        _ = try broker.spool.createTopic("steps.dlq")
        #expect(try await deadLetter(queue, id: "job-A") == 0)
        #expect(try await queue.redrive("steps").map(\.id) == ["job-A"])

        try await broker.spool.broker.deleteTopic("steps.dlq")
        _ = try broker.spool.createTopic("steps.dlq")
        #expect(try await deadLetter(queue, id: "job-B") == 0, "the new dead letter takes the redriven one's place")
        #expect(try await queue.redrive("steps").map(\.id) == ["job-B"])
        let origin = try await queue.transport.readAll(topic: "steps")
        #expect(origin.map { $0.header(SpoolHeaders.jobId) } == ["job-A", "job-B"], "the second redrive was dropped as a duplicate of the first")
    }
}
