import Foundation
@testable import SpoolJobs
import Testing

/// A job held by the broker for its `runAt` is delivered timestamped when it became readable (so
/// retention counts from then); `job.enqueuedAt` still says when it was enqueued.
@Suite struct ScheduledJobEnqueueTimeTests {
    @Test("a scheduled job's enqueuedAt is when it was enqueued, not when the broker delivered it")
    func enqueuedAtIsTheProduceTime() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let enqueued = Date()
        let runAt = enqueued.addingTimeInterval(0.5)
        try await queue.enqueue(Step(key: "a", sequence: 0), key: "a", runAt: runAt)
        let seen = LockedValue<Date?>(nil)
        let worker = Worker<Step>(queue: queue, group: "schedulers", ordering: .none, concurrency: 1) { job in seen.value = job.enqueuedAt }
        let task = Task { try? await worker.run() }
        #expect(await eventually { seen.value != nil })
        worker.stop()
        await task.value
        let enqueuedAt = try #require(seen.value)
        #expect(enqueuedAt < runAt, "enqueuedAt \(enqueuedAt) is the delivery time, not the enqueue time \(enqueued)")
        #expect(abs(enqueuedAt.timeIntervalSince(enqueued)) < 0.25)
    }
}
