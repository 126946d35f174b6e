import Foundation
import SpoolBroker
import SpoolEmbedded
import SpoolFormat
import Testing
@testable import SpoolJobs

struct Errand: Job {
    static let topic = "chores"
    var name: String
}

/// What a chore handler saw: the ids it started, in order.
private final class Runs: Sendable {
    let started = LockedValue<[String]>([])
    let release = LockedValue<Set<String>>([])

    /// Records the start; jobs named in `holding` wait (cancellably) until released.
    func run(_ job: JobContext<Errand>, holding: Set<String> = []) async throws {
        started.withLock { $0.append(job.id) }
        if holding.contains(job.id) {
            while !release.value.contains(job.id) { try await Task.sleep(for: .milliseconds(5)) }
        }
    }
}

@Suite("Cancelling jobs, pausing a group, listing job states", .serialized)
struct JobControlTests {
    private func worker(_ queue: JobQueue, _ runs: Runs, group: String = "choreographers", ordering: JobOrdering = .key,
                        retry: RetryPolicy = .exponential(maxAttempts: 3, base: .milliseconds(10), max: .milliseconds(20)),
                        holding: Set<String> = [], failing: Set<String> = []) -> Worker<Errand> {
        Worker<Errand>(queue: queue, group: group, ordering: ordering, concurrency: 4, retry: retry) { job in
            try await runs.run(job, holding: holding)
            if failing.contains(job.id) { throw ChoreError.failed(job.id) }
        }
    }

    enum ChoreError: Error { case failed(String) }

    /// The chores in `state`, once there are any (polled every 10 ms, for at most 10 s).
    private func listed(_ queue: JobQueue, _ state: JobState, group: String? = nil) async throws -> [JobStatus] {
        for _ in 0..<1000 {
            let jobs = try await queue.jobs(in: Errand.topic, state: state, group: group)
            if !jobs.isEmpty { return jobs }
            try await Task.sleep(for: .milliseconds(10))
        }
        return []
    }

    /// Stores a cancellation made an hour ago, past any grace, as `cancel` would have.
    private func cancelLongAgo(_ queue: JobQueue, _ cancellations: [(id: String, seen: [String: JobPosition])]) async throws {
        try await queue.prepareControl(topic: Errand.topic)
        let longAgo = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        _ = try await queue.transport.send(topic: JobQueue.controlTopic(of: Errand.topic), records: try cancellations.map {
            try JobControlState.cancelRecord(JobCancellation(id: $0.id, cancelledAtMs: longAgo, seen: $0.seen))
        })
    }

    /// Enqueues the job at offset 0 again as a worker enqueues its retry under `.none`: its next
    /// attempt, delivered at `deliverAtMs` (nil: now). Returns where it was stored.
    private func enqueueRetryOfFirst(_ queue: JobQueue, deliverAtMs: Int64? = nil) async throws -> Int64? {
        let first = try #require(try await queue.transport.readAll(topic: Errand.topic).first)
        let replaced = [SpoolHeaders.attempt, SpoolHeaders.idempotencyKey]
        let headers = first.headers.filter { !replaced.contains($0.key) } + [RecordHeader(SpoolHeaders.attempt, "2")]
            + (deliverAtMs.map { [RecordHeader(SpoolHeaders.deliverAt, String($0))] } ?? [])
        return try await queue.transport.send(topic: Errand.topic, records: [OutgoingRecord(key: first.key, value: first.value, headers: headers)]).first?.offset
    }

    @Test("the control task waits on the control topic until the next running report or prune is due, a second at most")
    func controlWaitFollowsWhatIsDue() throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let worker = worker(broker.queue(partitions: 1), Runs())
        worker.jobControl.update { $0.lastReportMs = 0 }
        #expect(worker.controlWaitMs(sinceLastPrune: .zero) == 0, "a report is due: no wait")
        worker.jobControl.update { $0.lastReportMs = worker.nowMs() }
        let afterReport = worker.controlWaitMs(sinceLastPrune: .zero)
        #expect(afterReport > 500 && afterReport <= 1_000, "the next report is a second away")
        #expect(worker.controlWaitMs(sinceLastPrune: .milliseconds(9_950)) <= 50, "the prune is 50 ms away")
        #expect(worker.controlWaitMs(sinceLastPrune: .seconds(11)) == 0, "the prune is overdue")
    }

    @Test("a job cancelled while buffered behind a running job of its key never starts; the key's next job runs")
    func cancelBuffered() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        for id in ["first", "second", "third"] { try await queue.enqueue(Errand(name: id), key: "k", id: id) }
        let runs = Runs()
        let worker = worker(queue, runs, holding: ["first"])
        let task = Task { try? await worker.run() }
        #expect(await eventually { runs.started.value == ["first"] && worker.book.withLock { $0.buffered(TopicPartition(Errand.topic, 0)) } == 3 })
        let cancellation = try await queue.cancel(id: "second", topic: Errand.topic)
        #expect(cancellation.seen["*"] == JobPosition(partition: 0, offset: 1))
        #expect(await eventually { worker.jobControl.isCancelled("second") })
        runs.release.withLock { _ = $0.insert("first") }
        #expect(await eventually { worker.stats.succeeded == 2 && worker.stats.cancelled == 1 })
        worker.stop()
        await task.value
        #expect(runs.started.value == ["first", "third"])
        #expect(try await queue.jobs(in: Errand.topic, state: .queued, group: "choreographers").isEmpty)
    }

    @Test("a running job's task is cancelled: it ends as cancelled, is not retried nor dead-lettered")
    func cancelRunning() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Errand(name: "long"), key: "k", id: "long")
        try await queue.enqueue(Errand(name: "after"), key: "k", id: "after")
        let runs = Runs()
        let worker = worker(queue, runs, holding: ["long"])
        let task = Task { try? await worker.run() }
        #expect(await eventually { runs.started.value == ["long"] && worker.runningJobs.map(\.id) == ["long"] })
        // Reported by the worker within a second or so (the only job it ran).
        let running = try await listed(queue, .running, group: "choreographers")
        #expect(running.map(\.id) == ["long"] && running.first?.state == .running && running.first?.offset == 0)
        #expect(try await queue.jobs(in: Errand.topic, state: .running, group: "other-group").isEmpty)
        try await queue.cancel(id: "long", topic: Errand.topic)
        #expect(await eventually { worker.stats.cancelled == 1 && worker.stats.succeeded == 1 })
        worker.stop()
        await task.value
        #expect(runs.started.value == ["long", "after"])
        #expect(worker.stats.failedAttempts == 0 && worker.stats.deadLettered == 0)
        #expect(try await queue.deadLetters(of: Errand.topic).isEmpty)
    }

    @Test("a job retrying in place is woken by its cancellation and ends; a scheduled one never starts")
    func cancelRetryingAndScheduled() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let due = Date().addingTimeInterval(1)
        try await queue.enqueue(Errand(name: "later"), key: "s", id: "later", runAt: due)
        // Due after "later" on the same key, so it is delivered after it and runs after it is settled.
        try await queue.enqueue(Errand(name: "sentinel"), key: "s", id: "sentinel", runAt: due.addingTimeInterval(0.2))
        try await queue.enqueue(Errand(name: "flaky"), key: "k", id: "flaky")
        try await queue.enqueue(Errand(name: "next"), key: "k", id: "next")
        let scheduled = try await queue.jobs(in: Errand.topic, state: .scheduled)
        #expect(scheduled.map(\.id) == ["later", "sentinel"])
        #expect(scheduled.first?.nextRunAt.map { abs($0.timeIntervalSince(due)) < 0.01 } == true)
        #expect(scheduled.first?.partition == 0 && scheduled.first?.offset == nil && scheduled.first?.attempts == 0)
        try await queue.cancel(id: "later", topic: Errand.topic)
        #expect(try await queue.jobs(in: Errand.topic, state: .scheduled).map(\.id) == ["sentinel"])

        let runs = Runs()
        // The first failure waits an hour before its retry: only the cancellation ends it.
        let worker = worker(queue, runs, retry: .exponential(maxAttempts: 3, base: .seconds(3600), max: .seconds(3600), jitter: false),
                            failing: ["flaky"])
        let task = Task { try? await worker.run() }
        #expect(await eventually { worker.stats.failedAttempts == 1 })
        // The next attempt's number is committed right after the failure.
        let retrying = try await listed(queue, .retrying, group: "choreographers")
        #expect(retrying.map(\.id) == ["flaky"] && retrying.first?.attempts == 1)
        #expect(try await queue.jobs(in: Errand.topic, state: .queued, group: "choreographers").map(\.id) == ["next"])
        try await queue.cancel(id: "flaky", topic: Errand.topic)
        #expect(await eventually { runs.started.value.contains("next") && runs.started.value.contains("sentinel") })
        #expect(await eventually { worker.stats.cancelled == 2 })
        worker.stop()
        await task.value
        #expect(!runs.started.value.contains("later"))
        #expect(runs.started.value.filter { $0 == "flaky" }.count == 1)
        let cancelled = try await queue.jobs(in: Errand.topic, state: .cancelled)
        #expect(Set(cancelled.map(\.id)) == ["later", "flaky"])
        #expect(cancelled.allSatisfy { $0.cancelledAt != nil && $0.key != nil })
    }

    @Test("under .none a retry waits in the broker, listed with its due time and error; cancelled, it is skipped when delivered")
    func cancelRetryHeldByTheBroker() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Errand(name: "flaky"), key: "k", id: "flaky")
        let runs = Runs()
        let worker = worker(queue, runs, ordering: .none, retry: .exponential(maxAttempts: 3, base: .seconds(1), max: .seconds(1), jitter: false),
                            failing: ["flaky"])
        let task = Task { try? await worker.run() }
        let retrying = try await listed(queue, .retrying)
        #expect(retrying.map(\.id) == ["flaky"])
        #expect(retrying.first?.attempts == 1 && retrying.first?.nextRunAt != nil && retrying.first?.offset == nil)
        #expect(retrying.first?.lastError?.contains("flaky") == true)
        try await queue.cancel(id: "flaky", topic: Errand.topic)
        #expect(try await queue.jobs(in: Errand.topic, state: .retrying).isEmpty)
        // Delivered when due, then skipped.
        #expect(await eventually { worker.stats.cancelled == 1 })
        worker.stop()
        await task.value
        #expect(runs.started.value == ["flaky"])
        #expect(worker.stats.failedAttempts == 1)
    }

    @Test("under .none a retry enqueued before its worker learnt of the cancellation is skipped by a group that reaches it after the grace")
    func cancelledRetryReachedAfterTheGrace() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Errand(name: "flaky"), key: "k", id: "flaky")
        try await queue.enqueue(Errand(name: "slow"), key: "s", id: "slow")
        // The first attempt failed before its worker learnt of the cancellation: its retry, held by
        // the broker until due, came into the topic after the place `cancel` gave the job.
        #expect(try await enqueueRetryOfFirst(queue) == 2)
        try await cancelLongAgo(queue, [("flaky", ["*": JobPosition(partition: 0, offset: 0)])])
        let runs = Runs()
        // One job at a time: the group lags behind "slow" while it runs.
        let worker = Worker<Errand>(queue: queue, group: "choreographers", ordering: .none, concurrency: 1) { job in
            try await runs.run(job, holding: ["slow"])
        }
        let task = Task { try? await worker.run() }
        #expect(await eventually { worker.stats.cancelled == 1 && runs.started.value == ["slow"] })
        // Committed past the place, long after the grace: the retry is still ahead.
        await worker.commit()
        await worker.forgetPassedCancellations()
        #expect(worker.jobControl.isCancelled("flaky"))
        // Kept until the group reaches the topic's end as read after the grace, stored for every worker.
        #expect(try await queue.controlState(of: Errand.topic).cancellations["flaky"]?.ends == [JobPosition(partition: 0, offset: 3)])
        runs.release.withLock { _ = $0.insert("slow") }
        #expect(await eventually { worker.stats.succeeded + worker.stats.cancelled == 3 })
        #expect(runs.started.value == ["slow"])
        #expect(worker.stats.cancelled == 2)
        // Passed every copy: forgotten.
        await worker.commit()
        await worker.forgetPassedCancellations()
        #expect(!worker.jobControl.isCancelled("flaky"))
        worker.stop()
        await task.value
    }

    @Test("cancel fails clearly for an unknown topic, an unknown id and a dead-lettered job")
    func cancelFailures() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        await #expect(throws: JobControlError.unknownTopic("nowhere")) { try await queue.cancel(id: "x", topic: "nowhere") }
        try await queue.enqueue(Errand(name: "doomed"), key: "k", id: "doomed")
        await #expect(throws: JobControlError.unknownJob(id: "ghost", topic: Errand.topic)) { try await queue.cancel(id: "ghost", topic: Errand.topic) }
        let runs = Runs()
        let worker = worker(queue, runs, retry: .never, failing: ["doomed"])
        let task = Task { try? await worker.run() }
        #expect(await eventually { worker.stats.deadLettered == 1 })
        worker.stop()
        await task.value
        // Still in the topic, but dead: the dead-letter topic says so.
        let dead = try await queue.jobs(in: Errand.topic, state: .dead)
        #expect(dead.map(\.id) == ["doomed"] && dead.first?.attempts == 1 && dead.first?.lastError?.contains("failed") == true)
        await #expect(throws: JobControlError.self) { try await queue.jobs(in: Errand.topic, state: .queued) }
        await #expect(throws: JobControlError.unknownTopic("nowhere")) { try await queue.jobs(in: "nowhere", state: .dead) }
        await #expect(throws: JobControlError.unknownTopic("nowhere")) { try await queue.pause(topic: "nowhere", group: "g") }
        await #expect(throws: JobControlError.pauseNeedsGroup) { try await queue.pause(topic: Errand.topic, group: "") }
        await #expect(throws: JobControlError.pauseNeedsGroup) { try await queue.resume(topic: Errand.topic, group: "") }
    }

    @Test("a paused group fetches but starts nothing, running jobs finish, and resume starts the rest")
    func pauseAndResume() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 2)
        try await queue.enqueue(Errand(name: "running"), key: "a", id: "running")
        let runs = Runs()
        let worker = worker(queue, runs, holding: ["running"])
        let task = Task { try? await worker.run() }
        #expect(await eventually { runs.started.value == ["running"] })
        try await queue.pause(topic: Errand.topic, group: "choreographers")
        #expect(await eventually { worker.jobControl.holdsStarts })
        #expect(try await queue.controlState(of: Errand.topic).pausedGroups["choreographers"] != nil)
        let generation = worker.book.withLock { book in book.partitions.values.map(\.generation) }
        try await queue.enqueue((0..<6).map { JobQueue.Enqueue(Errand(name: "p\($0)"), key: "key-\($0)", id: "p\($0)") })
        // Fetched (taken into the book) but not started; the running one finishes.
        #expect(await eventually { worker.book.withLock { book in book.assigned.reduce(0) { $0 + book.buffered($1) } } == 7 })
        runs.release.withLock { _ = $0.insert("running") }
        #expect(await eventually { worker.stats.succeeded == 1 && worker.book.withLock { book in book.assigned.reduce(0) { $0 + book.buffered($1) } } == 6 })
        #expect(runs.started.value == ["running"])
        try await queue.resume(topic: Errand.topic, group: "choreographers")
        #expect(await eventually { worker.stats.succeeded == 7 })
        // No rebalance happened while paused: the same assignment generations.
        #expect(worker.book.withLock { book in book.partitions.values.map(\.generation) } == generation)
        worker.stop()
        await task.value
    }

    @Test("cancellations and a pause survive a restart of the broker and of the workers")
    func durableAcrossRestarts() async throws {
        let path = NSTemporaryDirectory() + "spool-jobs-control-restart-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        func open() throws -> EmbeddedBroker {
            var config = BrokerConfig(dataDirectory: path)
            config.groupLimits.initialRebalanceDelayMs = 100
            config.log.preallocateBytes = 64 << 10
            return EmbeddedBroker(broker: try Broker.open(config))
        }
        var spool = try open()
        var queue = JobQueue.embedded(spool, partitions: 1)
        for id in ["one", "two", "three"] { try await queue.enqueue(Errand(name: id), key: "k", id: id) }
        try await queue.cancel(id: "two", topic: Errand.topic)
        try await queue.pause(topic: Errand.topic, group: "choreographers")
        try spool.close()

        spool = try open()
        queue = JobQueue.embedded(spool, partitions: 1)
        let runs = Runs()
        var worker = worker(queue, runs)
        var task = Task { [worker] in try? await worker.run() }
        #expect(await eventually { worker.jobControl.holdsStarts && worker.book.withLock { $0.buffered(TopicPartition(Errand.topic, 0)) } == 3 })
        #expect(runs.started.value.isEmpty)
        worker.stop()
        await task.value

        // A new worker after the restart is paused too, until resumed; the cancelled job never runs.
        worker = self.worker(queue, runs)
        task = Task { [worker] in try? await worker.run() }
        #expect(await eventually { worker.jobControl.holdsStarts })
        try await queue.resume(topic: Errand.topic, group: "choreographers")
        #expect(await eventually { worker.stats.succeeded == 2 && worker.stats.cancelled == 1 })
        worker.stop()
        await task.value
        #expect(runs.started.value == ["one", "three"])
        try spool.close()
    }

    @Test("a worker forgets a cancellation once its group committed past the job and the grace passed")
    func forgetsPassedCancellations() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Errand(name: "old"), key: "k", id: "old")
        try await queue.enqueue(Errand(name: "tail"), key: "k", id: "tail")
        // A cancellation made long ago of the job at offset 0, and one of a job not seen yet.
        try await cancelLongAgo(queue, [("old", ["*": JobPosition(partition: 0, offset: 0)]), ("unseen", [:])])
        let runs = Runs()
        let worker = worker(queue, runs)
        let task = Task { try? await worker.run() }
        #expect(await eventually { worker.stats.succeeded == 1 && worker.stats.cancelled == 1 })
        #expect(try await forgetsInRounds(worker, "old", keeping: ["unseen"]))
        worker.stop()
        await task.value
        #expect(runs.started.value == ["tail"])
        // The worker recorded where its group met the job, and the topic's end it was forgotten by.
        let stored = try await queue.controlState(of: Errand.topic).cancellations["old"]
        #expect(stored?.seen["choreographers"] == JobPosition(partition: 0, offset: 0))
        #expect(stored?.ends == [JobPosition(partition: 0, offset: 2)])
    }

    @Test("a priorities worker forgets the cancellation of a job of a priority topic once its group committed past that topic's end")
    func forgetsPassedCancellationsOfPriorityJobs() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Errand(name: "urgent"), key: "u", id: "urgent", priority: .high)
        try await queue.enqueue(Errand(name: "slow"), key: "s", id: "slow", priority: .high)
        // Cancelled long ago, before any worker met the job (a job of a priority topic got no place from `cancel`).
        try await cancelLongAgo(queue, [("urgent", [:])])
        let runs = Runs()
        // One job at a time: "slow" holds the slot, so the group stays behind chores.high's end,
        // and behind chores' once a job is enqueued there.
        let worker = Worker<Errand>(queue: queue, group: "choreographers", ordering: .none, concurrency: 1, priorities: .standard) { job in
            try await runs.run(job, holding: ["slow"])
        }
        let task = Task { try? await worker.run() }
        #expect(await eventually { worker.stats.cancelled == 1 && runs.started.value == ["slow"] })
        try await queue.enqueue(Errand(name: "normal"), key: "n", id: "normal")
        await worker.commit()
        await worker.forgetPassedCancellations()
        #expect(worker.jobControl.isCancelled("urgent"), "forgotten before the group passed the job topics' ends")
        runs.release.withLock { _ = $0.insert("slow") }
        #expect(await eventually { worker.stats.succeeded == 2 })
        #expect(try await forgetsInRounds(worker, "urgent"), "a cancelled job of chores.high was never forgotten")
        worker.stop()
        await task.value
        #expect(runs.started.value == ["slow", "normal"])
        // The ends it was forgotten by, one per partition of the job topic and of each priority topic.
        let stored = try await queue.controlState(of: Errand.topic).cancellations["urgent"]
        #expect(stored?.ends?.count == 3)
        #expect(stored?.ends == [JobPosition(partition: 0, offset: 1), JobPosition(partition: 0, offset: 2, topic: "chores.high"),
                                 JobPosition(partition: 0, offset: 0, topic: "chores.low")])
        #expect(stored?.seen["choreographers"] == JobPosition(partition: 0, offset: 0, topic: "chores.high"))
        // `cancel` gives a job found in a priority topic its place there.
        try await queue.enqueue(Errand(name: "later"), key: "l", id: "later", priority: .low)
        #expect(try await queue.cancel(id: "later", topic: Errand.topic).seen["*"] == JobPosition(partition: 0, offset: 0, topic: "chores.low"))
    }

    @Test("a priorities worker reads again ends that name the job topic only, rather than forget a cancellation whose job may wait in a priority topic")
    func readsAgainEndsOfTheJobTopicOnly() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Errand(name: "urgent"), key: "u", id: "urgent", priority: .high)
        try await queue.enqueue(Errand(name: "slow"), key: "s", id: "slow", priority: .high)
        // Ends as a worker that knew the job topic only wrote them: chores is empty.
        try await queue.prepareControl(topic: Errand.topic)
        let longAgo = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        let old = JobCancellation(id: "urgent", cancelledAtMs: longAgo, seen: ["*": JobPosition(partition: 0, offset: 0)], ends: [JobPosition(partition: 0, offset: 0)])
        _ = try await queue.transport.send(topic: JobQueue.controlTopic(of: Errand.topic), records: [try JobControlState.cancelRecord(old)])
        let runs = Runs()
        let worker = Worker<Errand>(queue: queue, group: "choreographers", ordering: .none, concurrency: 1, priorities: .standard) { job in
            try await runs.run(job, holding: ["slow"])
        }
        let task = Task { try? await worker.run() }
        #expect(await eventually { worker.stats.cancelled == 1 && runs.started.value == ["slow"] })
        await worker.commit()
        // The ends are read again best effort, as the worker's rounds do it: a read that fails (a
        // busy machine can stall one) is tried again the next round, and the cancellation kept.
        var readAgain = false
        for _ in 0..<50 where !readAgain {
            await worker.forgetPassedCancellations()
            #expect(worker.jobControl.isCancelled("urgent"), "forgotten by ends that leave chores.high out")
            readAgain = worker.jobControl.state.withLock {
                $0.control.cancellations["urgent"]?.ends?.contains(JobPosition(partition: 0, offset: 2, topic: "chores.high"))
            } == true
            if !readAgain { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(readAgain)
        runs.release.withLock { _ = $0.insert("slow") }
        #expect(await eventually { worker.stats.succeeded == 1 })
        #expect(try await forgetsInRounds(worker, "urgent"))
        worker.stop()
        await task.value
    }

    @Test("a cancellation is kept past the grace while the broker holds a copy of its job")
    func keepsCancellationWhileACopyIsHeld() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Errand(name: "twice"), key: "k", id: "twice")
        // A second copy of the job, due in an hour.
        _ = try await enqueueRetryOfFirst(queue, deliverAtMs: Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000)
        #expect(try await queue.heldJobs(of: Errand.topic).map(\.record.jobId) == ["twice"])
        try await cancelLongAgo(queue, [("twice", ["*": JobPosition(partition: 0, offset: 0)])])
        let runs = Runs()
        let worker = worker(queue, runs, ordering: .none)
        let task = Task { try? await worker.run() }
        #expect(await eventually { worker.stats.cancelled == 1 })
        await worker.commit()
        await worker.forgetPassedCancellations()
        #expect(worker.jobControl.isCancelled("twice"))
        #expect(worker.jobControl.state.withLock { $0.control.cancellations["twice"]?.ends == nil && $0.heldUntilMs["twice"] != nil })
        worker.stop()
        await task.value
        #expect(runs.started.value.isEmpty)
    }

    /// Commits and forgets passed cancellations in rounds, as the worker's own rounds do, until
    /// `id` is forgotten (at most 50 rounds): a job's success is counted just before the book
    /// finishes it, so the first commit after the count can still be behind it, and commits and
    /// reads are best effort (a rebalance refuses one, a busy machine stalls one). Each round
    /// checks that the cancellations of `kept` stay.
    func forgetsInRounds(_ worker: Worker<Errand>, _ id: String, keeping kept: [String] = []) async throws -> Bool {
        for _ in 0..<50 {
            await worker.commit()
            await worker.forgetPassedCancellations()
            for other in kept { #expect(worker.jobControl.isCancelled(other), "\(other) was forgotten") }
            if !worker.jobControl.isCancelled(id) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
