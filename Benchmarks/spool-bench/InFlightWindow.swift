import Dispatch

/// Bounds a producer's unacknowledged appends, as Kafka's `max.in.flight.requests.per.connection`
/// bounds a producer's requests: `acquire` blocks while `limit` appends are outstanding, and
/// `release`, called from the acknowledgement (on the log's flusher queue), never blocks.
///
/// Acknowledgements come back in offset order (one group commit covers every batch below its
/// target), so waiting for any slot is waiting for the oldest batch.
final class InFlightWindow: Sendable {
    /// Most batches outstanding at once.
    let limit: Int
    private let slots: DispatchSemaphore

    init(limit: Int) {
        precondition(limit >= 1, "an in-flight window holds at least one batch")
        self.limit = limit
        slots = DispatchSemaphore(value: limit)
    }

    /// Takes a slot, waiting for the oldest outstanding batch if the window is full. Blocks the
    /// calling thread: call it from the producer's own thread, never from a concurrency-pool one.
    func acquire() { slots.wait() }

    /// Frees a slot. Safe from any thread; does not block.
    func release() { slots.signal() }

    /// Waits until every outstanding batch is acknowledged, then leaves the window empty again.
    /// libdispatch traps when a semaphore is freed below its initial value, so the window must be
    /// drained before it goes away.
    func drain() {
        for _ in 0..<limit { slots.wait() }
        for _ in 0..<limit { slots.signal() }
    }
}
