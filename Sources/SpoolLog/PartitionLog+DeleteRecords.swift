import Dispatch

extension PartitionLog {
    /// Moves the log start offset forward to `offset`, as Kafka's DeleteRecords does: records
    /// below it are no longer served (a read below it gets `.offsetOutOfRange`, an earliest-offset
    /// lookup answers `offset`), and segments that lie wholly below it are deleted at once (the
    /// rest go with later retention passes). `offset` may fall inside a segment.
    ///
    /// The new start is on disk (`log-start-offset`, written atomically) before this returns, and
    /// everything below it was flushed first, so a restart, clean or not, keeps it. An offset at or
    /// below the current start changes nothing.
    ///
    /// - Parameter offset: the new log start, 0 through the high watermark.
    /// - Returns: the log start offset afterwards (Kafka's "low watermark").
    /// - Throws: `.offsetOutOfRange` for an offset below 0 or past the high watermark, `.diskFull`
    ///   or `.io` when the file cannot be written (nothing changed then), `.closed`, `.failed`.
    @discardableResult
    public func deleteRecords(before offset: Int64) async throws(LogError) -> Int64 {
        let current = try state.withLock { state throws(LogError) -> Int64 in
            if state.isClosed { throw .closed }
            if let failure = state.failure { throw failure }
            guard offset >= 0, offset <= state.visible.offset else {
                throw .offsetOutOfRange(requested: offset, logStart: state.logStartOffset, highWatermark: state.visible.offset)
            }
            return state.logStartOffset
        }
        guard offset > current else { return current }
        // A start past what a crash can take back would outlive the records it counts from: under
        // `interval` and `never` the high watermark runs ahead of the disk, so flush first.
        try await waitUntilDurable(offset - 1)
        let outcome: Result<Int64, LogError> = await withCheckedContinuation { continuation in
            flushQueue.async { continuation.resume(returning: self.moveLogStart(to: offset)) }
        }
        let start = try outcome.get()
        try deleteRemovedSegments()
        return start
    }

    /// Writes the new start and then publishes it, taking the segments wholly below it out of the
    /// log (they await deletion). Runs on `flushQueue`, which serialises writes of the file (and
    /// keeps them off the callers' threads).
    private func moveLogStart(to offset: Int64) -> Result<Int64, LogError> {
        dispatchPrecondition(condition: .onQueue(flushQueue))
        let current: Int64? = state.withLock { $0.isClosed ? nil : $0.logStartOffset }
        guard let current else { return .failure(.closed) }
        guard offset > current else { return .success(current) }
        do {
            try LogStartCheckpoint(offset: offset).write(directory: directory, fileSystem: fileSystem)
        } catch {
            return .failure(LogError.from(error, path: directory + "/" + LogStartCheckpoint.fileName))
        }
        return state.withLock { state in
            state.logStartOffset = max(state.logStartOffset, offset)
            var count = 0
            for segment in state.segments.dropLast() where segment.nextOffset <= state.logStartOffset && segment.nextOffset <= state.visible.offset {
                count += 1
            }
            _ = state.removeLeadingSegments(count)
            return .success(state.logStartOffset)
        }
    }
}
