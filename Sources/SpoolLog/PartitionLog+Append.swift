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

    /// `append`, but without `mayBlock` it stores nothing and returns nil when the batch needs
    /// work on the files first: a new segment (files created, mapped and allocated) or more disk
    /// blocks for the active one (`fallocate`, every `preallocateBytes`). A caller on one of
    /// Swift's cooperative threads then appends it again from a thread that may block.
    public func append(_ batch: UnsafeRawBufferPointer, mayBlock: Bool) throws(LogError) -> AppendResult? {
        let limit = batchBytesLimit
        guard batch.count <= limit else { throw .batchTooLarge(bytes: batch.count, limit: limit) }
        let header: RecordBatchHeader
        do { header = try RecordBatchView.validate(batch) } catch { throw .invalidBatch(error) }
        let now = clock()
        let appended = try state.withLock { state throws(LogError) -> (AppendResult, Bool, [@Sendable () -> Void])? in
            if state.isClosed { throw .closed }
            if let failure = state.failure { throw failure }
            var active = state.active
            var rolled = false
            if active.shouldRoll(batchBytes: batch.count, lastOffsetDelta: header.lastOffsetDelta, maxTimestamp: header.maxTimestamp, now: now) {
                guard mayBlock else { return nil }
                active = try roll(&state, now: now)
                rolled = true
            }
            if !mayBlock && active.reserveMustAllocate(batchBytes: batch.count) { return nil }
            do { try active.reserve(batchBytes: batch.count) } catch { throw LogError.from(error, path: active.logPath) }
            let offset = state.end.offset
            do { try active.append(batch, offset: offset, header: header, now: now) } catch { throw LogError.from(error, path: active.logPath) }
            state.end = LogPosition(offset: active.nextOffset, segmentBase: active.baseOffset, position: active.size)
            let woken = fsync != .always ? state.publishVisible(state.end) : []
            var stored = header
            stored.baseOffset = offset
            let result = AppendResult(baseOffset: offset, lastOffset: stored.lastOffset, header: stored)
            let wantsFlush = fsync == .always || rolled
            guard wantsFlush, !state.flushScheduled else { return (result, false, woken) }
            state.flushScheduled = true
            return (result, true, woken)
        }
        guard let (result, scheduleFlush, woken) = appended else { return nil }
        if scheduleFlush { flushQueue.async { self.flush() } }
        runVisibilityCallbacks(woken)
        return result
    }

    /// Appends a batch held in an array.
    @discardableResult
    public func append(_ batch: [UInt8]) throws(LogError) -> AppendResult {
        let outcome: Result<AppendResult, LogError> = batch.withUnsafeBytes { bytes in
            do throws(LogError) { return .success(try append(bytes)) } catch { return .failure(error) }
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
        let scheduleFlush = try state.withLock { state throws(LogError) -> Bool in
            if state.isClosed { throw .closed }
            guard !state.active.isEmpty else { return false }
            _ = try roll(&state, now: clock())
            guard !state.flushScheduled else { return false }
            state.flushScheduled = true
            return true
        }
        if scheduleFlush { flushQueue.async { self.flush() } }
    }

    /// Seals the active segment and creates the next one. On failure (a full disk) the active
    /// segment stays as it was.
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
