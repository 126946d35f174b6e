import Dispatch
import Synchronization

/// A repeating timer on a dispatch queue (the flusher's `interval=<ms>` policy, the broker's
/// retention schedule). `stop()` cancels it for good; so does letting it go, started or not.
public final class RepeatingTimer: Sendable {
    // DispatchSourceTimer is thread-safe (libdispatch serialises its operations) but not marked
    // Sendable; the Mutex makes the hand-over explicit.
    private let state: Mutex<(source: (any DispatchSourceTimer)?, started: Bool)>

    public init(queue: DispatchQueue, intervalMs: Int) {
        let source = DispatchSource.makeTimerSource(queue: queue)
        source.schedule(deadline: .now() + .milliseconds(intervalMs), repeating: .milliseconds(intervalMs))
        state = Mutex((source, false))
    }

    public func start(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { state in
            guard let source = state.source, !state.started else { return }
            source.setEventHandler(handler: handler)
            source.resume()
            state.started = true
        }
    }

    public func stop() {
        state.withLock { state in
            guard let source = state.source else { return }
            source.cancel()
            // A source never started is still suspended, and libdispatch traps when a suspended
            // source is released: resumed after the cancel, it runs no handler and goes.
            if !state.started { source.resume() }
            state.source = nil
        }
    }

    deinit { stop() }
}
