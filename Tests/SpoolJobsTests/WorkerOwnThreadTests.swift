import Foundation
import SpoolEmbedded
import Testing
@testable import SpoolJobs

/// The threads of this process named `name` (Linux keeps each thread's name in /proc).
private func threadsNamed(_ name: String) -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.filter { task in
        (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?.trimmingCharacters(in: .newlines) == name
    }.count
}

/// The name of the thread running the caller.
private func currentThreadName() -> String {
    ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
}

@Suite("Workers on a thread of their own", .serialized)
struct WorkerOwnThreadTests {
    @Test("with .ownThread every job runs on the worker's thread, waiting handlers overlap, key order holds, and the thread ends with run()")
    func jobsRunOnTheWorkersThread() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 4)
        let keys = 5, perKey = 40
        var jobs: [JobQueue.Enqueue<Step>] = []
        for sequence in 0..<perKey { for key in 0..<keys { jobs.append(.init(Step(key: "k\(key)", sequence: sequence), key: "k\(key)")) } }
        try await queue.enqueue(jobs)
        let recorder = Recorder()
        let threads = LockedValue<Set<String>>([])
        let running = LockedValue((now: 0, most: 0))
        let worker = Worker<Step>(queue: queue, group: "own1", ordering: .key, concurrency: 8, execution: .ownThread) { job in
            threads.withLock { _ = $0.insert(currentThreadName()) }
            running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            recorder.begin(key: job.payload.key, id: job.id, attempt: job.attempt)
            // Every job waits, so runs of different keys can overlap on the one thread.
            try await Task.sleep(for: .milliseconds(2))
            threads.withLock { _ = $0.insert(currentThreadName()) }
            recorder.end(key: job.payload.key)
            running.withLock { $0.now -= 1 }
            recorder.succeeded(key: job.payload.key, id: job.id, sequence: job.payload.sequence)
        }
        #expect(worker.execution == .ownThread)
        let task = Task { try await worker.run() }
        #expect(await eventually { recorder.succeededCount == jobs.count })
        #expect(threadsNamed("spool:own1") == 1)
        worker.stop()
        try await task.value

        #expect(threads.value == ["spool:own1"], "handlers ran on \(threads.value)")
        #expect(running.value.most > 1, "no two jobs overlapped")
        let state = recorder.state.withLock { $0 }
        #expect(state.overlaps.isEmpty)
        for (key, sequences) in state.firstSuccesses { #expect(sequences == Array(0..<perKey), "\(key) ran out of order") }
        #expect(await eventually(within: 5) { threadsNamed("spool:own1") == 0 }, "the worker's thread outlived run()")
    }

    @Test("by default a worker's jobs run on the global executor, not on a thread of its own")
    func sharedIsTheDefault() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Step(key: "k", sequence: 0), key: "k")
        let names = LockedValue<[String]>([])
        let worker = Worker<Step>(queue: queue, group: "shared1") { _ in names.withLock { $0.append(currentThreadName()) } }
        #expect(worker.execution == .shared)
        let task = Task { try await worker.run() }
        #expect(await eventually { names.value.count == 1 })
        worker.stop()
        try await task.value
        #expect(!names.value.contains { $0.hasPrefix("spool:") })
    }

    @Test("a timed-out handler on .ownThread is cancelled and retried, on the worker's thread")
    func timeoutOnOwnThread() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Step(key: "k", sequence: 0), key: "k")
        let attempts = LockedValue<[(Int, String)]>([])
        let worker = Worker<Step>(queue: queue, group: "own2", ordering: .key, concurrency: 2,
                                  retry: .exponential(maxAttempts: 3, base: .milliseconds(5), max: .milliseconds(10), jitter: false),
                                  timeout: .milliseconds(50), execution: .ownThread) { job in
            attempts.withLock { $0.append((job.attempt, currentThreadName())) }
            if job.attempt == 1 { try await Task.sleep(for: .seconds(600)) }
        }
        let task = Task { try await worker.run() }
        #expect(await eventually { worker.stats.succeeded == 1 })
        worker.stop()
        try await task.value
        #expect(attempts.value.map(\.0) == [1, 2])
        #expect(attempts.value.allSatisfy { $0.1 == "spool:own2" })
        #expect(worker.stats.failedAttempts == 1)
    }

    @Test("with .ownThread and handlers that never wait, the poll loop takes its turn once a paused partition has drained to half, not once nothing is left to run")
    func pollLoopRunsWhenBufferDrains() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let log = FaultyControlTransport.PollLog()
        let queue = JobQueue(transport: FaultyControlTransport(inner: EmbeddedTransport(broker.spool), memberPolls: log), partitions: 1)
        let count = 1_000
        let threads = LockedValue<Set<String>>([])
        try await queue.enqueue((0..<count).map { JobQueue.Enqueue(Step(key: "k", sequence: $0), key: "k") })
        // One runner, jobs in order, a buffer of 100: a poll takes up to 500 records in and pauses
        // the partition, which resumes once 50 are left unfinished.
        let worker = Worker<Step>(queue: queue, group: "own-drain", ordering: .partition, concurrency: 1, bufferPerPartition: 100,
                                  execution: .ownThread) { _ in
            threads.withLock { _ = $0.insert(currentThreadName()) }
            log.handled.add(1, ordering: .releasing)
        }
        let task = Task { try await worker.run() }
        #expect(await eventually { worker.stats.succeeded == count })
        worker.stop()
        try await task.value

        let taking = log.value.filter { $0.records > 0 }
        try #require(taking.count >= 2, "polls: \(log.value)")
        // The poll after the first that brought records ran while jobs it brought were still to run.
        #expect(taking[1].handled < taking[0].records, "polls: \(taking)")
        #expect(taking[1].handled >= taking[0].records - 100, "polls: \(taking)")
        // Its runner stepped aside for the poll loop and came back to the worker's thread.
        #expect(threads.value == ["spool:own-drain"], "handlers ran on \(threads.value)")
    }

    @Test("the executor runs what is enqueued on its named thread, and after stop() on Dispatch's threads, never stranding a task")
    func executorAfterStop() async {
        let executor = OwnThreadExecutor(name: "spool:executor-test-long-name")
        let before = await Task(executorPreference: executor) { currentThreadName() }.value
        #expect(before == "spool:executor-")
        #expect(threadsNamed("spool:executor-") == 1)
        executor.stop()
        #expect(await eventually(within: 5) { threadsNamed("spool:executor-") == 0 })
        let after = await Task(executorPreference: executor) { currentThreadName() }.value
        #expect(after != "spool:executor-")
    }
}
