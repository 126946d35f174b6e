import Dispatch
import Synchronization

/// A repeating timer on the flush queue, for the `interval=<ms>` policy.
final class FlushTimer: Sendable {
    // DispatchSourceTimer is thread-safe (libdispatch serialises its operations) but not marked
    // Sendable; the Mutex makes the hand-over explicit.
    private let source: Mutex<(any DispatchSourceTimer)?>

    init(queue: DispatchQueue, intervalMs: Int) {
        let source = DispatchSource.makeTimerSource(queue: queue)
        source.schedule(deadline: .now() + .milliseconds(intervalMs), repeating: .milliseconds(intervalMs))
        self.source = Mutex(source)
    }

    func start(_ handler: @escaping @Sendable () -> Void) {
        source.withLock { source in
            source?.setEventHandler(handler: handler)
            source?.resume()
        }
    }

    func stop() {
        source.withLock { source in
            source?.cancel()
            source = nil
        }
    }
}
