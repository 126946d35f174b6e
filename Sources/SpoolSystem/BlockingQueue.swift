import Dispatch
import Synchronization

/// A queue for work that blocks (creating, syncing and deleting files, or waiting for a lock that
/// such work holds). An async caller awaits the result while the queue's own thread does the
/// waiting, so the work never holds one of Swift's cooperative threads, of which there is one per
/// core: two blocked ones on a 2-core machine stop every task of the process, heartbeats included.
///
/// Only serial dispatch queues do that. A concurrent dispatch queue runs on Dispatch's global
/// pool, which on Linux is the pool Swift's tasks run on, as wide as there are cores: work
/// blocked there stops the tasks just the same, until Dispatch's monitor notices (a second or
/// more). So a concurrent `BlockingQueue` is a set of serial queues ("lanes"), each with a
/// thread of its own when it has work, taken in turn.
public final class BlockingQueue: Sendable {
    private let lanes: [DispatchQueue]
    private let next = Atomic(0)

    /// How many lanes a concurrent queue has: how much of its work may block at once before the
    /// rest waits behind it.
    public static let concurrentLanes = 16

    /// A serial queue runs its work one after another; a concurrent one side by side, up to
    /// `concurrentLanes` at a time.
    public init(label: String, concurrent: Bool = false) {
        lanes = (0..<(concurrent ? Self.concurrentLanes : 1)).map { DispatchQueue(label: concurrent ? "\(label).\($0)" : label) }
    }

    /// Runs `work` on the queue (on a serial one, after the work submitted before it), and returns
    /// what it returns.
    public func run<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let lane = lanes.count == 1 ? lanes[0] : lanes[next.add(1, ordering: .relaxed).oldValue % lanes.count]
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            lane.async { continuation.resume(returning: Result { () throws(E) -> T in try work() }) }
        }
        return try result.get()
    }
}
