import Synchronization

/// A value behind a lock, in a class so escaping closures can share it.
final class LockedValue<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ value: Value) { storage = Mutex(value) }

    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { storage.withLock { body(&$0) } }
}

/// A lock held across suspension points: one holder at a time, the others wait in order.
final class AsyncLock: Sendable {
    private struct State {
        var held = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func run<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state in
                if state.held {
                    state.waiters.append(continuation)
                    return false
                }
                state.held = true
                return true
            }
            if acquired { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.held = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// An `AsyncLock` per id: one holder of an id at a time, the others waiting in turn. An id
/// nobody holds takes no memory.
final class IdLocks: Sendable {
    /// The ids held, each with its waiters in order.
    private let held = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    func run<T: Sendable>(_ id: String, _ body: () async throws -> T) async rethrows -> T {
        await acquire(id)
        defer { release(id) }
        return try await body()
    }

    private func acquire(_ id: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = held.withLock { held in
                if held[id] != nil {
                    held[id]?.append(continuation)
                    return false
                }
                held[id] = []
                return true
            }
            if acquired { continuation.resume() }
        }
    }

    /// Hands the id to its first waiter, or lets it go.
    private func release(_ id: String) {
        let next = held.withLock { held -> CheckedContinuation<Void, Never>? in
            guard let waiters = held[id], !waiters.isEmpty else {
                held[id] = nil
                return nil
            }
            held[id] = Array(waiters.dropFirst())
            return waiters[0]
        }
        next?.resume()
    }
}

extension Mutex where Value: ~Copyable {
    /// `withLock`, after a few tries that never sleep. A contended `Mutex` waits in the kernel at
    /// once (a priority-inheriting futex), which costs microseconds; the worker's book is held for
    /// a few hundred nanoseconds at a time by runners on every thread, so its holder is usually
    /// about to let go, and a try again is cheaper than a sleep.
    borrowing func withLockSpinning<Result>(_ body: (inout sending Value) -> sending Result) -> sending Result {
        for _ in 0..<Self.spins {
            if let result = withLockIfAvailable(body) { return result }
        }
        return withLock(body)
    }

    /// Tries before `withLockSpinning` sleeps.
    static var spins: Int { 100 }
}
