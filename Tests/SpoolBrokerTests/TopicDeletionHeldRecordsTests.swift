import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import Testing

/// Held records of a topic being deleted: they are dropped only once the deletion is on disk. A
/// power cut before that leaves the topic in place, and with it every record acknowledged for it.
@Suite struct TopicDeletionHeldRecordsTests {
    @Test("a delivery round during a topic deletion not yet on disk keeps the topic's held records through a power cut")
    func heldRecordsSurviveADeletionCutShort() async throws {
        let disk = PowerCutImage()
        defer { disk.remove() }
        let clock = ManualClock()
        let broker = try Broker.open(disk.directory.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        let due = clock.nowMs + 1_000
        let held = ProducerRecord(key: Array("k".utf8), value: Array("later".utf8),
                                  headers: [RecordHeader(SpoolHeaders.deliverAt, String(due))], timestamp: clock.nowMs)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: RecordBatch(producing: [held]).encoded(), acks: .all)
        #expect(broker.heldRecordCount == 1)

        // The record falls due while the topic is being deleted, before the deletion is written:
        // a delivery round runs to its end there, then the power goes (the disk as it is then is
        // the image the next start sees).
        broker.beforeTopicDeletionIsWritten.withLock { hook in
            hook = { _ in
                clock.advance(ms: 2_000)
                broker.deliverAllDue()
                disk.cutPower()
            }
        }
        try await broker.deleteTopic("jobs")
        broker.beforeTopicDeletionIsWritten.withLock { $0 = nil }
        try #require(disk.wasCut)

        let restartClock = ManualClock()
        restartClock.advance(ms: 10_000)
        let restarted = try Broker.open(disk.image.config(), clock: { restartClock.nowMs })
        defer { try? restarted.close() }
        #expect(restarted.partitionCount("jobs") == 1, "the deletion was not on disk: the topic is still there")
        restarted.clockMoved()
        let deadline = Date().addingTimeInterval(10)
        while restarted.heldRecordCount > 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(restarted.heldRecordCount == 0)
        #expect(try await values(restarted, "jobs") == ["later"], "the held record acknowledged for the topic was lost")
    }
}
