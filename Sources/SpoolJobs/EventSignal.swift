import Synchronization

/// Wakes whoever waits for something that happens often (a job's end, a paused partition's
/// buffer draining): the side that makes it happen calls `fire`, and `wait(after:until:)` returns
/// at the next one or at its deadline, whichever comes first. A generation number closes the gap
/// between a waiter checking its condition and registering: a `fire` in between returns at once.
///
/// `fire` may run once per job, so with nobody waiting it costs two atomic operations and no
/// lock: a waiter counts itself in `waiting` before it looks at the generation, and `fire`
/// bumps the generation before it looks at `waiting` (both sequentially consistent), so at least
/// one of them sees the other.
final class EventSignal: Sendable {
    private struct Waiters {
        var next = 0
        var continuations: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let generationCounter = Atomic<Int>(0)
    private let waiting = Atomic<Int>(0)
    private let waiters = Mutex(Waiters())

    /// The generation to pass to `wait`, read before checking what is waited for.
    var generation: Int { generationCounter.load(ordering: .sequentiallyConsistent) }

    /// It happened: every waiter returns.
    func fire() {
        generationCounter.wrappingAdd(1, ordering: .sequentiallyConsistent)
        guard waiting.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let woken = waiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            defer { waiters.continuations.removeAll() }
            return Array(waiters.continuations.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once `fire` was called after `generation` was read, or at `deadline`.
    func wait(after generation: Int, until deadline: ContinuousClock.Instant) async {
        let id = waiters.withLock { waiters -> Int in
            defer { waiters.next += 1 }
            return waiters.next
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            self?.resume(id)
        }
        waiting.add(1, ordering: .sequentiallyConsistent)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = waiters.withLock { waiters -> Bool in
                guard self.generation == generation, ContinuousClock.now < deadline else { return true }
                waiters.continuations[id] = continuation
                return false
            }
            if now { continuation.resume() }
        }
        waiting.subtract(1, ordering: .sequentiallyConsistent)
        timer.cancel()
    }

    private func resume(_ id: Int) {
        waiters.withLock { $0.continuations.removeValue(forKey: id) }?.resume()
    }
}
