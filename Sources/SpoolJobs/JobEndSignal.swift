import Synchronization

/// Wakes whoever waits for running jobs to end (a revoke, the worker's stop): runners call
/// `jobEnded` after each job, and `wait(after:until:)` returns at the next one or at its
/// deadline, whichever comes first. A generation number closes the gap between a waiter checking
/// its condition and registering: an end in between returns at once.
final class JobEndSignal: Sendable {
    private struct State {
        var generation = 0
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// The generation to pass to `wait`, read before checking what is waited for.
    var generation: Int { state.withLock { $0.generation } }

    /// A job ended: every waiter returns.
    func jobEnded() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once a job ended after `generation` was read, or at `deadline`.
    func wait(after generation: Int, until deadline: ContinuousClock.Instant) async {
        let id = state.withLock { state -> Int in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            self?.resume(id)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.generation == generation, ContinuousClock.now < deadline else { return true }
                state.waiters[id] = continuation
                return false
            }
            if now { continuation.resume() }
        }
        timer.cancel()
    }

    private func resume(_ id: Int) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }
}
