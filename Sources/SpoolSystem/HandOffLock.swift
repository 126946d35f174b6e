import Glibc
import Synchronization

/// A lock over state that two kinds of thread change: threads that may block while they hold it
/// (a `BlockingQueue`'s, waiting for the disk), and Swift's cooperative threads, which must never
/// wait behind those.
///
/// A caller that may not block takes the lock only when it is free and no holder that may block
/// holds or waits for it (`withLockIfFree`); when it cannot, it hands its work to a thread that
/// may block, which takes the lock with `withLockMayBlock`. A caller that queues such work
/// announces it first (`announcingMayBlock`), so that callers coming after it step aside and do
/// not overtake it. A holder that never blocks, on any thread, takes it with `withLock`.
public final class HandOffLock<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    /// Holders that may block, counted from before they wait for the lock (or queue their work)
    /// until they release it.
    private let holdersMayBlock = Atomic(0)

    public init(_ value: Value) { mutex = Mutex(value) }

    /// Runs `body` under the lock, waiting for it: for a holder that does not block.
    public func withLock<T: Sendable, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        try mutex.withLock { value throws(E) -> T in try body(&value) }
    }

    /// Runs `body` under the lock, waiting for it, counted as a holder that may block: for a
    /// thread that may block (never one of Swift's cooperative threads).
    public func withLockMayBlock<T: Sendable, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        holdersMayBlock.add(1, ordering: .sequentiallyConsistent)
        defer { holdersMayBlock.subtract(1, ordering: .sequentiallyConsistent) }
        return try mutex.withLock { value throws(E) -> T in try body(&value) }
    }

    /// Counts the caller as a holder that may block until `work` returns: for work queued for a
    /// thread that may block, which takes the lock there (with `withLock`).
    public func announcingMayBlock<T: Sendable, E: Error>(_ work: () async throws(E) -> T) async throws(E) -> T {
        holdersMayBlock.add(1, ordering: .sequentiallyConsistent)
        defer { holdersMayBlock.subtract(1, ordering: .sequentiallyConsistent) }
        return try await work()
    }

    /// Runs `body` under the lock if the lock can be had without waiting: it is free (tried up to
    /// `attempts` times, yielding the processor between tries, for holders that are brief) and
    /// no holder that may block holds or waits for it. Nil: `body` did not run.
    public func withLockIfFree<T: Sendable, E: Error>(attempts: Int = 1, _ body: (inout Value) throws(E) -> T) throws(E) -> T? {
        for attempt in 0..<attempts {
            if holdersMayBlock.load(ordering: .sequentiallyConsistent) > 0 { return nil }
            if let result = try mutex.withLockIfAvailable({ value throws(E) -> T in try body(&value) }) { return result }
            if attempt + 1 < attempts { sched_yield() }
        }
        return nil
    }
}
