import Dispatch
import SpoolSystem
import Synchronization

/// Where every consumer's heartbeats run: a serial dispatch queue of its own, not Swift's
/// cooperative thread pool.
///
/// A job handler may keep a cooperative thread busy for a long time (a CPU-bound loop, a
/// blocking library call), and a worker may run as many handlers as there are cooperative threads.
/// Heartbeats that waited for one of those threads would stop, the session would expire and the
/// group would rebalance — running the job again elsewhere. The heartbeat task prefers this
/// executor (`Task(executorPreference:)`), so its own code and the code of the transport it calls
/// run here, and it sleeps on a dispatch timer of this queue rather than with `Task.sleep` (whose
/// wake-up goes through the global executor).
///
/// Thread-safe. A heartbeat is a few microseconds of work between waits, so one queue serves every
/// consumer of the process.
public final class HeartbeatExecutor: TaskExecutor, Sendable {
    /// The process's heartbeat executor.
    public static let shared = HeartbeatExecutor()

    private let queue = DispatchQueue(label: "spool.heartbeats")

    private init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Waits `milliseconds` on this executor's queue, or less when the task is cancelled.
    func sleep(milliseconds: Int) async {
        let wait = Wait()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // The timer resumes the continuation once, when it fires or is cancelled.
                wait.timer.withLock {
                    $0 = DeadlineTimer(deadline: .now() + .milliseconds(max(0, milliseconds)), queue: queue,
                                       settled: { continuation.resume() }) {}
                }
            }
        } onCancel: {
            wait.timer.withLock { $0 }?.cancel()
        }
    }

    /// Holds the timer of one `sleep` (a timer that is let go of cancels itself).
    private final class Wait: Sendable {
        let timer = Mutex<DeadlineTimer?>(nil)
    }
}
