extension PartitionLog {
    /// What a retention pass deleted.
    public struct RetentionOutcome: Equatable, Sendable {
        /// Base offsets of the deleted segments.
        public var deletedSegments: [Int64]
        public var logStartOffset: Int64
    }

    /// Deletes whole segments from the front while the log is over `retention.bytes`, while their
    /// newest record is older than `retention.ms`, or while they lie wholly below a log start
    /// offset that `deleteRecords(before:)` moved. Only segments that readers can see in full are
    /// deleted, and never the active one; when the active segment itself has expired it is rolled,
    /// so the next pass can delete it. The log start offset moves to the first remaining segment
    /// (or stays where `deleteRecords` put it, if that is further); reads below it get
    /// `.offsetOutOfRange`.
    ///
    /// A roll that fails (a full disk) throws, but only after the pass has deleted the segments it
    /// took out of the log: freeing their space is what a full disk needs most.
    @discardableResult
    public func enforceRetention() throws(LogError) -> RetentionOutcome {
        let now = clock()
        // The append lock: rolling an expired active segment must not happen under a write.
        let (deleted, start, scheduleFlush, rollFailure) = try appendLock.withLockMayBlock { _ throws(LogError) in try state.withLock { state throws(LogError) -> ([Segment], Int64, Bool, LogError?) in
            if state.isClosed { throw .closed }
            let config = state.config
            var total = state.segments.reduce(0) { $0 + Int64($1.size) }
            var count = 0
            for segment in state.segments.dropLast() {
                guard segment.nextOffset <= state.visible.offset else { break }
                let overSize = config.retentionBytes.map { total - Int64(segment.size) >= $0 } ?? false
                let belowStart = segment.nextOffset <= state.logStartOffset
                guard overSize || belowStart || Self.isExpired(segment, now: now, retentionMs: config.retentionMs) else { break }
                total -= Int64(segment.size)
                count += 1
            }
            let deleted = state.removeLeadingSegments(count)
            var scheduleFlush = false
            let active = state.active
            var rollFailure: LogError?
            if state.segments.count == 1, !active.isEmpty, active.nextOffset <= state.visible.offset,
               Self.isExpired(active, now: now, retentionMs: config.retentionMs) {
                do throws(LogError) {
                    _ = try roll(&state, now: now)
                    if !state.flushScheduled {
                        state.flushScheduled = true
                        scheduleFlush = true
                    }
                } catch {
                    rollFailure = error
                }
            }
            return (deleted, state.logStartOffset, scheduleFlush, rollFailure)
        } }
        if scheduleFlush { flushQueue.async { self.flush() } }
        try deleteRemovedSegments()
        if let rollFailure { throw rollFailure }
        return RetentionOutcome(deletedSegments: deleted.map(\.baseOffset), logStartOffset: start)
    }

    private static func isExpired(_ segment: Segment, now: Int64, retentionMs: Int64?) -> Bool {
        guard let retentionMs else { return false }
        let newest = segment.maxTimestamp >= 0 ? segment.maxTimestamp : segment.lastModifiedMs
        return now - newest > retentionMs
    }
}

extension PartitionLog {
    /// Removes from the log every segment that lies wholly below `offset` and below the high
    /// watermark (never the active one), and returns the new log start offset; the segments
    /// await deletion.
    private func takeSegments(before offset: Int64) throws(LogError) -> Int64 {
        try state.withLock { state throws(LogError) -> Int64 in
            if state.isClosed { throw .closed }
            var count = 0
            for segment in state.segments.dropLast() where segment.nextOffset <= offset && segment.nextOffset <= state.visible.offset {
                count += 1
            }
            _ = state.removeLeadingSegments(count)
            return state.logStartOffset
        }
    }

    /// Deletes every segment that lies wholly below `offset` (never the active one), moving the log
    /// start offset forward to the first remaining segment. Returns the new log start offset.
    /// Unlike `deleteRecords(before:)` this moves the start only to a segment boundary and
    /// records nothing beyond the deleted files. The files go as `deleteRemovedSegments` removes them.
    @discardableResult
    public func deleteSegments(before offset: Int64) throws(LogError) -> Int64 {
        let start = try takeSegments(before: offset)
        try deleteRemovedSegments()
        return start
    }

    /// Removes the files of every segment taken out of the log whose files may still be on disk
    /// (`LogState.awaitingDeletion`), oldest first, syncing the directory after each segment:
    /// recovery cuts a log at a hole in its run of segments, so a crash or power cut must leave a
    /// suffix of the segments there were, never a later segment without an earlier one.
    ///
    /// Held by one caller at a time (`deletionLock`), so passes that run at once (the retention
    /// timer, a config change, DeleteRecords) cannot delete a newer segment while an older one is
    /// still being deleted. Stops at the first segment whose files cannot be removed (or whose
    /// removal cannot be made durable) and throws: it and the segments after it stay awaiting
    /// deletion, and the next call, from whichever pass, starts with them. Runs fsyncs: not for an
    /// event-loop thread.
    func deleteRemovedSegments() throws(LogError) {
        try deletionLock.withLock { _ throws(LogError) in
            while let segment = state.withLock({ $0.awaitingDeletion.first }) {
                do {
                    try segment.deleteFilesInOrder(fileSystem: fileSystem)
                    try fileSystem.syncDirectory(directory)
                } catch {
                    throw LogError.from(error, path: segment.logPath)
                }
                state.withLock { state in
                    // Only holders of the deletion lock take segments off the front.
                    precondition(state.awaitingDeletion.first === segment, "segments deleted out of order")
                    state.awaitingDeletion.removeFirst()
                }
            }
        }
    }
}

extension LogState {
    /// Drops the first `count` segments and keeps the log start offset at or after the first
    /// remaining one. Returns the dropped segments, which now await deletion: the caller deletes
    /// their files after the lock, with `PartitionLog.deleteRemovedSegments()`.
    mutating func removeLeadingSegments(_ count: Int) -> [Segment] {
        precondition(count < segments.count, "the active segment is never deleted")
        let removed = Array(segments.prefix(count))
        segments.removeFirst(count)
        awaitingDeletion += removed
        forgetReads(of: removed)
        logStartOffset = max(logStartOffset, segments[0].baseOffset)
        return removed
    }
}
