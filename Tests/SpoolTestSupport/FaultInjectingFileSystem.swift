import Dispatch
import Foundation
import Glibc
import SpoolSystem
import Synchronization

/// The live file system with errors injected into chosen calls: the test seam for ENOSPC, EIO
/// and EINTR-free failure paths. Shared by the test targets (`write` counts as `.pwrite`,
/// `contents(ofDirectory:)` as `.list`).
public final class FaultInjectingFileSystem: FileSystem {
    public enum Call: String, Sendable { case open, pwrite, allocate, truncate, dataSync, sync, rename, map, remove, list }

    public init() {}

    private struct Fault {
        var call: Call
        var errno: Int32
        /// Calls to let through before failing.
        var skip: Int
        /// Failures left (nil: until cleared).
        var remaining: Int?
        /// The one path it fails for (nil: any); calls on file descriptors have no path.
        var path: String?
    }

    private let live = LiveFileSystem()
    private let faults = Mutex<[Fault]>([])
    private let counts = Mutex<[String: Int]>([:])

    /// Fails `call` with `errno` after letting `skip` calls through, `times` times (nil: until
    /// cleared); with `path`, only calls naming that path count (opening a directory to sync it
    /// names it: `.open` with a path fails one `syncDirectory` and nothing around it).
    public func inject(_ call: Call, errno: Int32, skip: Int = 0, times: Int? = nil, path: String? = nil) {
        faults.withLock { $0.append(Fault(call: call, errno: errno, skip: skip, remaining: times, path: path)) }
    }

    public func clear() { faults.withLock { $0.removeAll() } }

    /// How many times `call` failed because of an injected fault.
    public func failures(of call: Call) -> Int { counts.withLock { $0[call.rawValue] ?? 0 } }

    private func check(_ call: Call, path: String? = nil) throws {
        let errno: Int32? = faults.withLock { faults in
            guard let index = faults.firstIndex(where: { $0.call == call && ($0.path == nil || $0.path == path) }) else { return nil }
            if faults[index].skip > 0 {
                faults[index].skip -= 1
                return nil
            }
            let errno = faults[index].errno
            if let remaining = faults[index].remaining {
                if remaining <= 1 { faults.remove(at: index) } else { faults[index].remaining = remaining - 1 }
            }
            return errno
        }
        if let errno {
            counts.withLock { $0[call.rawValue, default: 0] += 1 }
            throw SystemError(errno: errno, operation: call.rawValue, path: path)
        }
    }

    /// While set, every `dataSync` and `sync` (of a file or a directory) waits for the semaphore
    /// (and signals it again, so the next one passes too): a disk that takes its time, to show who
    /// waits for it.
    public let syncGate = Mutex<DispatchSemaphore?>(nil)
    /// How many `dataSync` and `sync` calls (and `allocate` and `pwrite` calls, see
    /// `gatesAllocations` and `gatesWrites`) are waiting at the gate.
    public let syncsWaiting = Atomic(0)
    /// Whether `allocate` (fallocate) waits at the sync gate too.
    public let gatesAllocations = Atomic(false)
    /// Whether `pwrite` waits at the sync gate too (a disk whose writeback throttles writers).
    public let gatesWrites = Atomic(false)

    /// File removals and directory syncs, in the order they happened ("remove NAME", "sync").
    public let journal = Mutex<[String]>([])

    public func open(_ path: String, _ options: OpenOptions, permissions: UInt32) throws -> Int32 {
        try check(.open, path: path)
        let fd = try live.open(path, options, permissions: permissions)
        // A directory is opened only to sync it (`syncDirectory`).
        if options.contains(.directory) { journal.withLock { $0.append("sync") } }
        return fd
    }
    public func close(_ fd: Int32) { live.close(fd) }
    public func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws -> Int {
        try check(.pwrite)
        if gatesWrites.load(ordering: .relaxed) { waitAtSyncGate() }
        return try live.pwrite(fd, bytes, at: offset)
    }
    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int {
        try check(.pwrite)
        return try live.write(fd, bytes)
    }
    public func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        try live.pread(fd, into: buffer, at: offset)
    }
    public func allocate(_ fd: Int32, offset: Int, length: Int) throws {
        try check(.allocate)
        if gatesAllocations.load(ordering: .relaxed) { waitAtSyncGate() }
        try live.allocate(fd, offset: offset, length: length)
    }
    public func releasePages(_ address: UnsafeMutableRawPointer, length: Int) { live.releasePages(address, length: length) }
    public func adviseAccess(_ address: UnsafeMutableRawPointer, length: Int, _ pattern: AccessPattern) {
        live.adviseAccess(address, length: length, pattern)
    }
    public func truncate(_ fd: Int32, to length: Int) throws {
        try check(.truncate)
        try live.truncate(fd, to: length)
    }
    public func dataSync(_ fd: Int32) throws {
        try check(.dataSync)
        waitAtSyncGate()
        try live.dataSync(fd)
    }
    public func sync(_ fd: Int32) throws {
        try check(.sync)
        waitAtSyncGate()
        try live.sync(fd)
    }

    private func waitAtSyncGate() {
        guard let gate = syncGate.withLock({ $0 }) else { return }
        syncsWaiting.add(1, ordering: .relaxed)
        gate.wait()
        gate.signal()
        syncsWaiting.subtract(1, ordering: .relaxed)
    }
    public func size(_ fd: Int32) throws -> Int { try live.size(fd) }
    public func modificationTimeMs(_ fd: Int32) throws -> Int64 { try live.modificationTimeMs(fd) }
    public func map(_ fd: Int32, length: Int, writable: Bool) throws -> UnsafeMutableRawPointer {
        try check(.map)
        return try live.map(fd, length: length, writable: writable)
    }
    public func unmap(_ address: UnsafeMutableRawPointer, length: Int) { live.unmap(address, length: length) }
    public func rename(_ from: String, to: String) throws {
        try check(.rename, path: from)
        try live.rename(from, to: to)
    }
    public func remove(_ path: String) throws {
        try check(.remove, path: path)
        try live.remove(path)
        journal.withLock { $0.append("remove " + (path.split(separator: "/").last.map(String.init) ?? path)) }
    }
    public func makeDirectory(_ path: String) throws { try live.makeDirectory(path) }
    public func removeDirectory(_ path: String) throws { try live.removeDirectory(path) }
    public func contents(ofDirectory path: String) throws -> [String] {
        try check(.list, path: path)
        return try live.contents(ofDirectory: path)
    }
    public func exists(_ path: String) -> Bool { live.exists(path) }
    public func lock(_ fd: Int32, wait: Bool) throws -> Bool { try live.lock(fd, wait: wait) }
    public func unlock(_ fd: Int32) { live.unlock(fd) }
    public func identity(_ fd: Int32) throws -> FileIdentity { try live.identity(fd) }
    public func identity(atPath path: String) throws -> FileIdentity { try live.identity(atPath: path) }
}

extension FaultInjectingFileSystem {
    /// Holds every sync at the gate, runs `work` (which should start tasks that sync), and once a
    /// sync waits there, checks that `probe`, run as a task, still finishes (returning true)
    /// within 30 s; then lets the disk go. Returns what the check found.
    ///
    /// This shows that work waiting for the disk holds none of Swift's cooperative threads: the
    /// check is watched from a thread of Dispatch's own, since the cooperative ones are what is at
    /// stake; `work` should start more syncing tasks than there are cores.
    public func probeWhileSyncsWait(start work: () -> Void, probe: @escaping @Sendable () async -> Bool) async -> Bool {
        let gate = DispatchSemaphore(value: 0)
        syncGate.withLock { $0 = gate }
        work()
        return await withCheckedContinuation { continuation in
            DispatchQueue(label: "spool.test.watch").async { [self] in
                let deadline = Date().addingTimeInterval(10)
                while syncsWaiting.load(ordering: .relaxed) == 0 && Date() < deadline { usleep(1_000) }
                let finished = DispatchSemaphore(value: 0)
                Task { if await probe() { finished.signal() } }
                // Generous: tests running beside this one may hold cooperative threads for a while too.
                let ran = finished.wait(timeout: .now() + 30) == .success
                syncGate.withLock { $0 = nil }
                gate.signal()
                continuation.resume(returning: ran)
            }
        }
    }
}
