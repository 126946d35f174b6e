/// What opening a log found and did. `truncation` is nil when nothing that had been written was
/// thrown away.
public struct RecoveryReport: Equatable, Sendable, CustomStringConvertible {
    /// A cut made by recovery.
    public struct Truncation: Equatable, Sendable {
        /// The log ends here now: the first offset that was not kept.
        public var offset: Int64
        public var segmentBase: Int64
        public var position: Int
        /// Bytes thrown away (the bad batch and everything after it, later segments included), each
        /// file's counted up to its last non-zero byte: the zeros of preallocation are not counted.
        public var bytesCut: Int
        public var reason: String
    }

    /// The directory held no segments: a new log was started.
    public var isNew = false
    /// Whether the log had been closed cleanly (nothing needed scanning).
    public var cleanShutdown = false
    /// The run that left the log ran under a relaxed fsync policy (`interval`, `never`), where
    /// consumers are shown records before they are on disk: after an unclean shutdown some records
    /// they saw may be gone, whatever policy the log is opened with now. False when no checkpoint
    /// says so.
    public var previousRunRelaxedFsync = false
    /// The run that left the log crashed (an unclean shutdown) under a relaxed fsync policy.
    var crashedRelaxed: Bool { previousRunRelaxedFsync && !cleanShutdown }
    /// Where scanning started (nil: no usable checkpoint, everything was scanned).
    public var recoveryPoint: LogPosition?
    public var segmentsScanned = 0
    public var batchesScanned = 0
    public var bytesScanned = 0
    /// Segments whose indexes were rebuilt (missing, damaged or past the recovery point).
    public var indexesRebuilt: [Int64] = []
    /// Segments deleted because they came after a cut.
    public var segmentsDeleted: [Int64] = []
    public var truncation: Truncation?
    public var logStartOffset: Int64 = 0
    public var logEndOffset: Int64 = 0

    public var description: String {
        if isNew { return "new log at offset \(logStartOffset)" }
        var text = cleanShutdown ? "clean shutdown" : "recovered after an unclean shutdown"
        text += "; offsets [\(logStartOffset), \(logEndOffset))"
        if !cleanShutdown {
            text += "; scanned \(batchesScanned) batches (\(bytesScanned) bytes) in \(segmentsScanned) segments"
            text += recoveryPoint.map { " from \($0)" } ?? " from the start (no checkpoint)"
        }
        if let truncation {
            text += "; cut \(truncation.bytesCut) bytes at offset \(truncation.offset) (segment \(truncation.segmentBase), byte \(truncation.position)): \(truncation.reason)"
        }
        if !segmentsDeleted.isEmpty { text += "; deleted segments \(segmentsDeleted)" }
        if !indexesRebuilt.isEmpty { text += "; rebuilt indexes of \(indexesRebuilt.count) segments" }
        return text
    }
}
