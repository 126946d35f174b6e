import Dispatch
import SpoolSystem

extension PartitionLog {
    /// Waits until every offset up to and including `offset` is on disk. Under `interval` and
    /// `never` a waiter asks for a flush at once rather than waiting for the next one.
    public func waitUntilDurable(_ offset: Int64) async throws(LogError) {
        let outcome: Result<Void, LogError> = await withCheckedContinuation { continuation in
            whenDurable(offset) { continuation.resume(returning: $0) }
        }
        try outcome.get()
    }

    /// Calls `callback` once every offset up to and including `offset` is on disk (at once if it
    /// already is), or with the error that stops that from happening. The callback runs on the
    /// flusher's queue or the caller's thread; it must not block.
    public func whenDurable(_ offset: Int64, _ callback: @escaping @Sendable (Result<Void, LogError>) -> Void) {
        let (immediate, scheduleFlush) = state.withLock { state -> (Result<Void, LogError>?, Bool) in
            if let failure = state.failure { return (.failure(failure), false) }
            if offset < state.durable.offset { return (.success(()), false) }
            if state.isClosed { return (.failure(.closed), false) }
            if offset >= state.end.offset {
                return (.failure(.offsetOutOfRange(requested: offset, logStart: state.logStartOffset, highWatermark: state.end.offset)), false)
            }
            state.waiters.append(DurabilityWaiter(offset: offset, resume: callback))
            guard !state.flushScheduled else { return (nil, false) }
            state.flushScheduled = true
            return (nil, true)
        }
        if let immediate { callback(immediate) }
        if scheduleFlush { flushQueue.async { self.flush() } }
    }

    /// Waits for a flush of everything appended so far.
    public func flushNow() async throws(LogError) {
        let outcome: Result<Void, LogError> = await withCheckedContinuation { continuation in
            flushQueue.async {
                self.flush()
                let failure = self.state.withLock { $0.failure }
                continuation.resume(returning: failure.map { .failure($0) } ?? .success(()))
            }
        }
        try outcome.get()
    }

    /// One group commit. Runs on `flushQueue` only: seals rolled segments, fsyncs the directory if
    /// files were created, fdatasyncs the active segment, then publishes the new durable end (the
    /// high watermark under `always`) and wakes the waiters it covers.
    func flush() {
        dispatchPrecondition(condition: .onQueue(flushQueue))
        guard let plan = state.withLock({ state -> FlushPlan? in
            state.flushScheduled = false
            guard state.failure == nil else { return nil }
            guard !state.pendingSeal.isEmpty || state.durable != state.end || state.directoryDirty else { return nil }
            defer { state.directoryDirty = false }
            return FlushPlan(sealing: state.pendingSeal, active: state.active, target: state.end, syncDirectory: state.directoryDirty)
        }) else { return }

        let started = monotonicNanoseconds()
        do {
            for segment in plan.sealing {
                try segment.trimAndSync()
                segment.releaseDescriptors()
            }
            if plan.syncDirectory { try fileSystem.syncDirectory(directory) }
            try plan.active.log.sync()
        } catch {
            fail(LogError.from(error, path: plan.active.logPath))
            return
        }

        let elapsed = monotonicNanoseconds() - started
        let now = clock()
        let (ready, woken, again, checkpoint) = state.withLock { state -> ([DurabilityWaiter], [@Sendable () -> Void], Bool, Bool) in
            state.flushStatistics.record(nanoseconds: elapsed)
            state.pendingSeal.removeFirst(plan.sealing.count)
            state.durable = plan.target
            state.releaseFlushedPages(sealed: plan.sealing, durable: plan.target)
            let woken = fsync == .always ? state.publishVisible(plan.target) : []
            let ready = state.takeWaiters(below: plan.target.offset)
            let more = state.durable != state.end && (fsync == .always || !state.waiters.isEmpty)
            let again = (more || !state.pendingSeal.isEmpty) && !state.flushScheduled
            if again { state.flushScheduled = true }
            let checkpoint = !plan.sealing.isEmpty || now - state.lastCheckpointMs >= Int64(state.config.recoveryCheckpointIntervalMs)
            if checkpoint { state.lastCheckpointMs = now }
            return (ready, woken, again, checkpoint)
        }
        // Readers parked for this data hear of it before the writers that waited for the flush, so
        // a writer that is told its records are durable finds them visible everywhere.
        runVisibilityCallbacks(woken)
        for waiter in ready { waiter.resume(.success(())) }
        if checkpoint { writeCheckpoint(plan.target) }
        if again { flushQueue.async { self.flush() } }
    }

    /// Records the flushed position so the next open scans only what follows it. A failure (a full
    /// disk) is counted and otherwise harmless: recovery then starts from the previous checkpoint.
    private func writeCheckpoint(_ point: LogPosition) {
        do {
            try RecoveryCheckpoint(point: point, cleanShutdown: false, relaxedFsync: fsync != .always).write(directory: directory, fileSystem: fileSystem)
        } catch {
            state.withLock { $0.checkpointFailures += 1 }
        }
    }

    /// Takes the log offline after a failed flush: what was appended since the last flush may not
    /// be on disk, and after a failed fsync the page cache cannot be trusted to say so.
    private func fail(_ error: LogError) {
        let reason = String(describing: error)
        let (waiters, parked) = state.withLock { state in
            state.failure = .failed(reason)
            return (state.takeAllWaiters(), state.takeAllVisibilityCallbacks())
        }
        for waiter in waiters { waiter.resume(.failure(.failed(reason))) }
        runVisibilityCallbacks(parked)
    }
}

/// What one flush covers, captured under the lock.
struct FlushPlan {
    var sealing: [Segment]
    var active: Segment
    var target: LogPosition
    var syncDirectory: Bool
}
