import Foundation
import SpoolBroker
import SpoolFormat
import Testing
@testable import SpoolJobs

struct Step: Job {
    static let topic = "steps"
    var key: String
    var sequence: Int
}

struct Photo: Job {
    static let topic = "photos"
    var user: String
    var poison: Bool
}

/// A `.key` worker of group "g" whose handler always throws, recording each attempt under key
/// "u"; the attempt `blockingAt` sleeps instead (a worker killed during it).
private func alwaysFailing(_ queue: JobQueue, _ recorder: Recorder, maxAttempts: Int, base: Duration, blockingAt: Int? = nil) -> Worker<Photo> {
    Worker<Photo>(queue: queue, group: "g", ordering: .key, concurrency: 1,
                  retry: .exponential(maxAttempts: maxAttempts, base: base, max: base * 2, jitter: false), shutdownTimeout: .zero) { job in
        recorder.begin(key: "u", id: job.id, attempt: job.attempt)
        defer { recorder.end(key: "u") }
        if job.attempt == blockingAt { try await Task.sleep(for: .seconds(600)) }
        throw PhotoError.corrupt
    }
}

/// Runs a worker in a task; `kill` stops it without waiting for running jobs.
private func start<P: Job>(_ worker: Worker<P>) -> Task<Void, Never> {
    Task { try? await worker.run() }
}

@Suite("Workers over the embedded broker", .serialized)
struct WorkerTests {
    @Test("under .key with random failures and a worker killed mid-run, no job is lost and no two runs of a key overlap",
          arguments: [WorkerExecution.shared, .ownThread])
    func keyOrderUnderFailures(execution: WorkerExecution) async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 8)
        let keys = 200, perKey = 12
        var jobs: [JobQueue.Enqueue<Step>] = []
        for sequence in 0..<perKey { for key in 0..<keys { jobs.append(.init(Step(key: "user-\(key)", sequence: sequence), key: "user-\(key)")) } }
        for chunk in stride(from: 0, to: jobs.count, by: 500) { try await queue.enqueue(Array(jobs[chunk..<min(chunk + 500, jobs.count)])) }

        let recorder = Recorder()
        func makeWorker() -> Worker<Step> {
            Worker<Step>(queue: queue, group: "steppers", ordering: .key, concurrency: 8,
                         retry: .exponential(maxAttempts: 100, base: .milliseconds(2), max: .milliseconds(20)),
                         shutdownTimeout: .zero, execution: execution) { job in
                recorder.begin(key: job.payload.key, id: job.id, attempt: job.attempt)
                defer { recorder.end(key: job.payload.key) }
                try await Task.sleep(for: .microseconds(Int.random(in: 0...300)))
                if Double.random(in: 0..<1) < 0.15 { throw CancellationError() }
                recorder.succeeded(key: job.payload.key, id: job.id, sequence: job.payload.sequence)
            }
        }
        let workers = (0..<3).map { _ in makeWorker() }
        let tasks = workers.map(start)
        #expect(await eventually { recorder.succeededCount >= jobs.count / 3 })
        // Kill one worker in the middle of the run: its running jobs are abandoned uncommitted.
        tasks[0].cancel()
        await tasks[0].value
        #expect(await eventually(within: 60) { recorder.succeededCount == jobs.count })
        for worker in workers.dropFirst() { worker.stop() }
        for task in tasks.dropFirst() { await task.value }

        let state = recorder.state.withLock { $0 }
        #expect(state.overlaps.isEmpty, "runs of one key overlapped: \(state.overlaps.prefix(5))")
        #expect(state.succeeded.count == jobs.count)
        for (key, sequences) in state.firstSuccesses {
            #expect(sequences == Array(0..<perKey), "\(key) finished out of order: \(sequences)")
        }
        #expect(workers.reduce(0) { $0 + $1.stats.deadLettered } == 0)
        #expect(workers.reduce(0) { $0 + $1.stats.failedAttempts } > 0)
    }

    @Test("a poison job reaches the DLQ after exactly maxAttempts runs while other keys of its partition finish; redrive runs it once more")
    func poisonAndRedrive() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let healed = LockedValue(false)
        let poisoned = try await queue.enqueue(Photo(user: "u0", poison: true), key: "u0", id: "photo-poison")
        for user in 1...20 { try await queue.enqueue(Photo(user: "u\(user)", poison: false), key: "u\(user)", id: "photo-\(user)") }
        try await queue.enqueue(Photo(user: "u0", poison: false), key: "u0", id: "photo-u0-after")
        let recorder = Recorder()
        let worker = Worker<Photo>(queue: queue, group: "resizers", ordering: .key, concurrency: 4,
                                   retry: .exponential(maxAttempts: 3, base: .milliseconds(100), max: .seconds(1), jitter: false)) { job in
            recorder.begin(key: job.payload.user, id: job.id, attempt: job.attempt)
            defer { recorder.end(key: job.payload.user) }
            if job.payload.poison && !healed.value { throw PhotoError.corrupt }
            recorder.succeeded(key: job.payload.user, id: job.id, sequence: 0)
        }
        let task = start(worker)
        #expect(await eventually { worker.stats.deadLettered == 1 && recorder.succeededCount == 21 })
        #expect(recorder.runs("photo-poison") == 3)
        #expect(recorder.attempts("photo-poison") == [1, 2, 3])
        let poisonDone = try #require(recorder.times("photo-poison").last)
        // Every other key finished while the poison job waited between its attempts...
        for user in 1...20 { #expect(try #require(recorder.times("photo-\(user)").first) < poisonDone) }
        // ...and u0's next job waited for the poison job to leave.
        #expect(try #require(recorder.times("photo-u0-after").first) > poisonDone)

        let letters = try await queue.deadLetters(of: "photos")
        #expect(letters.count == 1)
        let letter = try #require(letters.first)
        #expect(letter.id == "photo-poison" && letter.key == "u0" && letter.attempts == 3)
        #expect(letter.error.contains("corrupt"))
        #expect(letter.originTopic == "photos" && letter.originPartition == poisoned.partition && letter.originOffset == poisoned.offset)
        #expect(letter.failedAt != nil && !letter.redriven)

        healed.value = true
        #expect(try await queue.redrive("photos").map(\.id) == ["photo-poison"])
        #expect(await eventually { recorder.runs("photo-poison") == 4 })
        #expect(recorder.attempts("photo-poison").last == 1)
        #expect(try await queue.redrive("photos").isEmpty)
        #expect(try await queue.deadLetters(of: "photos").first?.redriven == true)
        // A later job of the same key runs only after every earlier record of u0: by the time it
        // has, a second copy of the poison job (had either redrive sent one) would have run too.
        try await queue.enqueue(Photo(user: "u0", poison: false), key: "u0", id: "photo-u0-last")
        #expect(await eventually { recorder.runs("photo-u0-last") == 1 })
        #expect(recorder.runs("photo-poison") == 4)
        worker.stop()
        await task.value
    }

    @Test("the attempt count survives a worker crash: the next worker neither restarts nor skips attempts")
    func attemptsSurviveCrash() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Photo(user: "u", poison: true), key: "u", id: "always-fails")
        let recorder = Recorder()
        func makeWorker() -> Worker<Photo> { alwaysFailing(queue, recorder, maxAttempts: 3, base: .milliseconds(500)) }
        let first = makeWorker()
        let firstTask = start(first)
        #expect(await eventually { recorder.runs("always-fails") == 1 })
        // The failed attempt is committed (in the offset's metadata) before the retry waits.
        #expect(await eventually { broker.spool.broker.committedOffsets(group: "g").values.contains { !$0.metadata.isEmpty } })
        firstTask.cancel()
        await firstTask.value
        let second = makeWorker()
        let secondTask = start(second)
        #expect(await eventually { second.stats.deadLettered == 1 })
        #expect(recorder.attempts("always-fails") == [1, 2, 3])
        second.stop()
        await secondTask.value
        #expect(try await queue.deadLetters(of: "photos").first?.attempts == 3)
    }

    /// The next worker may have another `maxAttempts` (a deploy between the two): a higher one
    /// took the mark, once written as the count `maxAttempts + 1`, for a count and ran the job again.
    @Test("a job dead-lettered behind an unfinished one does not run again after a crash: its mark stays in the commit",
          arguments: [3, 5])
    func deadLetterBehindUnfinishedJobSurvivesCrash(nextMaxAttempts: Int) async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Photo(user: "slow", poison: false), key: "slow", id: "slow")
        try await queue.enqueue(Photo(user: "u", poison: true), key: "u", id: "poison")
        let recorder = Recorder()
        func makeWorker(blockSlow: Bool, maxAttempts: Int = 3) -> Worker<Photo> {
            Worker<Photo>(queue: queue, group: "g", ordering: .key, concurrency: 2,
                          retry: .exponential(maxAttempts: maxAttempts, base: .milliseconds(1), max: .milliseconds(2), jitter: false),
                          shutdownTimeout: .zero) { job in
                recorder.begin(key: job.payload.user, id: job.id, attempt: job.attempt)
                defer { recorder.end(key: job.payload.user) }
                // The first worker never finishes the job in front, so the commit stays below the poison job.
                if blockSlow && job.payload.user == "slow" { try await Task.sleep(for: .seconds(600)) }
                if job.payload.poison { throw PhotoError.corrupt }
                recorder.succeeded(key: job.payload.user, id: job.id, sequence: 0)
            }
        }
        let first = makeWorker(blockSlow: true)
        let firstTask = start(first)
        #expect(await eventually { first.stats.deadLettered == 1 })
        // Killed with the slow job running: the committed offset is the slow job's.
        firstTask.cancel()
        await firstTask.value
        #expect(broker.spool.broker.committedOffsets(group: "g").values.map(\.offset) == [0])
        let second = makeWorker(blockSlow: false, maxAttempts: nextMaxAttempts)
        let secondTask = start(second)
        #expect(await eventually { broker.spool.broker.committedOffsets(group: "g").values.map(\.offset) == [2] })
        second.stop()
        await secondTask.value
        #expect(recorder.succeededCount == 1)
        #expect(recorder.attempts("poison") == [1, 2, 3])
        #expect(try await queue.deadLetters(of: "photos").map(\.id) == ["poison"])
    }

    /// A count committed under a higher `maxAttempts` than the next worker's is past its last
    /// attempt: the job goes to the dead-letter topic, where it was once taken for a dead-letter
    /// mark and finished without a run or a dead letter.
    @Test("a count past a lowered maxAttempts dead-letters the job rather than dropping it")
    func countPastLoweredMaxAttemptsIsDeadLettered() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Photo(user: "u", poison: true), key: "u", id: "poison")
        let recorder = Recorder()
        // The first worker is killed during the 7th attempt, with 7 committed.
        let first = alwaysFailing(queue, recorder, maxAttempts: 10, base: .milliseconds(1), blockingAt: 7)
        let firstTask = start(first)
        #expect(await eventually { recorder.attempts("poison") == [1, 2, 3, 4, 5, 6, 7] })
        firstTask.cancel()
        await firstTask.value
        #expect(broker.spool.broker.committedOffsets(group: "g").values.map(\.metadata) == ["spool-attempts:0=7"])
        let second = alwaysFailing(queue, recorder, maxAttempts: 5, base: .milliseconds(1))
        let secondTask = start(second)
        #expect(await eventually { broker.spool.broker.committedOffsets(group: "g").values.map(\.offset) == [1] })
        second.stop()
        await secondTask.value
        #expect(recorder.attempts("poison") == [1, 2, 3, 4, 5, 6, 7])
        #expect(try await queue.deadLetters(of: "photos").map(\.id) == ["poison"])
    }

    @Test("jobs that finished above the commit point do not run again under the next worker")
    func finishedAboveTheCommitPointDoNotRunAgain() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Photo(user: "slow", poison: false), key: "slow", id: "slow")
        try await queue.enqueue((0..<10).map { JobQueue.Enqueue(Photo(user: "u\($0)", poison: false), key: "u\($0)", id: "job-\($0)") })
        let recorder = Recorder()
        func makeWorker(blockSlow: Bool) -> Worker<Photo> {
            Worker<Photo>(queue: queue, group: "g", ordering: .key, concurrency: 4, shutdownTimeout: .zero) { job in
                recorder.begin(key: job.payload.user, id: job.id, attempt: job.attempt)
                defer { recorder.end(key: job.payload.user) }
                // The first worker never finishes the job in front, so the commit stays below the others.
                if blockSlow && job.payload.user == "slow" { try await Task.sleep(for: .seconds(600)) }
                recorder.succeeded(key: job.payload.user, id: job.id, sequence: 0)
            }
        }
        let first = makeWorker(blockSlow: true)
        let firstTask = start(first)
        #expect(await eventually { first.stats.succeeded == 10 })
        // Stopped with the slow job running: the commit stays at the slow job and marks the rest;
        // the cut-short run uses no attempt.
        firstTask.cancel()
        await firstTask.value
        let committed = broker.spool.broker.committedOffsets(group: "g").values
        #expect(committed.map(\.offset) == [0])
        #expect(committed.map(\.metadata) == ["spool-done:1-10"])
        let second = makeWorker(blockSlow: false)
        let secondTask = start(second)
        #expect(await eventually { broker.spool.broker.committedOffsets(group: "g").values.map(\.offset) == [11] })
        second.stop()
        await secondTask.value
        #expect(recorder.succeededCount == 11)
        for index in 0..<10 { #expect(recorder.attempts("job-\(index)") == [1], "job-\(index) ran once") }
        #expect(recorder.attempts("slow") == [1, 1])
    }

    @Test(".none retries go back through the broker's delayed delivery and release the offset at once")
    func noneOrderRetry() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 2)
        try await queue.enqueue(Step(key: "a", sequence: 0), key: "a", id: "flaky")
        let recorder = Recorder()
        let offsets = LockedValue<[Int64]>([])
        let worker = Worker<Step>(queue: queue, group: "g", ordering: .none, concurrency: 4,
                                  retry: .exponential(maxAttempts: 3, base: .milliseconds(300), max: .seconds(1), jitter: false)) { job in
            recorder.begin(key: "x\(job.offset)", id: job.id, attempt: job.attempt)
            defer { recorder.end(key: "x\(job.offset)") }
            offsets.withLock { $0.append(job.offset) }
            if job.attempt == 1 { throw PhotoError.corrupt }
        }
        let task = start(worker)
        #expect(await eventually { worker.stats.succeeded == 1 })
        #expect(recorder.attempts("flaky") == [1, 2])
        let times = recorder.times("flaky")
        #expect(times[1].timeIntervalSince(times[0]) >= 0.29)
        #expect(offsets.value[0] != offsets.value[1], "the retry is a new record")
        worker.stop()
        await task.value
        let committed = broker.spool.broker.committedOffsets(group: "g")
        #expect(committed.values.map(\.offset).reduce(0, +) == 2, "both records are committed: \(committed)")
    }

    @Test("a .none retry is run by the group whose run failed, not again by the topic's other groups")
    func noneRetryStaysWithItsGroup() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Step(key: "a", sequence: 0), key: "a", id: "flaky")
        let runs = LockedValue<[String]>([])
        func worker(_ group: String, failingFirst: Bool) -> Worker<Step> {
            Worker<Step>(queue: queue, group: group, ordering: .none, concurrency: 2,
                         retry: .exponential(maxAttempts: 3, base: .milliseconds(100), max: .milliseconds(100), jitter: false)) { job in
                runs.withLock { $0.append("\(group):\(job.attempt)") }
                if failingFirst && job.attempt == 1 { throw PhotoError.corrupt }
            }
        }
        let mailers = worker("mailers", failingFirst: true), auditors = worker("auditors", failingFirst: false)
        let tasks = [start(mailers), start(auditors)]
        #expect(await eventually { mailers.stats.succeeded == 1 && auditors.stats.succeeded == 1 })
        // The retry is the topic's second record: the auditors' commit passes it once they took it.
        #expect(await eventually { broker.spool.broker.committedOffsets(group: "auditors").values.map(\.offset).reduce(0, +) == 2 })
        #expect(try await queue.jobs(in: Step.topic, state: .queued, group: "auditors").isEmpty)
        mailers.stop()
        auditors.stop()
        for task in tasks { await task.value }
        #expect(runs.value.filter { $0.hasPrefix("auditors:") } == ["auditors:1"], "\(runs.value)")
        #expect(runs.value.filter { $0.hasPrefix("mailers:") } == ["mailers:1", "mailers:2"])
        #expect(auditors.stats.succeeded == 1)
    }

    @Test("two groups whose runs of a .none job both fail each retry it: neither's retry is dropped as the other's duplicate")
    func noneRetriesOfTwoGroupsAreBothStored() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Step(key: "a", sequence: 0), key: "a", id: "flaky")
        let runs = LockedValue<[String]>([])
        let workers = ["mailers", "auditors"].map { group in
            Worker<Step>(queue: queue, group: group, ordering: .none, concurrency: 2,
                         retry: .exponential(maxAttempts: 3, base: .milliseconds(100), max: .milliseconds(100), jitter: false)) { job in
                runs.withLock { $0.append("\(group):\(job.attempt)") }
                if job.attempt == 1 { throw PhotoError.corrupt }
            }
        }
        let tasks = workers.map(start)
        #expect(await eventually { workers.allSatisfy { $0.stats.succeeded == 1 } }, "\(runs.value)")
        for worker in workers { worker.stop() }
        for task in tasks { await task.value }
        for group in ["mailers", "auditors"] {
            #expect(runs.value.filter { $0.hasPrefix("\(group):") } == ["\(group):1", "\(group):2"], "\(runs.value)")
        }
    }

    @Test("stop() finishes the running job, commits it, and a new worker does not run it again")
    func gracefulShutdown() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Step(key: "a", sequence: 0), key: "a", id: "slow")
        let recorder = Recorder()
        func makeWorker() -> Worker<Step> {
            Worker<Step>(queue: queue, group: "g", ordering: .key, concurrency: 2) { job in
                recorder.begin(key: "a", id: job.id, attempt: job.attempt)
                defer { recorder.end(key: "a") }
                try await Task.sleep(for: .milliseconds(300))
                recorder.succeeded(key: "a", id: job.id, sequence: 0)
            }
        }
        let first = makeWorker()
        let task = start(first)
        #expect(await eventually { recorder.runs("slow") == 1 })
        first.stop()
        await task.value
        #expect(recorder.succeededCount == 1)
        // A job enqueued after it runs after it: once the new worker has run that one, it would
        // have run "slow" again first had its offset not been committed.
        try await queue.enqueue(Step(key: "a", sequence: 1), key: "a", id: "next")
        let second = makeWorker()
        let secondTask = start(second)
        #expect(await eventually { recorder.runs("next") == 1 })
        second.stop()
        await secondTask.value
        #expect(recorder.runs("slow") == 1)
    }

    @Test("a runAt before 1970 is past: the job is stored at once; one past what spool-deliver-at can say is refused with a clear error")
    func runAtOutOfRange() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let past = try await queue.enqueue(Step(key: "a", sequence: 1), key: "a", runAt: Date(timeIntervalSince1970: -3_600))
        #expect(past.offset == 0)
        #expect(throws: JobError.self) { try JobQueue.deliverAt(Date(timeIntervalSince1970: 1e16)) }
        #expect(try JobQueue.deliverAt(Date(timeIntervalSince1970: 1_700_000_000.0001)) == "1700000000001")
    }

    @Test("an id enqueued twice is stored once; runAt holds a job until its time; an undecodable payload is dead-lettered at once")
    func enqueueOptions() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let first = try await queue.enqueue(Step(key: "a", sequence: 1), key: "a", id: "once")
        let again = try await queue.enqueue(Step(key: "a", sequence: 2), key: "a", id: "once")
        #expect(again.offset == first.offset)
        let runAt = Date().addingTimeInterval(0.6)
        let held = try await queue.enqueue(Step(key: "b", sequence: 0), key: "b", id: "later", runAt: runAt)
        #expect(held.offset == nil)
        _ = try await queue.transport.send(topic: "steps", records: [OutgoingRecord(key: nil, value: Array("not json".utf8), headers: [])])
        let recorder = Recorder()
        let worker = Worker<Step>(queue: queue, group: "g", ordering: .key, concurrency: 2) { job in
            recorder.begin(key: job.payload.key, id: job.id, attempt: job.attempt)
            recorder.end(key: job.payload.key)
            recorder.succeeded(key: job.payload.key, id: job.id, sequence: job.payload.sequence)
        }
        let task = start(worker)
        #expect(await eventually { recorder.succeededCount == 2 && worker.stats.deadLettered == 1 })
        #expect(recorder.runs("once") == 1)
        #expect(try #require(recorder.times("later").first) >= runAt)
        #expect(try await queue.deadLetters(of: "steps").first?.error.contains("cannot decode") == true)
        worker.stop()
        await task.value
    }
}

enum PhotoError: Error, CustomStringConvertible {
    case corrupt
    var description: String { "corrupt image" }
}
