import Foundation
import SpoolBroker
import SpoolEmbedded
import SpoolFormat
import Testing
@testable import SpoolJobs

/// The embedded transport with sends failing: every send to a dead-letter topic refused, as on a
/// full disk (`refuseDeadLetters`), or the next send to each topic of `storeThenFail` stored and
/// then reported failed, as when a connection drops before the answer.
private struct FailingSends: JobTransport {
    struct Refused: Error {}

    let inner: EmbeddedTransport
    var refuseDeadLetters = false
    /// Topics whose next send is stored and then fails; each is taken out as it fails.
    let storeThenFail = LockedValue<Set<String>>([])

    func ensureTopic(_ topic: String, partitions: Int) async throws { try await inner.ensureTopic(topic, partitions: partitions) }

    func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)] {
        if refuseDeadLetters && topic.hasSuffix(".dlq") { throw Refused() }
        let stored = try await inner.send(topic: topic, records: records)
        if storeThenFail.withLock({ $0.remove(topic) }) != nil { throw Refused() }
        return stored
    }

    func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await inner.subscribe(group: group, topic: topic, hooks: hooks)
    }

    func readAll(topic: String) async throws -> [ConsumedRecord] { try await inner.readAll(topic: topic) }
    func close() async { await inner.close() }
}

@Suite("Workers stopping with work they could not hand on", .serialized)
struct WorkerShutdownTests {
    @Test("a dead letter that cannot be stored when the worker stops leaves its job uncommitted, to run again")
    func unstoredDeadLetterIsNotCommittedPast() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = JobQueue(transport: FailingSends(inner: EmbeddedTransport(broker.spool), refuseDeadLetters: true), partitions: 1)
        try await queue.enqueue(Photo(user: "u", poison: true), key: "u", id: "poison")
        let runs = LockedValue(0)
        let worker = Worker<Photo>(queue: queue, group: "g", ordering: .key, concurrency: 1, retry: .never, shutdownTimeout: .zero) { _ in
            runs.withLock { $0 += 1 }
            throw PhotoError.corrupt
        }
        let task = Task { try? await worker.run() }
        #expect(await eventually { runs.value == 1 })
        // The dead letter is refused and retried every second; the stop gives up on it.
        worker.stop()
        await task.value
        #expect(worker.stats.deadLettered == 0)
        #expect(try await queue.deadLetters(of: Photo.topic).isEmpty)
        // Nothing was committed past the job: the next worker gets it.
        #expect(broker.spool.broker.committedOffsets(group: "g").values.allSatisfy { $0.offset == 0 })
    }

    /// A send the broker stored but whose answer was lost is sent again: the broker's dedupe window
    /// drops the second copy by its idempotency key, or every later attempt of the job ran twice
    /// (two retry chains) and it reached the dead-letter topic twice.
    @Test("a retry or dead letter stored but reported failed, and sent again, is stored once")
    func ambiguousSendsAreStoredOnce() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let transport = FailingSends(inner: EmbeddedTransport(broker.spool))
        let queue = JobQueue(transport: transport, partitions: 1)
        try await queue.enqueue(Photo(user: "u", poison: true), key: "u", id: "poison")
        transport.storeThenFail.withLock { $0 = [Photo.topic, JobQueue.deadLetterTopic(of: Photo.topic)] }
        let attempts = LockedValue<[Int]>([])
        let worker = Worker<Photo>(queue: queue, group: "g", ordering: .none, concurrency: 2,
                                   retry: .exponential(maxAttempts: 2, base: .milliseconds(1), max: .milliseconds(2), jitter: false),
                                   shutdownTimeout: .zero) { job in
            attempts.withLock { $0.append(job.attempt) }
            throw PhotoError.corrupt
        }
        let task = Task { try? await worker.run() }
        // Each send is tried again after a second; done once every record of the topic is
        // committed past (a second copy of the retry among them).
        #expect(await eventually {
            worker.stats.deadLettered >= 1 && transport.storeThenFail.value.isEmpty
                && broker.spool.broker.committedOffsets(group: "g").values.map(\.offset) == [broker.spool.broker.logEndOffset(topic: Photo.topic, partition: 0)]
        })
        worker.stop()
        await task.value
        #expect(attempts.value == [1, 2])
        #expect(try await queue.deadLetters(of: Photo.topic).map(\.id) == ["poison"])
    }

    @Test("a run cut short by the worker's stop uses no attempt: it is neither retried nor dead-lettered, and the next worker runs it")
    func runCutShortByStopIsNotAFailure() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Photo(user: "u", poison: false), key: "u", id: "long")
        let attempts = LockedValue<[Int]>([])
        func makeWorker(block: Bool) -> Worker<Photo> {
            Worker<Photo>(queue: queue, group: "g", ordering: .key, concurrency: 1, retry: .never, shutdownTimeout: .zero) { job in
                attempts.withLock { $0.append(job.attempt) }
                if block { try await Task.sleep(for: .seconds(600)) }
            }
        }
        let first = makeWorker(block: true)
        let task = Task { try? await first.run() }
        #expect(await eventually { attempts.value == [1] })
        first.stop()
        await task.value
        #expect(first.stats.failedAttempts == 0 && first.stats.deadLettered == 0)
        #expect(try await queue.deadLetters(of: Photo.topic).isEmpty)
        #expect(broker.spool.broker.committedOffsets(group: "g").values.allSatisfy { $0.offset == 0 && $0.metadata.isEmpty })
        let second = makeWorker(block: false)
        let secondTask = Task { try? await second.run() }
        #expect(await eventually { second.stats.succeeded == 1 })
        second.stop()
        await secondTask.value
        #expect(attempts.value == [1, 1])
    }
}

