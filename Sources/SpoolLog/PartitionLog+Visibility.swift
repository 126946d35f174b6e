import Synchronization

extension PartitionLog {
    /// Calls `callback` once the high watermark passes `offset` (a record at `offset` is visible),
    /// at once if it already has. Returns a token to cancel the wait with `cancelVisibilityWait`,
    /// or nil when the callback already ran. The callback runs on the thread that moved the high
    /// watermark (the flusher under `always`, the appender otherwise); it must not block.
    ///
    /// This is what a long-poll fetch parks on: woken by the flush that makes data visible, with no
    /// polling.
    public func whenVisible(beyond offset: Int64, _ callback: @escaping @Sendable () -> Void) -> VisibilityWait? {
        let token = state.withLock { state -> VisibilityWait? in
            guard state.visible.offset <= offset, !state.isClosed, state.failure == nil else { return nil }
            state.nextWaitID += 1
            state.visibilityWaiters[state.nextWaitID] = VisibilityWaiter(offset: offset, callback: callback)
            return VisibilityWait(id: state.nextWaitID)
        }
        if token == nil { callback() }
        return token
    }

    /// The high watermark's place (offset, segment, byte position), which a parked fetch measures
    /// against where its read started (Kafka's `Partition.fetchOffsetSnapshot`). Throws once the
    /// log is closed or has failed: a fetch parked on it is answered then.
    public func highWatermarkPosition() throws(LogError) -> LogPosition {
        try state.withLock { state throws(LogError) -> LogPosition in
            if state.isClosed { throw .closed }
            if let failure = state.failure { throw failure }
            return state.visible
        }
    }

    /// Forgets a wait registered with `whenVisible`; its callback will not run (if it has not yet).
    public func cancelVisibilityWait(_ wait: VisibilityWait) {
        _ = state.withLock { $0.visibilityWaiters.removeValue(forKey: wait.id) }
    }

    /// Runs the visibility callbacks whose offset the high watermark has passed. Called after the
    /// lock is released by whoever moved it.
    func runVisibilityCallbacks(_ callbacks: [@Sendable () -> Void]) {
        for callback in callbacks { callback() }
    }
}

/// A pending `whenVisible` wait.
public struct VisibilityWait: Hashable, Sendable {
    let id: UInt64
}

struct VisibilityWaiter {
    var offset: Int64
    var callback: @Sendable () -> Void
}

extension LogState {
    /// Moves the high watermark and takes the callbacks it satisfies.
    mutating func publishVisible(_ position: LogPosition) -> [@Sendable () -> Void] {
        visible = position
        guard !visibilityWaiters.isEmpty else { return [] }
        var ready: [@Sendable () -> Void] = []
        for (id, waiter) in visibilityWaiters where waiter.offset < position.offset {
            ready.append(waiter.callback)
            visibilityWaiters.removeValue(forKey: id)
        }
        return ready
    }

    /// On close or failure: every parked reader is woken (it will then see the error).
    mutating func takeAllVisibilityCallbacks() -> [@Sendable () -> Void] {
        defer { visibilityWaiters = [:] }
        return visibilityWaiters.values.map(\.callback)
    }
}
