import Dispatch
import Synchronization

/// A repeating timer on a dispatch queue (the flusher's `interval=<ms>` policy, the broker's
/// retention schedule). `stop()` cancels it for good.
public final class RepeatingTimer: Sendable {
    // DispatchSourceTimer is thread-safe (libdispatch serialises its operations) but not marked
    // Sendable; the Mutex makes the hand-over explicit.
    private let source: Mutex<(any DispatchSourceTimer)?>

    public init(queue: DispatchQueue, intervalMs: Int) {
        let source = DispatchSource.makeTimerSource(queue: queue)
        source.schedule(deadline: .now() + .milliseconds(intervalMs), repeating: .milliseconds(intervalMs))
        self.source = Mutex(source)
    }

    public func start(_ handler: @escaping @Sendable () -> Void) {
        source.withLock { source in
            source?.setEventHandler(handler: handler)
            source?.resume()
        }
    }

    public func stop() {
        source.withLock { source in
            source?.cancel()
            source = nil
        }
    }
}
