import Dispatch
import SpoolSystem
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
/// than half of it is expired.
///
/// Several worker processes on one host may share the file. Every change to it (an append, the
/// cut of a torn line a crash left, a rewrite) is made under the file's exclusive advisory lock
/// (flock), and a rewrite renames a complete new file over the path while holding the new file's
/// lock too. A process that takes the lock and finds the path naming another file than the one it
/// has open reopens the path and reads it before it appends, so no marker goes to a file that was
/// replaced. `contains` reads, without the lock, the complete lines others appended since it last
/// looked (reopening the same way).
///
/// Thread-safe.
public final class ProcessedJobs: Sendable {
    public let path: String
    public let retention: Duration
    private let fileSystem: any FileSystem
    private let clock: @Sendable () -> Int64
    private let state: Mutex<State>
    /// Where `once` records markers: the fsync blocks a thread, and Swift's cooperative threads
    /// (one per core) must not be the ones blocked.
    private let markers = BlockingQueue(label: "spool.processed-jobs")
    /// `once` calls of one id in this process, one at a time.
    private let running = IdLocks()

    private struct State {
        var done: [String: Int64] = [:]
        /// The open file (opened for appending), and which file it is.
        var descriptor: Int32
        var identity: FileIdentity
        /// Complete lines in the file, read or written by this process.
        var lines = 0
        /// Bytes of the file already read into `done` (always the end of a complete line).
        var readBytes = 0
    }

    /// Why a `ProcessedJobs` could not read or record a marker.
    public enum Failure: Error, CustomStringConvertible {
        /// A system call on the file failed.
        case io(SystemError)
        case invalidId(String)
        public var description: String {
            switch self {
            case let .io(error): "processed jobs: \(error)"
            case let .invalidId(reason): reason
            }
        }
    }

    /// Opens (creating it if needed) the file at `path`, cutting a torn last line a crash left,
    /// and rewriting it without expired ids when they are more than half of it.
    public init(path: String, retention: Duration = .seconds(7 * 86_400), fileSystem: any FileSystem = LiveFileSystem(),
                clock: @escaping @Sendable () -> Int64 = currentTimeMs) throws(Failure) {
        self.path = path
        self.retention = retention
        self.fileSystem = fileSystem
        self.clock = clock
        var opened = try Self.openFile(path, fileSystem)
        do {
            try Self.locked(&opened, path: path, fileSystem, retentionMs: retention.milliseconds, clock: clock) { state throws(Failure) in
                if state.lines > 0, state.done.count * 2 < state.lines { try Self.rewrite(&state, path: path, fileSystem) }
            }
        } catch {
            fileSystem.close(opened.descriptor)
            throw error
        }
        self.state = Mutex(opened)
    }

    deinit { state.withLock { fileSystem.close($0.descriptor) } }

    /// Whether the job was finished within the retention period.
    public func contains(_ id: String) -> Bool {
        let cutoff = clock() - retention.milliseconds
        return state.withLock { state in
            if state.done[id] == nil {
                // A failed look leaves `done` as it was: the id then counts as not done, and the
                // job runs (again), which at-least-once delivery allows.
                try? Self.followRename(&state, path: path, fileSystem)
                try? Self.readAppended(&state, path: path, fileSystem, cutoff: cutoff)
            }
            return (state.done[id] ?? Int64.min) >= cutoff
        }
    }

    /// Records the job as finished, durably, before returning. It blocks the calling thread for
    /// one fsync: from async code, `once` (or `record`) does the same without blocking a
    /// cooperative thread. `contains` waits while a marker is being synced.
    public func markDone(_ id: String) throws(Failure) {
        guard !id.isEmpty, !id.contains("\t"), !id.contains("\n") else { throw Failure.invalidId("a job id must be non-empty, without tabs or newlines") }
        try state.withLock { state throws(Failure) in
            try Self.locked(&state, path: path, fileSystem, retentionMs: retention.milliseconds, clock: clock) { state throws(Failure) in
                let now = clock()
                try Self.append(Array("\(id)\t\(now)\n".utf8), to: &state, path: path, fileSystem)
                state.done[id] = now
                if state.lines >= Self.compactionLinesMin, state.lines % Self.compactionLinesMin == 0 {
                    let cutoff = now - retention.milliseconds
                    state.done = state.done.filter { $0.value >= cutoff }
                    if state.done.count * 2 < state.lines { try Self.rewrite(&state, path: path, fileSystem) }
                }
            }
        }
    }

    /// Lines between looks for expired ids.
    static let compactionLinesMin = 10_000

    /// Runs `effect` unless the job was finished before, then records it. Returns whether it ran.
    /// Calls for one id in this process run one at a time: a copy of the job delivered twice and
    /// run by two runners at once waits for the first, and runs only if the first failed. Both
    /// looks at the file happen on the store's own queue: a marker being synced holds the store's
    /// lock, and a cooperative thread must not wait for it.
    @discardableResult
    public func once(_ id: String, _ effect: () async throws -> Void) async throws -> Bool {
        try await running.run(id) {
            if try await markers.run({ () throws(Failure) in self.contains(id) }) { return false }
            try await effect()
            try await record(id)
            return true
        }
    }

    /// `markDone` on a thread of its own: the caller's task waits for the fsync, its thread does not.
    public func record(_ id: String) async throws {
        try await markers.run { () throws(Failure) in try self.markDone(id) }
    }

    /// Ids currently remembered.
    public var count: Int { state.withLock { $0.done.count } }

    // MARK: The file

    private static func openFile(_ path: String, _ fileSystem: any FileSystem) throws(Failure) -> State {
        try io {
            let descriptor = try fileSystem.open(path, [.readWrite, .create, .append], permissions: 0o644)
            do {
                return State(descriptor: descriptor, identity: try fileSystem.identity(descriptor))
            } catch {
                fileSystem.close(descriptor)
                throw error
            }
        }
    }

    /// Runs `body` holding the file's exclusive lock, after making sure the open file is the one
    /// the path names, cutting a torn last line, and reading what other processes appended.
    private static func locked(_ state: inout State, path: String, _ fileSystem: any FileSystem, retentionMs: Int64,
                               clock: () -> Int64, _ body: (inout State) throws(Failure) -> Void) throws(Failure) {
        // Another process may rename a new file over the path while this one waits for the old
        // file's lock; the renamer holds the new file's lock until it is complete, so the loop ends
        // with the lock of the file the path names. Bounded: each turn follows a rename.
        for _ in 0..<Self.lockTurnsMax {
            _ = try io { try fileSystem.lock(state.descriptor, wait: true) }
            defer { fileSystem.unlock(state.descriptor) }
            guard try io({ try fileSystem.identity(atPath: path) }) == state.identity else {
                try followRename(&state, path: path, fileSystem)
                continue
            }
            try cutTornTail(&state, path: path, fileSystem)
            try readAppended(&state, path: path, fileSystem, cutoff: clock() - retentionMs)
            try body(&state)
            return
        }
        throw Failure.io(SystemError(errno: 11 /* EAGAIN */, operation: "flock (the file kept being replaced)", path: path))
    }

    /// Renames of the file followed before taking its lock gives up.
    static let lockTurnsMax = 1_000

    /// When the path names another file than the open one (another process rewrote it), opens
    /// the new one and reads it from its start.
    private static func followRename(_ state: inout State, path: String, _ fileSystem: any FileSystem) throws(Failure) {
        guard try io({ try fileSystem.identity(atPath: path) }) != state.identity else { return }
        let reopened = try openFile(path, fileSystem)
        fileSystem.close(state.descriptor)
        state.descriptor = reopened.descriptor
        state.identity = reopened.identity
        state.readBytes = 0
        state.lines = 0
    }

    /// Cuts a last line without its newline: what a process that crashed mid-append left. Only
    /// under the lock, when no other process is appending, so the tail cannot be a line in flight.
    private static func cutTornTail(_ state: inout State, path: String, _ fileSystem: any FileSystem) throws(Failure) {
        let size = try sizeReadingAgainWhenCut(&state, fileSystem)
        guard size > 0 else { return }
        var last: UInt8 = 0
        let read = try io { try withUnsafeMutableBytes(of: &last) { try fileSystem.pread(state.descriptor, into: $0, at: size - 1) } }
        guard read == 1, last != newline else { return }
        let tail = try readBytes(state.descriptor, from: state.readBytes, count: size - state.readBytes, path: path, fileSystem)
        let cut = state.readBytes + ((tail.lastIndex(of: newline).map { $0 + 1 }) ?? 0)
        try io {
            try fileSystem.truncate(state.descriptor, to: cut)
            try fileSystem.dataSync(state.descriptor)
        }
    }

    /// Adds the complete lines past `readBytes` to `done`.
    private static func readAppended(_ state: inout State, path: String, _ fileSystem: any FileSystem, cutoff: Int64) throws(Failure) {
        let size = try sizeReadingAgainWhenCut(&state, fileSystem)
        guard size > state.readBytes else { return }
        let bytes = try readBytes(state.descriptor, from: state.readBytes, count: size - state.readBytes, path: path, fileSystem)
        guard let lastNewline = bytes.lastIndex(of: newline) else { return }
        state.lines += parse(bytes[...lastNewline], into: &state.done, cutoff: cutoff)
        state.readBytes += lastNewline + 1
    }

    /// The file's size. Stores cut only bytes after the last newline, which no store has read, so
    /// a file shorter than what was read was cut by something else: then everything is read again.
    private static func sizeReadingAgainWhenCut(_ state: inout State, _ fileSystem: any FileSystem) throws(Failure) -> Int {
        let size = try io { try fileSystem.size(state.descriptor) }
        if size < state.readBytes {
            state.done = [:]
            state.readBytes = 0
            state.lines = 0
        }
        return size
    }

    private static func readBytes(_ descriptor: Int32, from offset: Int, count: Int, path: String, _ fileSystem: any FileSystem) throws(Failure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        try io {
            try bytes.withUnsafeMutableBytes { buffer in
                while done < count {
                    let read = try fileSystem.pread(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + done)
                    if read == 0 { break }
                    done += read
                }
            }
        }
        return Array(bytes[..<done])
    }

    /// Adds the lines of `bytes` (each ending in a newline) to `done` (ids newer than `cutoff`);
    /// returns how many lines there were.
    private static func parse(_ bytes: ArraySlice<UInt8>, into done: inout [String: Int64], cutoff: Int64) -> Int {
        var lines = 0
        var start = bytes.startIndex
        while let end = bytes[start...].firstIndex(of: newline) {
            lines += 1
            let line = bytes[start..<end]
            start = end + 1
            guard let tab = line.firstIndex(of: 9), let time = Int64(String(decoding: line[(tab + 1)...], as: UTF8.self)), time >= cutoff else { continue }
            done[String(decoding: line[..<tab], as: UTF8.self)] = time
        }
        return lines
    }

    /// Appends one line and syncs it; under the lock. A write that fails part way is cut back off
    /// (a line without its newline, which no store reads), so the next marker starts on a fresh
    /// line. A failed sync throws and leaves the complete line: other stores may have read it
    /// already, and the effect it marks has run (`once` records after the effect), so a retry of
    /// the job that finds the marker and skips the effect does the right thing.
    private static func append(_ line: [UInt8], to state: inout State, path: String, _ fileSystem: any FileSystem) throws(Failure) {
        let end = state.readBytes
        do {
            try io {
                try line.withUnsafeBytes { bytes in
                    var written = 0
                    while written < bytes.count {
                        let count = try fileSystem.write(state.descriptor, UnsafeRawBufferPointer(rebasing: bytes[written...]))
                        precondition(count > 0, "write wrote nothing without an error")
                        written += count
                    }
                }
            }
        } catch {
            try? fileSystem.truncate(state.descriptor, to: end)
            throw error
        }
        state.readBytes = end + line.count
        state.lines += 1
        try io { try fileSystem.dataSync(state.descriptor) }
    }

    /// Replaces the file with the ids in `done`: a complete new file, locked, synced and renamed
    /// over the path, then the directory synced. Called under the old file's lock; the lock of the
    /// new file is taken before the rename and kept until the caller releases it, so no other
    /// process appends to the new file before it is in place.
    private static func rewrite(_ state: inout State, path: String, _ fileSystem: any FileSystem) throws(Failure) {
        let temporary = path + ".tmp"
        let bytes = Array(state.done.map { "\($0.key)\t\($0.value)\n" }.joined().utf8)
        let descriptor = try io { try fileSystem.open(temporary, [.readWrite, .create, .truncate, .append], permissions: 0o644) }
        do {
            try io {
                _ = try fileSystem.lock(descriptor, wait: true)
                try bytes.withUnsafeBytes { try fileSystem.writeAll(descriptor, $0, at: 0) }
                try fileSystem.dataSync(descriptor)
                let identity = try fileSystem.identity(descriptor)
                try fileSystem.rename(temporary, to: path)
                try fileSystem.syncDirectory(parentDirectory(of: path))
                fileSystem.unlock(state.descriptor)
                fileSystem.close(state.descriptor)
                state.descriptor = descriptor
                state.identity = identity
            }
        } catch {
            if state.descriptor != descriptor {
                fileSystem.close(descriptor)
                try? fileSystem.remove(temporary)
            }
            throw error
        }
        state.readBytes = bytes.count
        state.lines = state.done.count
    }

    private static let newline: UInt8 = 10

    /// Runs file-system calls, answering their `SystemError` as `Failure.io`.
    private static func io<T>(_ body: () throws -> T) throws(Failure) -> T {
        do { return try body() } catch let error as SystemError { throw .io(error) } catch {
            // A `FileSystem` other than the live one (a simulation) may throw its own errors.
            throw .io(SystemError(errno: 5 /* EIO */, operation: String(describing: error)))
        }
    }
}
