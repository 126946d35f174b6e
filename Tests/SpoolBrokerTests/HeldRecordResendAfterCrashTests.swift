import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import Testing

/// An idempotent producer's resend of a batch whose held record was delivered already: a crash
/// can keep the delivery (the record in its topic, its marker in the delay log) and lose the batch
/// that records the producer's sequence, appended after the hold. The resend must not be held, and
/// so delivered, a second time.
@Suite struct HeldRecordResendAfterCrashTests {
    @Test("a resend after a crash that kept the held record's delivery but not its batch is not held again")
    func aResendOfADeliveredRecordIsNotHeldAgain() async throws {
        let disk = PowerCutImage()
        defer { disk.remove() }
        let clock = ManualClock()
        let broker = try Broker.open(disk.directory.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        let producer = try broker.initProducerId().producerId
        let due = clock.nowMs + 1_000
        let batch = RecordBatch(producing: [ProducerRecord(key: nil, value: Array("once".utf8), headers: [RecordHeader(SpoolHeaders.deliverAt, String(due))],
                                                           timestamp: clock.nowMs)],
                                producerId: producer, producerEpoch: 0, baseSequence: 0).encoded()
        // Between the hold and the batch's append, the record falls due and is delivered; then the
        // power goes (the disk as it is then is the image the next start sees).
        broker.delays.afterHoldPending.withLock { hook in
            hook = {
                clock.advance(ms: 1_000)
                broker.deliverAllDue()
                disk.cutPower()
            }
        }
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch, acks: .all)
        broker.delays.afterHoldPending.withLock { $0 = nil }
        try #require(disk.wasCut)

        let restartClock = ManualClock()
        restartClock.advance(ms: 2_000)
        let restarted = try Broker.open(disk.image.config(), clock: { restartClock.nowMs })
        defer { try? restarted.close() }
        #expect(try await values(restarted, "jobs") == ["once"], "the delivery was on disk")
        // The client never had its answer: it sends the batch again.
        _ = try await restarted.produce(topic: "jobs", partition: 0, records: batch, acks: .all)
        #expect(restarted.heldRecordCount == 0, "the resend was held again")
        restartClock.advance(ms: 2_000)
        restarted.clockMoved()
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await values(restarted, "jobs") == ["once"], "the record was delivered twice")
    }
}
