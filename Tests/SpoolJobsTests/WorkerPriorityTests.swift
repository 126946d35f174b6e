import Foundation
import SpoolFormat
import Synchronization
import Testing
@testable import SpoolJobs

private struct Task3: Job {
    static let topic = "tasks"
    var key: String
    var sequence: Int
}

/// The topics of the jobs a worker started, in the order they started.
private final class Starts: Sendable {
    let topics = Mutex<[String]>([])
    func add(_ topic: String) { topics.withLock { $0.append(topic) } }
    var all: [String] { topics.withLock { $0 } }
}

@Suite("Priorities in workers over the embedded broker", .serialized)
struct WorkerPriorityTests {
    @Test("with a backlog of normal jobs taken in, a high job enqueued behind it starts next")
    func highStartsBeforeTheBacklog() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 2)
        try await queue.enqueue((0..<30).map { JobQueue.Enqueue(Task3(key: "k\($0)", sequence: $0), key: "k\($0)") })
        let starts = Starts()
        let gate = LockedValue(false)
        let worker = Worker<Task3>(queue: queue, group: "taskers", ordering: .key, concurrency: 1, priorities: .standard) { job in
            starts.add(job.topic)
            // The first job holds the only slot until the test lets it go.
            for _ in 0..<500 where !gate.value { try await Task.sleep(for: .milliseconds(10)) }
        }
        let task = Task { try await worker.run() }
        #expect(await eventually { starts.all.count == 1 && worker.book.withLock { book in book.assigned.reduce(0) { $0 + book.buffered($1) } } == 30 })
        try await queue.enqueue(Task3(key: "urgent", sequence: 0), key: "urgent", priority: .high)
        #expect(await eventually { worker.book.withLock { book in book.assigned.reduce(0) { $0 + book.buffered($1) } } == 31 })
        gate.value = true
        #expect(await eventually { starts.all.count == 31 })
        worker.stop()
        try await task.value
        #expect(starts.all.firstIndex(of: "tasks.high") == 1)
        #expect(worker.topics == ["tasks.high", "tasks", "tasks.low"])
    }

    @Test("low jobs start while high and normal backlogs are still running: no starvation")
    func lowIsNotStarved() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 2)
        var jobs: [JobQueue.Enqueue<Task3>] = []
        for index in 0..<200 {
            jobs.append(.init(Task3(key: "h\(index)", sequence: index), key: "h\(index)", priority: .high))
            jobs.append(.init(Task3(key: "n\(index)", sequence: index), key: "n\(index)"))
            if index < 5 { jobs.append(.init(Task3(key: "l\(index)", sequence: index), key: "l\(index)", priority: .low)) }
        }
        let enqueued = try await queue.enqueue(jobs)
        #expect(Set(enqueued.map(\.topic)) == ["tasks.high", "tasks", "tasks.low"])
        #expect(zip(jobs, enqueued).allSatisfy { $0.priority.topic(of: "tasks") == $1.topic })
        let starts = Starts()
        let worker = Worker<Task3>(queue: queue, group: "taskers", ordering: .none, concurrency: 1, priorities: .standard) { job in
            starts.add(job.topic)
        }
        let task = Task { try await worker.run() }
        #expect(await eventually { starts.all.count == 405 })
        worker.stop()
        try await task.value
        let all = starts.all
        guard let lastLow = all.lastIndex(of: "tasks.low") else { throw Failure("no low job ran") }
        let before = all[..<lastLow]
        #expect(before.filter { $0 == "tasks.high" }.count < 200, "the low jobs waited for every high one")
        #expect(before.filter { $0 == "tasks" }.count < 200, "the low jobs waited for every normal one")
    }

    @Test("under .key, jobs of one key keep their order within each priority; retries and dead letters stay in the job's priority topic")
    func keyOrderAndFailuresPerPriority() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 4)
        var jobs: [JobQueue.Enqueue<Task3>] = []
        for sequence in 0..<8 {
            for key in 0..<6 {
                for priority in JobPriority.allCases { jobs.append(.init(Task3(key: "u\(key)", sequence: sequence), key: "u\(key)", priority: priority)) }
            }
        }
        try await queue.enqueue(jobs)
        try await queue.enqueue(Task3(key: "poison", sequence: 0), key: "poison", priority: .high)
        let recorder = Recorder()
        let worker = Worker<Task3>(queue: queue, group: "taskers", ordering: .key, concurrency: 6,
                                   retry: .exponential(maxAttempts: 2, base: .milliseconds(5), max: .milliseconds(5), jitter: false),
                                   priorities: .standard) { job in
            let key = job.topic + "/" + job.payload.key
            recorder.begin(key: key, id: job.id, attempt: job.attempt)
            defer { recorder.end(key: key) }
            if job.payload.key == "poison" { throw Failure("poisoned") }
            try await Task.sleep(for: .microseconds(Int.random(in: 0...500)))
            recorder.succeeded(key: key, id: job.id, sequence: job.payload.sequence)
        }
        let task = Task { try await worker.run() }
        #expect(await eventually { recorder.succeededCount == jobs.count && worker.stats.deadLettered == 1 })
        worker.stop()
        try await task.value
        let state = recorder.state.withLock { $0 }
        #expect(state.overlaps.isEmpty)
        #expect(state.firstSuccesses.count == 18)
        for (key, sequences) in state.firstSuccesses { #expect(sequences == Array(0..<8), "\(key) ran out of order: \(sequences)") }
        let dead = try await queue.deadLetters(of: "tasks.high")
        #expect(dead.map(\.originTopic) == ["tasks.high"])
        #expect(try await queue.deadLetters(of: "tasks").isEmpty)
        #expect(try await queue.jobs(in: "tasks", state: .dead).map(\.topic) == ["tasks.high"])
    }

    @Test("job states list the priority topics under the job topic, high first; a high job is cancelled by its job topic and never runs")
    func statesAndCancelAcrossPriorities() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Task3(key: "a", sequence: 0), key: "a", id: "n1")
        try await queue.enqueue(Task3(key: "a", sequence: 0), key: "a", id: "l1", priority: .low)
        try await queue.enqueue(Task3(key: "a", sequence: 0), key: "a", id: "h1", priority: .high)
        try await queue.enqueue(Task3(key: "b", sequence: 0), key: "b", id: "h2", priority: .high)
        let queued = try await queue.jobs(in: "tasks", state: .queued, group: "taskers")
        #expect(queued.map(\.id) == ["h1", "h2", "n1", "l1"])
        #expect(queued.map(\.topic) == ["tasks.high", "tasks.high", "tasks", "tasks.low"])
        try await queue.cancel(id: "h2", topic: "tasks")
        #expect(try await queue.jobs(in: "tasks", state: .cancelled).map(\.id) == ["h2"])
        let ran = LockedValue<[String]>([])
        let worker = Worker<Task3>(queue: queue, group: "taskers", ordering: .key, priorities: .standard) { job in
            ran.withLock { $0.append(job.id) }
        }
        let task = Task { try await worker.run() }
        #expect(await eventually { ran.value.count == 3 && worker.stats.cancelled == 1 })
        worker.stop()
        try await task.value
        #expect(Set(ran.value) == ["h1", "n1", "l1"])
        #expect(try await queue.jobs(in: "tasks", state: .queued, group: "taskers").isEmpty)
    }
}

private struct Email: Job {
    static let topic = "emails"
    var to: String
    var subject: String
}

extension WorkerPriorityTests {
    @Test("a worker with priorities and onDeadLetter: .holdKey stops with a message")
    func holdKeyWithPrioritiesStops() async {
        await #expect(processExitsWith: .failure) {
            let queue = JobQueue(transport: NoTransport())
            _ = Worker<Email>(queue: queue, group: "mailers", onDeadLetter: .holdKey, priorities: .standard) { _ in }
        }
    }

    @Test("docs/jobs.md's priorities example runs: both jobs run, each from its priority's topic")
    func docsExample() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 2)
        struct Mailer {
            let sent = LockedValue<[String]>([])
            func send(_ email: Email) async throws { sent.withLock { $0.append(email.subject) } }
        }
        let mailer = Mailer()
        let topics = LockedValue<Set<String>>([])

        try await queue.enqueue(Email(to: "ada@example.com", subject: "Reset your password"), key: "ada", priority: .high)
        try await queue.enqueue(Email(to: "ada@example.com", subject: "Your weekly digest"), key: "ada", priority: .low)

        let worker = Worker<Email>(queue: queue, group: "mailers", ordering: .key, concurrency: 16,
                                   priorities: .standard) { job in      // 6 : 3 : 1
            try await mailer.send(job.payload)                          // job.topic says which priority
            topics.withLock { _ = $0.insert(job.topic) }
        }

        let task = Task { try await worker.run() }
        #expect(await eventually { mailer.sent.value.count == 2 })
        worker.stop()
        try await task.value
        #expect(Set(mailer.sent.value) == ["Reset your password", "Your weekly digest"])
        #expect(topics.value == ["emails.high", "emails.low"])
    }
}

/// A transport that is never used: the worker stops before it would be.
private struct NoTransport: JobTransport {
    func ensureTopic(_ topic: String, partitions: Int) async throws { throw Failure("unused") }
    func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)] { throw Failure("unused") }
    func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription { throw Failure("unused") }
    func readAll(topic: String) async throws -> [ConsumedRecord] { throw Failure("unused") }
    func close() async {}
}

private struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
