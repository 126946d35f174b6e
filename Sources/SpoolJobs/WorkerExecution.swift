import Dispatch
import Foundation
import SpoolSystem

/// Where a worker's poll loop and its jobs run.
public enum WorkerExecution: Sendable, Equatable {
    /// On Swift's global concurrent executor, with every other task of the process (the
    /// default): a handler that computes can use every core, several jobs at once.
    case shared
    /// On one thread of the worker's own, started by `run()` and ended when it returns. Every
    /// record is decoded, taken in, run and let go on the thread that fetched it, so none of a
    /// job's memory moves between cores: for many short jobs, a third less CPU per job in
    /// `spool-bench jobs` (docs/benchmarks.md). The handlers share that thread: jobs that wait
    /// (I/O, sleeps) still overlap up to `concurrency`, but code that computes runs one job at a
    /// time per worker, so run a worker per core for that, or hand the work to other tasks.
    case ownThread
}

/// A task executor with one thread of its own: the jobs enqueued on it run there, one after
/// another, in the order they came. The thread starts with the first job and ends after `stop()`
/// once it has run the jobs already enqueued; a job enqueued after that runs on Dispatch's global
/// queue instead, so a task that still prefers this executor (a timer set before the worker
/// stopped) is never stranded.
final class OwnThreadExecutor: TaskExecutor, @unchecked Sendable {
    private enum State { case idle, running, stopped }

    /// Guards `jobs` and `state`, and wakes the thread when a job comes or `stop()` is called.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var state = State.idle
    private let name: String

    /// `name` names the thread (`nameCurrentThread`).
    init(name: String) { self.name = name }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        switch state {
        case .stopped:
            condition.unlock()
            let executor = asUnownedTaskExecutor()
            DispatchQueue.global().async { job.runSynchronously(on: executor) }
            return
        case .idle:
            state = .running
            Thread { [self] in loop() }.start()
        case .running:
            break
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once it has run what is enqueued.
    func stop() {
        condition.lock()
        if state == .idle { state = .stopped } else { state = .stopped; condition.signal() }
        condition.unlock()
    }

    private func loop() {
        nameCurrentThread(name)
        let executor = asUnownedTaskExecutor()
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty && state != .stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: executor) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}

extension Task where Failure == any Error {
    /// A task that prefers `executor` when there is one, and otherwise a plain task. Not
    /// `Task(executorPreference: nil)`: a task made so is marked as having a preference, and every
    /// hop it makes back after an await (after every job's handler) read the preference under the
    /// task's status lock.
    @discardableResult
    static func preferring(_ executor: (any TaskExecutor)?, _ operation: sending @escaping () async throws -> Success) -> Task {
        guard let executor else { return Task(operation: operation) }
        return Task(executorPreference: executor, operation: operation)
    }
}

extension Task where Failure == Never {
    /// `Task.preferring` for an operation that does not throw.
    @discardableResult
    static func preferring(_ executor: (any TaskExecutor)?, _ operation: sending @escaping () async -> Success) -> Task {
        guard let executor else { return Task(operation: operation) }
        return Task(executorPreference: executor, operation: operation)
    }
}
