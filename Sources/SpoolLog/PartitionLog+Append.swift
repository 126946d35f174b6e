import Glibc
import SpoolFormat
import SpoolSystem

extension PartitionLog {
    /// Validates one whole RecordBatch v2 (bounds, magic, CRC) and appends it, writing the next
    /// offset into its baseOffset field. Returns as soon as the batch is in the page cache; use
    /// `waitUntilDurable(_:)` (or `whenDurable`) to wait for the flush that covers it.
    ///
    /// Throws, storing nothing: `.batchTooLarge`, `.invalidBatch`, `.diskFull` (appends work again
    /// once space is freed), `.closed`, `.failed` (after a failed flush).
    @discardableResult
    public func append(_ batch: UnsafeRawBufferPointer) throws(LogError) -> AppendResult {
        guard let result = try append(batch, mayBlock: true) else { preconditionFailure("an append that may block always appends") }
        return result
    }

    /// `append`, but without `mayBlock` it stores nothing and returns nil when the batch must go
    /// where a thread may block: it is written with pwrite (`Segment.mappedWriteBytesMax` bytes and
    /// more), the log needs work on the files first (a new segment: files created, mapped and
    /// allocated; more disk blocks for the active one: `fallocate`, every `preallocateBytes`), or
    /// another append is writing (the append lock stays busy, or one that may block holds or
    /// waits for it). A caller on one of Swift's cooperative threads then appends it again from a
    /// thread that may block.
    ///
    /// Appends take the log's append lock one at a time. The state lock, which readers, the
    /// flusher and durability waits take, is held only to place the batch and then to take it in:
    /// the bytes are written between the two, so no reader waits for a copy or a pwrite.
    public func append(_ batch: UnsafeRawBufferPointer, mayBlock: Bool) throws(LogError) -> AppendResult? {
        // Before the CRC, so that a batch left for a thread that may block is checked once.
        guard try mayAppendNow(batch, mayBlock: mayBlock) else { return nil }
        let header: RecordBatchHeader
        do { header = try RecordBatchView.validate(batch) } catch { throw .invalidBatch(error) }
        return try appendChecked(batch, header, mayBlock: mayBlock)
    }

    /// `append(_:mayBlock:)` for a batch its caller validated already: `header` is what
    /// `RecordBatchView.validate` returned for `batch`. A broker checks a producer's batch whole,
    /// CRC included, before it looks at the producer's state, as Kafka's log does; this spares it
    /// computing the CRC a second time.
    public func append(_ batch: UnsafeRawBufferPointer, validated header: RecordBatchHeader, mayBlock: Bool) throws(LogError) -> AppendResult? {
        precondition(header.totalSize == batch.count, "the header is not the batch's")
        guard try mayAppendNow(batch, mayBlock: mayBlock) else { return nil }
        return try appendChecked(batch, header, mayBlock: mayBlock)
    }

    /// Throws for a batch over the size limit; false for one too large to write without blocking
    /// (`Segment.mappedWriteBytesMax`) when the caller may not block.
    private func mayAppendNow(_ batch: UnsafeRawBufferPointer, mayBlock: Bool) throws(LogError) -> Bool {
        let limit = batchBytesLimit
        guard batch.count <= limit else { throw .batchTooLarge(bytes: batch.count, limit: limit) }
        return mayBlock || batch.count < Segment.mappedWriteBytesMax
    }

    /// Appends a batch whose size and contents passed, under the append lock.
    private func appendChecked(_ batch: UnsafeRawBufferPointer, _ header: RecordBatchHeader, mayBlock: Bool) throws(LogError) -> AppendResult? {
        let now = clock()
        if mayBlock {
            return try appendLock.withLockMayBlock { _ throws(LogError) in try appendHoldingAppendLock(batch, header, now: now, mayBlock: true) }
        }
        let outcome = try appendLock.withLockIfFree(attempts: Self.appendLockAttemptsMax) { _ throws(LogError) in
            try appendHoldingAppendLock(batch, header, now: now, mayBlock: false)
        }
        return outcome ?? nil
    }

    /// How many times an append that may not block tries the append lock before it gives up.
    static let appendLockAttemptsMax = 64

    /// Places the batch (rolling or allocating first when `mayBlock`), writes it outside the state
    /// lock, then takes it in. The caller holds the append lock, so nothing else writes, rolls or
    /// closes meanwhile, and the file work (a new segment's files, `fallocate`) is done outside
    /// the state lock too: under it the append only looks, installs a new segment, and takes its
    /// offset.
    private func appendHoldingAppendLock(_ batch: UnsafeRawBufferPointer, _ header: RecordBatchHeader, now: Int64,
                                         mayBlock: Bool) throws(LogError) -> AppendResult? {
        // The index interval is read here, under the lock, and whether the batch is indexed is
        // decided once from it (see `Segment.needsIndexEntry`).
        let (current, mustRoll, indexIntervalBytes) = try state.withLock { state throws(LogError) -> (Segment, Bool, Int) in
            if state.isClosed { throw .closed }
            if let failure = state.failure { throw failure }
            let active = state.active
            return (active, active.shouldRoll(batchBytes: batch.count, lastOffsetDelta: header.lastOffsetDelta,
                                              maxTimestamp: header.maxTimestamp, now: now), state.config.indexIntervalBytes)
        }
        if !mayBlock && (mustRoll || current.reserveMustAllocate(batchBytes: batch.count,
                                                                 indexed: current.needsIndexEntry(intervalBytes: indexIntervalBytes))) {
            return nil
        }
        let target = mustRoll ? try rollHoldingAppendLock(current, now: now) : current
        let indexed = target.needsIndexEntry(intervalBytes: indexIntervalBytes)
        // Only an empty segment can be smaller than the batch (a full one rolls): see `growForBatch`.
        if batch.count > target.log.capacity {
            try state.withLock { state throws(LogError) in
                do { try target.growForBatch(batchBytes: batch.count, segmentBytes: state.config.segmentBytes) } catch {
                    throw LogError.from(error, path: target.logPath)
                }
            }
        }
        do { try target.reserve(batchBytes: batch.count, indexed: indexed) } catch { throw LogError.from(error, path: target.logPath) }
        let (offset, position) = try state.withLock { state throws(LogError) -> (Int64, Int) in
            if let failure = state.failure { throw failure }
            return (state.end.offset, target.size)
        }
        do { try target.write(batch, offset: offset, at: position) } catch { throw LogError.from(error, path: target.logPath) }
        let (result, scheduleFlush, woken) = try state.withLock { state throws(LogError) -> (AppendResult, Bool, [@Sendable () -> Void]) in
            // A flush that failed meanwhile fails the log: the bytes stay past the end, unread.
            if let failure = state.failure { throw failure }
            target.commit(batchBytes: batch.count, offset: offset, header: header, indexed: indexed, now: now)
            state.end = LogPosition(offset: target.nextOffset, segmentBase: target.baseOffset, position: target.size)
            let woken = fsync != .always ? state.publishVisible(state.end) : []
            var stored = header
            stored.baseOffset = offset
            let result = AppendResult(baseOffset: offset, lastOffset: stored.lastOffset, header: stored)
            let wantsFlush = fsync == .always || mustRoll
            guard wantsFlush, !state.flushScheduled else { return (result, false, woken) }
            state.flushScheduled = true
            return (result, true, woken)
        }
        if scheduleFlush { flushQueue.async { self.flush() } }
        runVisibilityCallbacks(woken)
        return result
    }

    /// Appends a batch held in an array.
    @discardableResult
    public func append(_ batch: [UInt8]) throws(LogError) -> AppendResult {
        guard let result = try append(batch, mayBlock: true) else { preconditionFailure("an append that may block always appends") }
        return result
    }

    /// `append(_:mayBlock:)` for a batch held in an array.
    public func append(_ batch: [UInt8], mayBlock: Bool) throws(LogError) -> AppendResult? {
        let outcome: Result<AppendResult?, LogError> = batch.withUnsafeBytes { bytes in
            do throws(LogError) { return .success(try append(bytes, mayBlock: mayBlock)) } catch { return .failure(error) }
        }
        return try outcome.get()
    }

    /// Appends and waits until the batch is on disk.
    @discardableResult
    public func appendDurably(_ batch: [UInt8]) async throws(LogError) -> AppendResult {
        let result = try append(batch)
        try await waitUntilDurable(result.lastOffset)
        return result
    }

    /// Starts a new segment now (if the active one holds anything).
    public func roll() throws(LogError) {
        let scheduleFlush = try appendLock.withLockMayBlock { _ throws(LogError) in
            try state.withLock { state throws(LogError) -> Bool in
                if state.isClosed { throw .closed }
                guard !state.active.isEmpty else { return false }
                _ = try roll(&state, now: clock())
                guard !state.flushScheduled else { return false }
                state.flushScheduled = true
                return true
            }
        }
        if scheduleFlush { flushQueue.async { self.flush() } }
    }

    /// `roll(_:now:)` for an append holding the append lock: the files are made (and the old
    /// segment's last time index entry given room) before the state lock is taken, which then only
    /// installs the new segment. On failure (a full disk) the active segment stays as it was.
    private func rollHoldingAppendLock(_ old: Segment, now: Int64) throws(LogError) -> Segment {
        let next: Segment
        do {
            try old.reserveForFinishAppends()
            next = try Segment.create(directory: directory, baseOffset: old.nextOffset, config: config, fileSystem: fileSystem, now: now)
        } catch {
            throw LogError.from(error, path: SegmentFiles.logPath(directory, old.nextOffset))
        }
        return try state.withLock { state throws(LogError) -> Segment in
            do { try old.finishAppends() } catch { throw LogError.from(error, path: old.logPath) }
            state.segments.append(next)
            state.pendingSeal.append(old)
            state.directoryDirty = true
            return next
        }
    }

    /// Seals the active segment and creates the next one, all under the state lock (a roll by
    /// retention or `roll()`, off the request path). On failure (a full disk) the active segment
    /// stays as it was.
    func roll(_ state: inout LogState, now: Int64) throws(LogError) -> Segment {
        let old = state.active
        let next: Segment
        do {
            try old.finishAppends()
            next = try Segment.create(directory: directory, baseOffset: old.nextOffset, config: state.config, fileSystem: fileSystem, now: now)
        } catch {
            throw LogError.from(error, path: SegmentFiles.logPath(directory, old.nextOffset))
        }
        state.segments.append(next)
        state.pendingSeal.append(old)
        state.directoryDirty = true
        return next
    }
}
