import Foundation
import SpoolJobs
import Synchronization
import Testing

/// A job whose `spool-job-type` is not the worker's payload type never reaches the handler: it is
/// dead-lettered at once, saying which type it was.
@Suite struct JobTypeTests {
    struct Invoice: Job {
        static let topic = "billing"
        var number: Int
    }

    struct Receipt: Job {
        static let topic = "billing"
        static let typeName = "receipt"
        var number: Int
    }

    @Test func aJobOfAnotherTypeIsDeadLetteredWithoutRunning() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let ran = Mutex<[Int]>([])
        let worker = Worker<Invoice>(queue: queue, group: "billers", retry: .exponential(maxAttempts: 3, base: .milliseconds(10))) { job in
            ran.withLock { $0.append(job.payload.number) }
        }
        let task = Task { try? await worker.run() }
        try await queue.enqueue(Receipt(number: 1), key: "k")
        try await queue.enqueue(Invoice(number: 2), key: "k")
        #expect(await eventually { ran.withLock { $0 } == [2] && worker.stats.deadLettered == 1 })
        let letter = try #require(try await queue.deadLetters(of: Invoice.topic).first)
        #expect(letter.error == "cannot decode the payload as Invoice: the job's type is receipt, this worker runs Invoice")
        #expect(ran.withLock { $0 } == [2], "the receipt reached the invoice handler")
        worker.stop()
        await task.value
    }
}
