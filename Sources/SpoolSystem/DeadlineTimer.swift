import Dispatch
import Synchronization

/// A one-shot timer at a monotonic deadline that can be cancelled. Cancelling stops the timer and
/// lets go of its handler at once, so nothing the handler holds outlives the wait it bounds (a
/// fetch's long poll woken early by data would otherwise keep its timer, and what the timer holds,
/// until the deadline). Exactly one of firing or cancelling settles it; `settled` then runs once.
public final class DeadlineTimer: Sendable {
    // DispatchSourceTimer is thread-safe but not marked Sendable; the Mutex hands it over, and
    // holds it only while the timer is armed.
    private let source: Mutex<(any DispatchSourceTimer)?>
    private let settled: @Sendable () -> Void

    /// Arms the timer: `handler` runs on `queue` at `deadline` unless `cancel()` comes first.
    /// `settled` runs once when the timer fires or is cancelled, whichever is first.
    public init(deadline: DispatchTime, queue: DispatchQueue = .global(), settled: @escaping @Sendable () -> Void = {},
                _ handler: @escaping @Sendable () -> Void) {
        self.source = Mutex(DispatchSource.makeTimerSource(queue: queue))
        self.settled = settled
        source.withLock { source in
            source?.schedule(deadline: deadline)
            source?.setEventHandler { [weak self] in
                guard let self, self.settle() else { return }
                handler()
            }
            source?.resume()
        }
    }

    /// Whether the timer is still armed: neither fired nor cancelled.
    public var isArmed: Bool { source.withLock { $0 != nil } }

    /// Stops the timer if it has not fired; its handler will not run.
    public func cancel() { _ = settle() }

    deinit { cancel() }

    /// Disarms the timer; true for the one call that found it armed.
    private func settle() -> Bool {
        let armed = source.withLock { source -> (any DispatchSourceTimer)? in
            defer { source = nil }
            return source
        }
        guard let armed else { return false }
        armed.cancel()
        settled()
        return true
    }
}
