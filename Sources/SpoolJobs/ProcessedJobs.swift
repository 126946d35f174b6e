import Foundation
import Glibc
import Synchronization

/// The ids of jobs a handler has finished, kept durably for `retention`, so a job delivered
/// again (at least once means sometimes twice) can be skipped.
///
/// ```swift
/// let processed = try ProcessedJobs(path: "data/processed-emails")
/// Worker<WelcomeEmail>(queue: queue, group: "mailers") { job in
///     try await processed.once(job.id) { try await mailer.send(to: job.payload.to) }
/// }
/// ```
///
/// `once` records the id after the side effect: a crash between the two runs the effect again
/// on redelivery. Where that matters, record the marker in the same write as the effect — see
/// docs/jobs.md for a ledger that does.
///
/// The file is an append-only list of "id<TAB>milliseconds" lines, each fsynced before `markDone`
/// returns; opening reads it and drops ids older than `retention`, rewriting the file when more
/// than half of it is expired. Several worker processes on one host may share the file: each line
/// is one append, and `contains` first reads what other processes appended since it last looked.
public final class ProcessedJobs: Sendable {
    public let path: String
    public let retention: Duration
    private let state: Mutex<State>

    private struct State {
        var done: [String: Int64] = [:]
        var descriptor: Int32
        var lines = 0
        /// Bytes of the file already read into `done`.
        var readBytes = 0
    }

    public enum Failure: Error, CustomStringConvertible {
        case io(String, Int32)
        case invalidId(String)
        public var description: String {
            switch self {
            case let .io(what, code): "\(what): \(String(cString: strerror(code)))"
            case let .invalidId(reason): reason
            }
        }
    }

    public init(path: String, retention: Duration = .seconds(7 * 86_400)) throws {
        self.path = path
        self.retention = retention
        let cutoff = Self.nowMs() - retention.milliseconds
        var done: [String: Int64] = [:]
        var bytes = (try? Array(Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
        var lines = Self.parse(bytes, into: &done, cutoff: cutoff)
        if lines > 0, done.count * 2 < lines {
            try Self.rewrite(path: path, done)
            lines = done.count
            bytes = (try? Array(Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Failure.io("opening \(path)", errno) }
        state = Mutex(State(done: done, descriptor: descriptor, lines: lines, readBytes: (bytes.lastIndex(of: 10) ?? -1) + 1))
    }

    /// Adds the complete lines of `bytes` to `done` (ids newer than `cutoff`); returns how many
    /// lines there were. A torn last line (a crash mid-write) has no newline and is left unread.
    private static func parse(_ bytes: [UInt8], into done: inout [String: Int64], cutoff: Int64) -> Int {
        var lines = 0
        var start = 0
        while let end = bytes[start...].firstIndex(of: 10) {
            lines += 1
            let line = bytes[start..<end]
            start = end + 1
            guard let tab = line.firstIndex(of: 9), let time = Int64(String(decoding: line[(tab + 1)...], as: UTF8.self)), time >= cutoff else { continue }
            done[String(decoding: line[..<tab], as: UTF8.self)] = time
        }
        return lines
    }

    /// Reads what was appended to the file (by another process) since the last look.
    private func refresh(_ state: inout State) {
        var info = stat()
        guard fstat(state.descriptor, &info) == 0, Int(info.st_size) > state.readBytes else { return }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) - state.readBytes)
        let count = bytes.withUnsafeMutableBytes { pread(state.descriptor, $0.baseAddress, $0.count, off_t(state.readBytes)) }
        guard count > 0, let lastNewline = bytes[..<count].lastIndex(of: 10) else { return }
        state.lines += Self.parse(Array(bytes[...lastNewline]), into: &state.done, cutoff: Self.nowMs() - retention.milliseconds)
        state.readBytes += lastNewline + 1
    }

    deinit { state.withLock { _ = Glibc.close($0.descriptor) } }

    /// Whether the job was finished within the retention period.
    public func contains(_ id: String) -> Bool {
        let cutoff = Self.nowMs() - retention.milliseconds
        return state.withLock { state in
            if state.done[id] == nil { refresh(&state) }
            return (state.done[id] ?? Int64.min) >= cutoff
        }
    }

    /// Records the job as finished, durably, before returning.
    public func markDone(_ id: String) throws {
        guard !id.isEmpty, !id.contains("\t"), !id.contains("\n") else { throw Failure.invalidId("a job id must be non-empty, without tabs or newlines") }
        let now = Self.nowMs()
        let line = Array("\(id)\t\(now)\n".utf8)
        try state.withLock { state throws(Failure) in
            let written = line.withUnsafeBytes { write(state.descriptor, $0.baseAddress, $0.count) }
            guard written == line.count else { throw .io("writing \(path)", errno) }
            guard fdatasync(state.descriptor) == 0 else { throw .io("syncing \(path)", errno) }
            refresh(&state)
            state.done[id] = now
            if state.lines >= Self.compactionLinesMin, state.lines % Self.compactionLinesMin == 0 { try compact(&state, now: now) }
        }
    }

    /// Lines between looks for expired ids.
    static let compactionLinesMin = 10_000

    /// Forgets expired ids and, when they are most of the file, rewrites it without them.
    private func compact(_ state: inout State, now: Int64) throws(Failure) {
        let cutoff = now - retention.milliseconds
        state.done = state.done.filter { $0.value >= cutoff }
        guard state.done.count * 2 < state.lines else { return }
        do { try Self.rewrite(path: path, state.done) } catch let failure as Failure { throw failure } catch { throw .io("rewriting \(path)", EIO) }
        let descriptor = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io("opening \(path)", errno) }
        _ = Glibc.close(state.descriptor)
        state.descriptor = descriptor
        state.lines = state.done.count
        var info = stat()
        state.readBytes = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
    }

    /// Runs `effect` unless the job was finished before, then records it. Returns whether it ran.
    @discardableResult
    public func once(_ id: String, _ effect: () async throws -> Void) async throws -> Bool {
        if contains(id) { return false }
        try await effect()
        try markDone(id)
        return true
    }

    /// Ids currently remembered.
    public var count: Int { state.withLock { $0.done.count } }

    private static func rewrite(path: String, _ done: [String: Int64]) throws {
        let temporary = path + ".tmp"
        let text = done.map { "\($0.key)\t\($0.value)\n" }.joined()
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Failure.io("opening \(temporary)", errno) }
        defer { _ = Glibc.close(descriptor) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == bytes.count, fsync(descriptor) == 0 else {
            throw Failure.io("writing \(temporary)", errno)
        }
        guard rename(temporary, path) == 0 else { throw Failure.io("renaming \(temporary)", errno) }
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
