import Foundation
import SpoolFormat
import Synchronization

/// Why a run was stopped from outside its handler.
public enum JobLeaseError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The worker's `timeout` passed: the handler was cancelled and the run counts as a failed
    /// attempt (retried, or dead-lettered after the last).
    case timedOut(after: Duration)
    /// The worker no longer owns the job's partition (a rebalance gave it to another worker, or
    /// the worker is stopping): the run was cancelled, and the job runs again on the new owner.
    case lost

    public var description: String {
        switch self {
        case let .timedOut(after): "timed out after \(JobLeaseError.format(after))"
        case .lost: "the worker lost the job's lease (its partition went to another worker)"
        }
    }

    /// "1.5 s", "300 ms", "2 min".
    static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000) min" }
        if ms % 1_000 == 0 { return "\(ms / 1_000) s" }
        return ms >= 1_000 ? "\(Double(ms) / 1_000) s" : "\(ms) ms"
    }
}

/// A running job's hold on its key: the worker's group session, renewed by heartbeats while the
/// handler runs. `JobContext.extendLease()` renews it at once and says whether it still holds.
struct JobLease: Sendable {
    let holder: any JobLeaseHolder
    let key: JobLeases.Key

    func renew() async throws { try await holder.renewLease(key) }
}

/// The worker, as a running job's lease sees it (not generic, so a lease costs no closure).
protocol JobLeaseHolder: AnyObject, Sendable {
    func renewLease(_ key: JobLeases.Key) async throws
}

extension JobContext {
    /// Renews the job's lease now (a heartbeat) and throws `JobLeaseError.lost` when the worker no
    /// longer owns the job: another worker may run it, so a long handler that calls this between
    /// steps can stop early instead of duplicating work. Heartbeats renew the lease anyway while
    /// the handler runs; this is for handlers that want to know.
    public func extendLease() async throws {
        try await lease?.renew()
    }
}

/// A runner task as its jobs see it: its number (its key in `Worker.Control.tasks`), how to
/// cancel it, and its place in `JobLeases`, made once per runner.
struct JobRunner: Sendable {
    let id: Int
    let cancel: @Sendable () -> Void
    let lease: JobLeases.Slot
    /// Where its runs are counted (`JobMetricsRecorder.Shard`).
    let metrics: JobMetricsRecorder.Shard
    /// The wall-clock time of its runs' starts.
    let clock = RunnerClock()
    /// What its runs' leases hold (`JobLease.holder`): the runner's own, so that making and
    /// dropping a lease on every job counts references on an object of this runner's alone, not
    /// on the worker's desk, which every runner's jobs on every core did.
    let leaseHolder: RunnerLeaseHolder

    /// `cancel` was called: the runner's task is cancelled, or is being cancelled.
    var isCancelled: Bool { lease.runnerCancelled.load(ordering: .acquiring) }
}

extension Worker: JobLeaseHolder {}

/// A runner's hold on its worker's `JobLeaseDesk`, for its runs' leases (`JobRunner.leaseHolder`).
final class RunnerLeaseHolder: JobLeaseHolder {
    let desk: JobLeaseDesk

    init(_ desk: JobLeaseDesk) { self.desk = desk }

    func renewLease(_ key: JobLeases.Key) async throws { try await desk.renewLease(key) }
}

/// The worker as its runs' leases hold it: weakly, through this small object. A lease is made
/// for every run, and the worker's reference count, which weak references to it keep in a side
/// table, takes the slow path on every retain and release.
final class JobLeaseDesk: JobLeaseHolder {
    private struct Reference { weak var holder: (any JobLeaseHolder)? }
    private let worker = Mutex(Reference())

    /// Set once the worker is made, before any lease is given out.
    func attach(_ holder: any JobLeaseHolder) { worker.withLock { $0.holder = holder } }

    func renewLease(_ key: JobLeases.Key) async throws {
        guard let holder = worker.withLock({ $0.holder }) else { throw JobLeaseError.lost }
        try await holder.renewLease(key)
    }
}

/// The runs in progress and how each may be stopped: by the worker's timeout, because the
/// worker lost the job's partition, or because the job was cancelled (`JobQueue.cancel`).
///
/// A runner has one run at a time, in a slot of its own: opening and closing a run takes only
/// that slot's lock, so runners on two threads do not meet on every job in one shared
/// dictionary. The rare calls that look for runs (a cancellation, a timeout, a lost partition)
/// go through every slot.
final class JobLeases: Sendable {
    /// A run: its job's offset in an assignment (generations are numbered across partitions).
    struct Key: Hashable {
        var generation: Int
        var offset: Int64

        init(_ ticket: JobTicket) {
            self.init(generation: ticket.generation, offset: ticket.offset)
        }

        init(generation: Int, offset: Int64) {
            self.generation = generation
            self.offset = offset
        }
    }

    enum End: Equatable { case timedOut, lost }

    fileprivate struct Run {
        var key: Key
        var id: JobIdText
        var cancel: @Sendable () -> Void
        var end: End?
    }

    /// One runner's place: its run, if one is open.
    final class Slot: Sendable {
        fileprivate let run = Mutex<Run?>(nil)
        /// The runner's task was cancelled through its `JobRunner.cancel` (a lost partition, a
        /// cancelled job), which is the only way a runner is cancelled while the worker runs: the
        /// worker's stop cancels runners too, and it is read beside `isStopping`.
        let runnerCancelled = Atomic(false)
        /// Counts up as the runner starts a job and as it ends one, so it is odd inside a job: the
        /// runners' watch (`Worker.watchRunners`) reads it to see whether the runner moved on.
        let jobMark = Atomic(0)
    }

    /// The slots of the runners alive, by runner number.
    private let slots = Mutex<[Int: Slot]>([:])

    /// A slot for runner `id`, until `dropSlot`.
    func makeSlot(_ id: Int) -> Slot {
        let slot = Slot()
        slots.withLock { $0[id] = slot }
        return slot
    }

    func dropSlot(_ id: Int) { _ = slots.withLock { $0.removeValue(forKey: id) } }

    private var allSlots: [Slot] { slots.withLock { Array($0.values) } }

    /// Each runner's `Slot.jobMark`, by runner number.
    var jobMarks: [Int: Int] { slots.withLock { $0.mapValues { $0.jobMark.load(ordering: .relaxed) } } }

    /// A run of job `id` starts in the runner's slot; `cancel` stops its handler.
    func open(_ key: Key, id: JobIdText, in slot: Slot, cancel: @escaping @Sendable () -> Void) {
        slot.run.withLock { $0 = Run(key: key, id: id, cancel: cancel) }
    }

    /// Cancels the handlers of the runs of these jobs, under their slots' locks (see
    /// `end(_:because:)`). The runs stay open: they end as cancelled when their handlers return.
    func cancel(ids: Set<String>) {
        for slot in allSlots {
            slot.run.withLock { run in if let run, ids.contains(run.id.string) { run.cancel() } }
        }
    }

    func close(_ slot: Slot) { slot.run.withLock { $0 = nil } }

    /// Why the slot's run was ended from outside, if it was.
    func end(in slot: Slot) -> End? { slot.run.withLock { $0?.end } }

    /// Why the run of `key` was ended from outside, if it was and is still open.
    func end(of key: Key) -> End? {
        for slot in allSlots {
            if let end = slot.run.withLock({ run in run?.key == key ? run?.end : nil }) { return end }
        }
        return nil
    }

    /// Ends the run (the first reason given sticks) and cancels its handler. The cancel runs
    /// under its slot's lock, so it cannot reach a runner that has closed this run and gone on to
    /// another job; it only sets flags and runs cancellation handlers, none of which come back here.
    func end(_ key: Key, because reason: End) { endRuns(because: reason) { $0 == key } }

    /// Ends as lost every run of these partitions' assignments (by generation).
    func loseAll(_ generations: [TopicPartition: Int]) {
        let lost = Set(generations.values)
        endRuns(because: .lost) { lost.contains($0.generation) }
    }

    private func endRuns(because reason: End, where matches: (Key) -> Bool) {
        for slot in allSlots {
            slot.run.withLock { run in
                guard let key = run?.key, matches(key), run?.end == nil else { return }
                run?.end = reason
                run?.cancel()
            }
        }
    }
}

extension Worker {
    /// Runs the handler so that the worker can stop it: when `timeout` passes (the run fails
    /// as `JobLeaseError.timedOut`), when the job's partition is taken away (`.lost`), or when the
    /// runner itself is cancelled. It always waits for the handler to return, so two runs of one
    /// key never overlap, even with a handler slow to notice.
    ///
    /// Without a timeout the handler runs in the runner's own task, and losing the partition
    /// cancels that runner (it ends after this job): a task per job costs about 1.6 µs, a fifth
    /// of what the runtime spends on a job. With a timeout it runs in a task of its own, which the
    /// timer cancels.
    ///
    /// `context` comes with its lease set. A job cancelled (`JobQueue.cancel`) while it runs is
    /// cancelled too: a cancellation is recorded before it looks for runs (`applyControl`), and a
    /// run opens before it looks for cancellations, so one of the two sees the other. Likewise a
    /// partition taken away is marked in the book before its runs are ended (`lose`, `revoke`),
    /// and a run opens before it looks at the book: a run that opens after its partition went
    /// throws `JobLeaseError.lost` without starting the handler, leaving the job to the new owner.
    nonisolated(nonsending) func runHandler(_ context: JobContext<Payload>, _ key: JobLeases.Key, runner: JobRunner,
                                            partition: JobBook.PartitionState? = nil) async throws {
        guard let timeout else {
            try openRun(context.idText, key, runner: runner, partition: partition, cancel: runner.cancel)
            defer { leases.close(runner.lease) }
            do { try await handler(context) } catch { throw untimedRunFailure(error, runner: runner) }
            return
        }
        // Opened before the handler starts, so it never runs for a partition gone: what ends the
        // run meanwhile finds no task to cancel, and is looked for once there is one.
        let run = LockedValue<Task<Void, any Error>?>(nil)
        try openRun(context.idText, key, runner: runner, partition: partition) { run.value?.cancel() }
        let handler = self.handler
        let task = Task.preferring(jobExecutor) { [context] in try await handler(context) }
        run.value = task
        if leases.end(in: runner.lease) != nil || jobControl.isCancelled(context.idText) { task.cancel() }
        let timer = Task { [leases] in
            try await Task.sleep(for: timeout)
            leases.end(key, because: .timedOut)
        }
        defer {
            timer.cancel()
            leases.close(runner.lease)
        }
        do {
            try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        } catch {
            switch leases.end(in: runner.lease) {
            case .timedOut?: throw JobLeaseError.timedOut(after: timeout)
            case .lost?: throw JobLeaseError.lost
            case nil: throw error
            }
        }
    }

    /// Opens a run's lease, whose end calls `cancel` (the runner's, for a handler run in the
    /// runner's own task), or throws without opening it: `.lost` when the partition went, a
    /// cancellation when the job was cancelled between the check before decoding and now. The
    /// caller closes it once the handler returns. Given the job's id, not its `JobContext`:
    /// reading a field of the generic context looked its type up at run time on every job.
    func openRun(_ id: JobIdText, _ key: JobLeases.Key, runner: JobRunner, partition: JobBook.PartitionState?,
                 cancel: @escaping @Sendable () -> Void) throws {
        leases.open(key, id: id, in: runner.lease, cancel: cancel)
        guard holdsLease(key, of: partition) else {
            leases.close(runner.lease)
            throw JobLeaseError.lost
        }
        if jobControl.isCancelled(id) {
            leases.close(runner.lease)
            throw CancellationError()
        }
    }

    /// What an untimed run's handler threw, as the run ends with it: `.lost` when the partition
    /// went while it ran (which cancelled the runner).
    func untimedRunFailure(_ error: any Error, runner: JobRunner) -> any Error {
        leases.end(in: runner.lease) == .lost ? JobLeaseError.lost : error
    }

    /// A heartbeat now; throws `.lost` once the partition is being taken away or gone.
    func renewLease(_ key: JobLeases.Key) async throws {
        if let subscription = control.withLock({ $0.subscription }) { _ = await subscription.heartbeat() }
        if !holdsLease(key) || leases.end(of: key) == .lost { throw JobLeaseError.lost }
    }

    /// Whether the run's partition is still this worker's in the run's assignment, and not being
    /// taken away.
    func holdsLease(_ key: JobLeases.Key) -> Bool {
        book.withLock { book in book.partitions.values.contains { $0.generation == key.generation && !$0.revoking } }
    }

    /// The same, read from the run's partition when the caller has it, without the book's lock:
    /// its `owned` flag is cleared under that lock before revocations look for open leases, and
    /// the lease was opened under its slot's lock, so either the revocation sees the lease or
    /// this sees the flag.
    func holdsLease(_ key: JobLeases.Key, of partition: JobBook.PartitionState?) -> Bool {
        guard let partition else { return holdsLease(key) }
        return partition.generation == key.generation && partition.owned.load(ordering: .acquiring)
    }

    /// Partitions are being taken away and their jobs did not finish in time: cancel them and
    /// wait (a little) for their handlers to return. They stay below the commit point, so the new
    /// owner runs them again.
    func cancelRuns(of partitions: [TopicPartition]) async {
        let generations = book.withLock { book in
            Dictionary(uniqueKeysWithValues: partitions.compactMap { partition in book.partitions[partition].map { (partition, $0.generation) } })
        }
        await cancelRuns(of: generations)
    }

    private func cancelRuns(of generations: [TopicPartition: Int]) async {
        let partitions = Array(generations.keys)
        guard book.withLock({ book in partitions.contains { book.runningCount($0) > 0 } }) else { return }
        leases.loseAll(generations)
        await waitForRunning(partitions, within: .seconds(5))
    }

    /// A run stopped because its partition was lost: it stays unfinished for the new owner, with
    /// no retry enqueued and no dead letter.
    func lost(_ ticket: JobTicket) {
        book.withLock { $0.abandon(ticket) }
    }
}

extension Worker {
    /// The session ended without a rebalance this worker took part in (no heartbeat got through,
    /// or the group dropped it): the partitions may already run on another worker, so their runs
    /// are cancelled at once, nothing is committed, and they are forgotten.
    ///
    /// The consumer may rejoin meanwhile and be given some of them again: the assignment hook
    /// then replaces a partition still being revoked with a new generation, and only the
    /// generations lost here are cancelled and forgotten.
    func lose(_ partitions: [TopicPartition]) async {
        let generations = book.withLock { book in
            var generations: [TopicPartition: Int] = [:]
            for partition in partitions {
                guard let state = book.partitions[partition] else { continue }
                generations[partition] = state.generation
                book.revoke(partition)
            }
            return generations
        }
        await cancelRuns(of: generations)
        book.withLock { book in
            for (partition, generation) in generations where book.partitions[partition]?.generation == generation { book.remove(partition) }
        }
    }
}
