extension PartitionLog {
    /// Changes how the open log behaves, without a restart (Kafka's dynamic topic configs):
    ///
    /// - `retentionMs`, `retentionBytes`: the next retention pass uses them;
    /// - `segmentMs`, `indexIntervalBytes`: the next append to the active segment uses them;
    /// - `segmentBytes`: the active segment rolls once it would pass the new size (it never grows
    ///   past the size it was mapped with; the next segment is mapped at the new size, and so is
    ///   an empty active segment when a batch larger than its mapping comes);
    /// - `indexBytesMax`: the next segment's indexes are sized by it;
    /// - `maxBatchBytes`: the next append is checked against it.
    ///
    /// The fsync policy, the preallocation step and the checkpoint interval are fixed while the log
    /// is open. Throws `.invalidConfig` (changing nothing) for a config that fails `validate()` or
    /// changes one of those; `.closed` after `close()`.
    public func updateConfig(_ newConfig: LogConfig) throws(LogError) {
        try newConfig.validate()
        try state.withLock { state throws(LogError) in
            if state.isClosed { throw .closed }
            let old = state.config
            guard newConfig.fsync == old.fsync, newConfig.preallocateBytes == old.preallocateBytes,
                  newConfig.recoveryCheckpointIntervalMs == old.recoveryCheckpointIntervalMs
            else {
                throw .invalidConfig("the fsync policy, preallocation step and checkpoint interval cannot change while the log is open")
            }
            state.config = newConfig
            state.active.config = newConfig
            // Published under the lock so that an append never sees a limit older than the config.
            batchLimit.store(newConfig.batchBytesLimit, ordering: .relaxed)
        }
    }
}
