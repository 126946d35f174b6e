import SpoolFormat
import SpoolSystem

/// What can go wrong in a partition log. Operating errors only: bugs are preconditions.
public enum LogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The batch is not a valid RecordBatch v2 (bad length, magic, CRC, …). Nothing was stored.
    case invalidBatch(FormatError)
    /// The batch is larger than `max.message.bytes`. Nothing was stored.
    case batchTooLarge(bytes: Int, limit: Int)
    /// The disk is full. Nothing was stored; appends work again once space is freed.
    case diskFull(path: String)
    /// A system call failed.
    case io(SystemError)
    /// The offset is below the log start or above the high watermark.
    case offsetOutOfRange(requested: Int64, logStart: Int64, highWatermark: Int64)
    /// A stored batch failed validation while it was being read.
    case corruptBatch(offset: Int64, reason: String)
    /// A file the log needs to open is damaged; the log does not guess around it. `remedy` says
    /// what an operator can do and what it costs.
    case damagedFile(path: String, reason: String, remedy: String)
    /// A configuration value is out of range.
    case invalidConfig(String)
    /// The log was closed.
    case closed
    /// A flush failed, so what was appended since the last flush may not be on disk. The log
    /// serves reads up to its high watermark but takes no appends until it is reopened, which
    /// recovers the on-disk state.
    case failed(String)

    public var description: String {
        switch self {
        case let .invalidBatch(error): "invalid record batch: \(error)"
        case let .batchTooLarge(bytes, limit): "batch of \(bytes) bytes exceeds the limit of \(limit) bytes"
        case let .diskFull(path): "disk full while writing \(path)"
        case let .io(error): "I/O error: \(error)"
        case let .offsetOutOfRange(requested, start, hw):
            "offset \(requested) is out of range [\(start), \(hw)]"
        case let .corruptBatch(offset, reason): "corrupt batch at offset \(offset): \(reason)"
        case let .damagedFile(path, reason, remedy): "\(path) is damaged (\(reason)); \(remedy)"
        case let .invalidConfig(message): "invalid log config: \(message)"
        case .closed: "the log is closed"
        case let .failed(reason): "the log is offline after a failed flush (\(reason)); reopen it to recover"
        }
    }

    /// Maps a failed system call: ENOSPC and EDQUOT become `.diskFull`.
    static func from(_ error: any Error, path: String) -> LogError {
        if let logError = error as? LogError { return logError }
        if let systemError = error as? SystemError {
            return systemError.isNoSpace ? .diskFull(path: systemError.path ?? path) : .io(systemError)
        }
        return .failed(String(describing: error))
    }
}
