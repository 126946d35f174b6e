import Foundation
import SpoolFormat
import SpoolSystem
import Synchronization

/// Counts of what a worker did.
public final class WorkerStats: Sendable {
    let recorder = JobMetricsRecorder()
    let pollFailureCount = Atomic(0)
    let parkedCount = Atomic(0)
    let replayedCount = Atomic(0)
    let lastPollFailure = Mutex<String?>(nil)

    /// Every count and histogram, as the worker's running reports carry them to `/metrics` (the
    /// gauges are filled in by the reports).
    public var metrics: JobMetrics { recorder.snapshot }
    /// Runs that returned normally.
    public var succeeded: Int { recorder.read(\.succeeded) }
    /// Runs that threw (each retry's failure counts).
    public var failedAttempts: Int { recorder.read(\.failed) }
    /// Jobs sent to the dead-letter topic.
    public var deadLettered: Int { recorder.read(\.deadLettered) }
    /// Jobs ended by a cancellation (`JobQueue.cancel`): skipped, or their run cancelled.
    public var cancelled: Int { recorder.read(\.cancelled) }
    /// Jobs parked in the dead-letter topic behind a dead job of their key (`onDeadLetter: .holdKey`).
    public var parked: Int { parkedCount.load(ordering: .relaxed) }
    /// Dead and parked jobs a redrive marker had this worker run again, in order, successfully.
    public var replayed: Int { replayedCount.load(ordering: .relaxed) }
    /// Polls that failed (the worker waits, with backoff, and polls again).
    public var pollFailures: Int { pollFailureCount.load(ordering: .relaxed) }
    /// The last poll failure, e.g. a batch the worker cannot read (a compressed one): nil when
    /// the last poll succeeded.
    public var lastPollError: String? { lastPollFailure.withLock { $0 } }
}

/// Runs the jobs of one topic as a member of a consumer group.
///
/// ```swift
/// let worker = Worker<WelcomeEmail>(queue: queue, group: "mailers", ordering: .key, concurrency: 16,
///                                   retry: .exponential(maxAttempts: 5, base: .seconds(1), max: .minutes(10))) { job in
///     try await mailer.send(to: job.payload.to)
/// }
/// try await worker.run()   // until worker.stop()
/// ```
///
/// Delivery is at least once: a partition's offset is committed only when every job below it has
/// finished (succeeded or dead-lettered), so a worker killed mid-job leaves the job to whoever
/// owns the partition next. A job that throws runs again after the retry policy's delay; in
/// `.key` and `.partition` order it is retried in place, holding back later jobs of its key (or
/// partition), with its attempt count stored in the commit; in `.none` order it is enqueued again
/// for later through `spool-deliver-at` and its offset released at once. After the last attempt
/// it goes to `TOPIC.dlq`.
public final class Worker<Payload: Job>: Sendable {
    public let queue: JobQueue
    public let group: String
    public let topic: String
    public let ordering: JobOrdering
    public let concurrency: Int
    public let retry: RetryPolicy
    /// Jobs a partition may have taken in and not finished before it is paused. Finished jobs
    /// kept behind an unfinished one (the commit point cannot pass it yet) are held too, up to
    /// four times this, past which the partition is paused as well.
    public let bufferPerPartition: Int
    /// How long `stop()` waits for running jobs before cancelling them.
    public let shutdownTimeout: Duration
    /// The group session: the lease on this worker's jobs (see `GroupSession`).
    public let session: GroupSession
    /// Longest a run may take: past it the handler is cancelled and the attempt fails with
    /// "timed out after …". Nil: no limit.
    public let timeout: Duration?
    /// Cron schedules this worker registers and fires (with every schedule stored for its
    /// topic); nil: it fires none. `[]` fires the stored ones only.
    public let schedules: [Schedule]?
    /// What a dead letter does to its key: `.releaseKey` (the default) lets the key's next job
    /// run; `.holdKey` parks the key's later jobs until a redrive replays them in order (it needs a
    /// transport with a control topic: `run()` throws `JobControlError.unsupportedTransport`
    /// otherwise).
    public let onDeadLetter: DeadLetterPolicy
    /// Per-key limits (concurrency and rate), held across the group: see `JobLimits`.
    public let limits: JobLimits
    /// With weights, the worker also runs the jobs of `TOPIC.high` and `TOPIC.low` and shares its
    /// slots among the three by them (see `JobPriorities`); nil: `topic` alone.
    public let priorities: JobPriorities?
    /// Where the poll loop and the jobs run: Swift's global executor (`.shared`, the default) or a
    /// thread of the worker's own (`.ownThread`; see `WorkerExecution`).
    public let execution: WorkerExecution
    /// The topics the worker reads: `topic`, and its priority topics with `priorities`.
    public var topics: [String] { priorities == nil ? [topic] : JobPriority.allCases.map { $0.topic(of: topic) } }
    /// The scheduler's clock (tests move it by hand).
    let scheduleClock = LockedValue(ScheduleClock.system)
    /// The scheduler while `run()` runs one.
    let scheduler = LockedValue<Scheduler?>(nil)
    /// Under `.key` and `.partition`, jobs of one partition started and not finished (running,
    /// or failed and waiting to run again) or dead-lettered above the commit point, at most; the
    /// job at the commit point may start beyond it. The attempt counts of that many jobs and one
    /// more always fit in the commit's metadata, which Kafka caps at 4 KB, so a crash never loses
    /// a count. 179 with `maxAttempts` up to 9, 171 up to 99. Unbounded under `.none`.
    public var unfinishedPerPartitionMax: Int { book.withLock { $0.carriedMax } }
    public let stats = WorkerStats()
    /// Runs on its caller's executor (`nonisolated(nonsending)`): the runner's, which is where a
    /// plain nonisolated async closure would hop to anyway (the global executor, or the worker's
    /// own thread, which the runner prefers), at the cost of a hop there and one back per job.
    let handler: nonisolated(nonsending) @Sendable (JobContext<Payload>) async throws -> Void
    /// `Payload.typeName`, read once: the default is worked out from the type on every call.
    let typeName: String
    /// `typeName`'s UTF-8, to compare with a job's `spool-job-type` without making text of it.
    let typeNameBytes: [UInt8]
    /// The queue's coding opened once for `Payload`: called through the existential, every job
    /// copied the coding. It decodes a record's value where it lies, in its batch.
    let decodePayload: @Sendable (UnsafeRawBufferPointer) throws -> Payload
    let book: Mutex<JobBook>
    let control = Mutex(Control())
    let commitLock = AsyncLock()
    let leases = JobLeases()
    /// What runs' leases hold instead of the worker (`JobLeaseDesk`).
    let leaseDesk = JobLeaseDesk()
    /// Wakes `waitForRunning` as jobs end: only jobs of partitions being revoked (or gone), or
    /// any once the worker stops, which are all that it waits for.
    let jobEnds = EventSignal()
    /// Wakes the poll loop, parked while every partition is paused, when one has drained (or the
    /// worker stops).
    let bufferDrained = EventSignal()
    /// Wakes the runners' watch (`watchRunners`) when it has a runner to look after.
    let runnersPaced = EventSignal()
    let jobControl = WorkerControl()
    /// Keys whose rate allows their next job at each time (ms), for one timer per time.
    let keyWakes = LockedValue<[Int64: [String]]>([:])

    /// `stop()` was called, or `run()` is ending: no job starts any more.
    let stopping = Atomic(false)

    struct Control {
        var subscription: (any JobSubscription)?
        var tasks: [Int: Task<Void, Never>] = [:]
        var nextTask = 0
        /// The worker's own thread while `run()` runs with `.ownThread`: runners and timers prefer it.
        var executor: OwnThreadExecutor?
    }

    public init(queue: JobQueue, group: String, topic: String = Payload.topic, ordering: JobOrdering = .key, concurrency: Int = 8,
                retry: RetryPolicy = .exponential(), bufferPerPartition: Int = 1000, shutdownTimeout: Duration = .seconds(30),
                session: GroupSession = GroupSession(), timeout: Duration? = nil, schedules: [Schedule]? = nil,
                onDeadLetter: DeadLetterPolicy = .releaseKey, limits: JobLimits = .none, priorities: JobPriorities? = nil,
                execution: WorkerExecution = .shared, handler: nonisolated(nonsending) @escaping @Sendable (JobContext<Payload>) async throws -> Void) {
        // Holds name a key's partition in the job topic, not in its priority topics.
        precondition(priorities == nil || onDeadLetter == .releaseKey, "onDeadLetter: .holdKey does not go with priorities yet")
        self.queue = queue
        self.group = group
        self.topic = topic
        self.ordering = ordering
        self.concurrency = max(1, concurrency)
        self.retry = retry
        self.bufferPerPartition = max(1, bufferPerPartition)
        self.shutdownTimeout = shutdownTimeout
        self.session = session
        self.timeout = timeout
        self.schedules = schedules
        self.onDeadLetter = onDeadLetter
        self.limits = limits
        self.priorities = priorities
        self.execution = execution
        self.handler = handler
        self.typeName = Payload.typeName
        self.typeNameBytes = Array(Payload.typeName.utf8)
        self.decodePayload = Self.decoder(queue.coding)
        self.book = Mutex(JobBook(ordering: ordering, concurrency: concurrency, attemptsMax: retry.maxAttempts, limits: limits,
                                 priorities: priorities, priorityTopic: topic, bufferMax: self.bufferPerPartition, jobType: typeNameBytes,
                                 group: Array(group.utf8)))
        leaseDesk.attach(self)
    }

    /// The partitions this worker owns now.
    public var assignment: [TopicPartition] { book.withLock { $0.assigned } }

    /// Joins the group and runs jobs until `stop()` is called or the task is cancelled; then stops
    /// taking jobs, waits up to `shutdownTimeout` for running ones, commits and leaves the group.
    public func run() async throws {
        guard execution == .ownThread else { return try await runLoop() }
        let executor = OwnThreadExecutor(name: "spool:" + group)
        control.withLock { $0.executor = executor }
        defer { executor.stop() }
        try await withTaskExecutorPreference(executor) { try await runLoop() }
    }

    /// The executor the worker's tasks prefer: its own thread's, with `.ownThread`, while it runs.
    var jobExecutor: (any TaskExecutor)? { control.withLock { $0.executor } }

    private func runLoop() async throws {
        // Holds live in the control topic: without one a dead letter could not hold its key.
        if onDeadLetter == .holdKey && ordering != .none && !(queue.transport is any JobControlTransport) {
            throw JobControlError.unsupportedTransport
        }
        for topic in topics { try await queue.prepare(topic: topic) }
        let controlFeed = try await startControl()
        defer { controlFeed?.cancel() }
        let subscription = try await queue.transport.subscribe(group: group, topics: topics, session: session, hooks: SubscriptionHooks(
            revoked: { [weak self] partitions in await self?.revoke(partitions) },
            assigned: { [weak self] owned in await self?.assignKnowingHolds(owned) },
            lost: { [weak self] partitions in await self?.lose(partitions) }))
        control.withLock { $0.subscription = subscription }
        let committer = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                await self?.commit()
            }
        }
        defer { committer.cancel() }
        let watch = Task.preferring(jobExecutor) { [self] in await watchRunners() }
        defer { watch.cancel() }
        let scheduler = startScheduler()
        defer {
            scheduler?.0.stop()
            scheduler?.1.cancel()
        }
        var failures = 0
        // The entries of finished jobs to free (`JobBook.letGo`), and the buffer they come in.
        var letGo = JobBook.LetGoEntries()
        while !isStopping && !Task.isCancelled {
            // Resumes what drained since the last poll, parked for or not: a partition can drain
            // between the pause after a poll and the check here, and must not be polled paused.
            await waitWhileFetchesHeld()
            adjustPauses(subscription)
            var records: [BatchRecord]
            do {
                records = try await subscription.pollBatchRecords()
                if failures > 0 { stats.lastPollFailure.withLock { $0 = nil } }
                failures = 0
            } catch {
                if isStopping { break }
                stats.pollFailureCount.add(1, ordering: .relaxed)
                stats.lastPollFailure.withLock { $0 = String(describing: error) }
                failures += 1
                try? await Task.sleep(for: .milliseconds(min(100 * (1 << min(failures, 5)), 2_000)))
                continue
            }
            take(&records)
            freeFinishedEntries(&letGo)
            followPositions(subscription)
            adjustPauses(subscription)
            dispatch()
        }
        stopping.store(true, ordering: .releasing)
        await waitForRunning(book.withLock { $0.assigned }, within: shutdownTimeout)
        // Jobs still running after the timeout are cancelled (their offsets stay uncommitted);
        // the group is left only once they have returned, so no other member runs a job of the
        // same key meanwhile.
        let abandoned = control.withLock { Array($0.tasks.values) }
        for task in abandoned { task.cancel() }
        for task in abandoned { await task.value }
        await commit()
        // Forget every partition, so no retry waiting for its time starts after the worker stops.
        book.withLock { book in for partition in book.assigned { book.remove(partition) } }
        await subscription.close()
    }

    /// Stops taking jobs; `run()` then finishes the running ones (up to `shutdownTimeout`),
    /// commits and returns.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        bufferDrained.fire()
    }

    // MARK: Rebalances

    func assign(_ owned: [TopicPartition: CommittedOffset?]) {
        book.withLock { book in
            // A partition still being revoked was lost (`lose`) and is given back: a new generation.
            for (partition, committed) in owned where book.partitions[partition]?.revoking ?? true { book.assign(partition, committed: committed) }
            for partition in book.assigned where owned[partition] == nil { book.remove(partition) }
        }
    }

    /// Before partitions go to another member: no new jobs from them, wait for the running ones,
    /// commit, forget them.
    private func revoke(_ partitions: [TopicPartition]) async {
        book.withLock { book in for partition in partitions { book.revoke(partition) } }
        // Within the group's rebalance timeout, so this member is not dropped meanwhile.
        await waitForRunning(partitions, within: session.revokeWait)
        await cancelRuns(of: partitions)
        await commit(partitions)
        book.withLock { book in for partition in partitions { book.remove(partition) } }
    }

    /// Returns once no job of `partitions` runs, or after `timeout`: woken as jobs end, not by
    /// polling.
    func waitForRunning(_ partitions: [TopicPartition], within timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let generation = jobEnds.generation
            if book.withLock({ book in partitions.allSatisfy { book.runningCount($0) == 0 } }) { return }
            await jobEnds.wait(after: generation, until: deadline)
        }
    }

    // MARK: Taking jobs in and running them

    /// Moves the records into the book, leaving `records` empty: each record's buffers change
    /// hands without a retain and a release each (an empty record, which holds no buffer, takes
    /// its place until the array goes). A poll can bring tens of thousands of records: they go in
    /// `takeChunk` at a time, so runners finishing jobs meanwhile wait for the lock for a chunk,
    /// not for the whole poll.
    private func take(_ records: inout [BatchRecord]) {
        guard !records.isEmpty else { return }
        let now = nowMs()
        var wakes: [JobWake] = []
        let movedOut = BatchRecord.movedOut
        records.withUnsafeMutableBufferPointer { buffer in
            guard let first = buffer.baseAddress else { return }
            var next = 0
            while next < buffer.count {
                let end = min(next + Self.takeChunk, buffer.count)
                book.withLockSpinning { book in
                    for index in next..<end {
                        // Moved straight into `add`: through a local, the record was copied into
                        // the call and the local destroyed after it, a retain and a release each.
                        if let wake = book.add((first + index).move(), now: now).wake { wakes.append(wake) }
                        (first + index).initialize(to: movedOut)
                    }
                }
                next = end
            }
        }
        records.removeAll()
        for wake in wakes { scheduleWake(wake) }
    }

    /// Frees the entries of the jobs finished since the last poll here, on the poll loop's thread,
    /// which allocated them (see `JobBook.letGo`), out of the book's lock; `letGo` keeps the buffer.
    private func freeFinishedEntries(_ letGo: inout JobBook.LetGoEntries) {
        book.withLock { $0.takeLetGo(&letGo) }
        letGo.free()
    }

    /// Records taken into the book per hold of its lock.
    static var takeChunk: Int { 256 }


    /// Batches that hold no record (the place a duplicate enqueue keeps for the producer's
    /// sequence, a transaction marker) move the consumer's position and give the book no job: the
    /// commit point follows the position past them, as a plain consumer's commit does. Every
    /// record the poll returned is in the book by now, so nothing below the position is skipped.
    private func followPositions(_ subscription: any JobSubscription) {
        let owned = book.withLock { $0.assigned }
        let positions = owned.compactMap { partition in subscription.position(partition).map { (partition, $0) } }
        book.withLock { book in for (partition, position) in positions { book.advance(partition, to: position) } }
    }

    /// Pauses the partitions whose buffers are full and resumes the ones drained to half. Only
    /// the poll loop calls it, so the consumer sees pauses and resumes in the book's order.
    private func adjustPauses(_ subscription: any JobSubscription) {
        let (pause, resume) = book.withLock { $0.adjustPauses() }
        if !pause.isEmpty { subscription.pause(pause) }
        if !resume.isEmpty { subscription.resume(resume) }
    }

    /// While every partition is paused, a poll could only wait out its time with nothing to fetch,
    /// and a buffer that drains meanwhile would leave the worker idle until it returned: the loop
    /// parks until a finishing job finds its partition drained (`finish`), the worker stops, or a
    /// second passes (a poll then runs the group's rebalances, as it must now and then).
    private func waitWhileFetchesHeld() async {
        let deadline = ContinuousClock.now + .seconds(1)
        while !isStopping && !Task.isCancelled && ContinuousClock.now < deadline {
            let generation = bufferDrained.generation
            guard book.withLock({ $0.fetchesHeld }) else { return }
            await withTaskCancellationHandler {
                await bufferDrained.wait(after: generation, until: deadline)
            } onCancel: {
                bufferDrained.fire()
            }
        }
    }

    /// Starts every job that may run now, up to the concurrency limit.
    func dispatch() {
        while !isStopping, !jobControl.holdsStarts, let ticket = takeForNewRunner() { startRunner(ticket) }
    }

    /// A task that runs `first`, then keeps taking the next job that may run until there is none:
    /// one task per stretch of work, not one per job.
    private func startRunner(_ first: JobTicket) {
        control.withLock { state in
            let id = state.nextTask
            state.nextTask += 1
            let slot = leases.makeSlot(id)
            // The flag is set before the task is cancelled: the runner reads it after each job
            // instead of `Task.isCancelled`, which looked up the current task and retained it.
            let runner = JobRunner(id: id, cancel: { [weak self] in
                slot.runnerCancelled.store(true, ordering: .releasing)
                self?.control.withLock { $0.tasks[id] }?.cancel()
            }, lease: slot, metrics: stats.recorder.makeShard(), leaseHolder: RunnerLeaseHolder(leaseDesk))
            state.tasks[id] = Task.preferring(state.executor) { [self] in
                var ticket: JobTicket? = first
                var jobMark = 0
                // Moved out, not copied: a copy retained and released the ticket's three references per job.
                while let current = ticket.take() {
                    jobMark &+= 1
                    runner.lease.jobMark.store(jobMark, ordering: .relaxed)
                    let succeeded = await execute(current, runner: runner)
                    jobMark &+= 1
                    runner.lease.jobMark.store(jobMark, ordering: .relaxed)
                    let taking = !(isStopping || runner.isCancelled || jobControl.holdsStarts)
                    let (next, more, drained): (JobTicket?, Bool, Bool)
                    if let succeeded {
                        (next, more, drained) = finishTakingNext(current, now: succeeded.atMs,
                                                                 runner: RunnerTurn(taking: taking, nanoseconds: succeeded.nanoseconds))
                    } else {
                        ((next, more), drained) = (takeNextAsRunner(taking: taking), false)
                    }
                    // Only revocations and the worker's stop wait for runs to end, and they mark the
                    // partition or the worker first: firing on every job passed a line between
                    // the cores on every job.
                    if isStopping || !current.state.owned.load(ordering: .acquiring) { jobEnds.fire() }
                    let hasNext = next != nil
                    ticket = consume next
                    // A finished job can make several others eligible: the rest get runners of their own.
                    if hasNext && more { dispatch() }
                    // Its partition drained to where fetches resume: the poll loop, woken for it, gets
                    // its turn now. A runner whose handlers never suspend keeps its thread (with
                    // `.ownThread`, the poll loop's too) until no job is left, so the next fetch went
                    // out only once there was nothing to run, and the worker idled for its round trip.
                    if drained && hasNext { await Task.yield() }
                }
                leases.dropSlot(id)
                stats.recorder.drop(runner.metrics)
                _ = control.withLock { $0.tasks.removeValue(forKey: id) }
                // Ended early by a job's cancellation (see `runHandler`): the ready jobs get a runner.
                if Task.isCancelled && !isStopping { dispatch() }
            }
        }
    }

    func scheduleWake(_ wake: JobWake) { at(wake.atMs) { $0.wake(wake) } }

    /// At `atMs` (epoch ms), changes the book with `body` and starts what may run then.
    func at(_ atMs: Int64, _ body: @escaping @Sendable (inout JobBook) -> Void) {
        let delay = atMs - nowMs()
        Task.preferring(jobExecutor) { [weak self] in
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            guard let self else { return }
            self.book.withLock { body(&$0) }
            self.dispatch()
        }
    }

    /// Runs on its runner's executor (`nonisolated(nonsending)`, as `runHandler` does): a plain
    /// nonisolated async function hops to the global executor when called and its caller hops
    /// back when it returns, two calls into the concurrency runtime each, per job.
    ///
    /// Returns, for a job that succeeded, when it ended (epoch ms) and how long its handler ran,
    /// for the runner to finish it in the same hold of the book's lock as it takes its next job
    /// (`finishTakingNext`); any other outcome is finished here, and nil returned.
    private nonisolated(nonsending) func execute(_ ticket: JobTicket, runner: JobRunner) async -> (atMs: Int64, nanoseconds: UInt64)? {
        // An earlier owner dead-lettered it and committed the mark (`DeadLetterMarks`) before the
        // commit point reached it: it is done.
        guard !ticket.deadLettered else {
            finish(ticket, deadLettered: true)
            return nil
        }
        let entry = ticket.entry
        // Another group's retry of a job this group ran from its own delivery: not this group's to run.
        guard !entry.fields.otherGroup else {
            finish(ticket)
            return nil
        }
        // The run reads its id and headers through the entry, not through copies of its record:
        // a record's copies count references on its fetched batch, which every job of the batch
        // shares, on both cores; the entry is the job's own.
        let reference = JobEntryReference(entry: entry)
        let id: JobIdText = entry.fields.idSpan == nil ? .text(entry.record.jobId) : .inEntry(reference)
        guard !jobControl.isCancelled(id) else {
            finishCancelled(ticket)
            return nil
        }
        if mayBeHeld(entry.record), await takeHeld(ticket, runner: runner) { return nil }
        // Resumed at an attempt past the last one: `maxAttempts` was lowered since its count was
        // committed, or an earlier version committed its dead-letter mark as the count
        // `maxAttempts + 1`, which cannot be told from a count. A second dead letter beats a lost job.
        guard ticket.attempt <= retry.maxAttempts else {
            await deadLetter(ticket, error: "attempt \(ticket.attempt) is past maxAttempts (\(retry.maxAttempts)): its attempts are used up")
            return nil
        }
        let payload: Payload
        do {
            if entry.fields.wrongType, let type = entry.fields.type {
                throw JobError.wrongType(expected: typeName, found: String(decoding: type, as: UTF8.self))
            }
            payload = try entry.record.withValue { try decodePayload($0 ?? UnsafeRawBufferPointer(start: nil, count: 0)) }
        } catch {
            // A payload that cannot be decoded fails the same way on every attempt.
            await deadLetter(ticket, error: "cannot decode the payload as \(typeName): \(error)")
            return nil
        }
        let key = JobLeases.Key(ticket)
        let enqueuedAt = Date(timeIntervalSince1970: Double(entry.fields.producedAtMs ?? entry.record.timestamp) / 1000)
        let (topic, partition, offset) = (entry.record.topic, entry.record.partition, entry.record.offset)
        // Moved in, not copied: each copy retained and released the payload's buffers.
        let context = JobContext(payload: consume payload, id: consume id, key: entry.key, attempt: ticket.attempt, maxAttempts: retry.maxAttempts,
                                 topic: topic, partition: partition, offset: offset, enqueuedAt: enqueuedAt, headers: .entry(consume reference),
                                 lease: JobLease(holder: runner.leaseHolder, key: key))
        // Two clock reads a job: the start's wall-clock time comes from its monotonic one
        // (`RunnerClock`), and the end's is the start's plus the run's length.
        let started = monotonicNanoseconds()
        let startedMs = runner.clock.wallMs(at: started)
        runner.metrics.started(latencySeconds: ticket.dueMs.map { Double(startedMs - $0) / 1000 })
        do {
            if timeout == nil {
                // Awaited here, not through `runHandler`: one async call's frame fewer a job.
                try openRun(context.idText, key, runner: runner, partition: ticket.state, cancel: runner.cancel)
                defer { leases.close(runner.lease) }
                do { try await handler(context) } catch { throw untimedRunFailure(error, runner: runner) }
            } else {
                try await runHandler(context, key, runner: runner, partition: ticket.state)
            }
            let elapsed = monotonicNanoseconds() &- started
            runner.metrics.ended(after: Double(elapsed) / 1e9, .succeeded)
            return (startedMs + Int64(elapsed / 1_000_000), elapsed)
        } catch where jobControl.isCancelled(context.idText) {
            runner.metrics.ended(after: Self.seconds(since: started), nil)
            finishCancelled(ticket)
        } catch where isStopping && Task.isCancelled {
            // Cut short because the worker stops (`shutdownTimeout` passed): not a failure of the
            // job's, so no attempt is used. It stays below the commit point for the next owner.
            runner.metrics.ended(after: Self.seconds(since: started), nil)
            lost(ticket)
        } catch JobLeaseError.lost {
            // The partition went (before the handler started, or while it ran): not a failure of
            // the job's; it stays below the commit point for the new owner.
            runner.metrics.ended(after: Self.seconds(since: started), nil)
            lost(ticket)
        } catch {
            runner.metrics.ended(after: Self.seconds(since: started), .failed)
            await failed(ticket, error: error)
        }
        return nil
    }

    /// Marks a job done; the runner that ran it takes the next one.
    /// Wakes the poll loop when the job's partition was paused and is now drained to half.
    func finish(_ ticket: JobTicket, deadLettered: Bool = false) {
        _ = finishTakingNext(ticket, now: nowMs(), deadLettered: deadLettered)
    }

    // MARK: Commits

    /// Commits every partition whose commit point moved (or only `partitions`). Failures (a
    /// rebalance under way) are left for the next round.
    func commit(_ partitions: [TopicPartition]? = nil) async {
        guard let subscription = control.withLock({ $0.subscription }) else { return }
        await commitLock.run {
            let points = book.withLock { $0.changedCommitPoints(partitions) }
            guard !points.isEmpty else { return }
            do {
                try await subscription.commit(points)
                book.withLock { $0.committed(points) }
            } catch {}
        }
    }

    private static func decoder<Coding: JobCoding>(_ coding: Coding) -> @Sendable (UnsafeRawBufferPointer) throws -> Payload {
        { bytes in try coding.decode(Payload.self, fromBytesAt: bytes) }
    }

    func nowMs() -> Int64 { currentTimeMs() }

    /// Seconds since `start`, a `monotonicNanoseconds()` reading.
    static func seconds(since start: UInt64) -> Double { Double(monotonicNanoseconds() &- start) / 1e9 }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }
}

/// Why the runtime could not run a job, or list a topic's jobs.
public enum JobError: Error, CustomStringConvertible, Sendable {
    case wrongType(expected: String, found: String)
    /// Reading a whole topic (a listing) stopped moving before its end.
    case readStalled(ReadStall)
    /// An enqueue's `runAt` past what `spool-deliver-at` can say (18 digits of milliseconds).
    case runAtOutOfRange(Date)

    public var description: String {
        switch self {
        case let .wrongType(expected, found): "the job's type is \(found), this worker runs \(expected)"
        case let .readStalled(stall): stall.description
        case let .runAtOutOfRange(date): "runAt \(date) is too far ahead (at most 10^18 ms after 1970)"
        }
    }
}
