import Dispatch

/// A serial queue for work that blocks (creating, syncing and deleting files, or waiting for a
/// lock that such work holds). An async caller awaits the result while the queue's own thread does
/// the waiting, so the work never holds one of Swift's cooperative threads, of which there is one
/// per core: two blocked ones on a 2-core machine stop every task of the process, heartbeats
/// included.
public final class BlockingQueue: Sendable {
    private let queue: DispatchQueue

    /// A serial queue runs its work one after another; a concurrent one side by side, on as many
    /// of Dispatch's threads as the work needs while it waits.
    public init(label: String, concurrent: Bool = false) {
        queue = DispatchQueue(label: label, attributes: concurrent ? .concurrent : [])
    }

    /// Runs `work` on the queue (on a serial one, after the work submitted before it), and returns
    /// what it returns.
    public func run<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(E) -> T in try work() }) }
        }
        return try result.get()
    }
}
