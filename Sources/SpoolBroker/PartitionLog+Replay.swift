import Dispatch
import SpoolFormat
import SpoolLog
import Synchronization

extension PartitionLog {
    /// Decodes every visible batch from the log start, in order: how the internal logs (offsets,
    /// held records, idempotency keys) rebuild their state on open.
    func replay(_ body: (RecordBatch) throws -> Void) throws {
        var next = logStartOffset
        while next < highWatermark {
            let slice = try read(from: next, maxBytes: 8 << 20).slice
            guard !slice.isEmpty else { break }
            try slice.forEachBatch { bytes in
                let batch = try RecordBatch(decoding: bytes)
                try body(batch)
                next = batch.baseOffset + Int64(batch.lastOffsetDelta) + 1
            }
        }
    }
}

extension LogConfig {
    /// The settings of a broker-internal log: 16 MiB segments, no time-based roll or retention
    /// (each store deletes what it no longer needs), batches up to 8 MiB.
    static func internalLog(fsync: FsyncPolicy) -> LogConfig {
        var config = LogConfig()
        config.fsync = fsync
        config.segmentBytes = 16 << 20
        config.retentionMs = nil
        config.segmentMs = nil
        config.maxBatchBytes = 8 << 20
        return config
    }
}

extension PartitionLog {
    /// `waitUntilDurable` for a thread of the broker's own (never a Swift concurrency thread): blocks
    /// until the flusher, on its own queue, has made `offset` durable.
    func waitUntilDurableBlocking(_ offset: Int64) throws(LogError) {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Void, LogError>>(.success(()))
        whenDurable(offset) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        try outcome.withLock { $0 }.get()
    }
}
