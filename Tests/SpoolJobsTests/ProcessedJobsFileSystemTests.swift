import Foundation
import Glibc
import SpoolSystem
import SpoolTestSupport
import Testing
@testable import SpoolJobs

/// `ProcessedJobs` through the `FileSystem` seam: failed system calls surface as errors, rewrites
/// sync the directory, and rewrites racing appends lose nothing.
@Suite("ProcessedJobs over a FileSystem")
struct ProcessedJobsFileSystemTests {
    private func path() -> String { NSTemporaryDirectory() + "spool-processed-fs-\(UUID().uuidString.prefix(8))" }
    private func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @Test("once waits for a slow disk without holding Swift's cooperative threads: other tasks run meanwhile")
    func onceDoesNotBlockTheCooperativePool() async throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fileSystem = FaultInjectingFileSystem()
        let store = try ProcessedJobs(path: file, fileSystem: fileSystem)
        // More markers than cooperative threads: blocked in fsync (or behind it), they would hold them all.
        let count = ProcessInfo.processInfo.activeProcessorCount * 2
        var marks: [Task<Bool, any Error>] = []
        let probeRan = await fileSystem.probeWhileSyncsWait(start: {
            marks = (0..<count).map { index in Task { try await store.once("job-\(index)") {} } }
        }, probe: { true })
        #expect(probeRan, "a task could not run while markers waited for the disk")
        for mark in marks { #expect(try await mark.value) }
        #expect(store.count == count)
    }

    @Test("two copies of a job running at once: once runs the effect for one of them; after a copy that failed, the other runs it")
    func concurrentCopiesRunOnce() async throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let store = try ProcessedJobs(path: file)
        let runs = LockedValue(0)
        func copy(_ id: String, failing: Bool = false) -> Task<Bool, any Error> {
            Task {
                try await store.once(id) {
                    runs.withLock { $0 += 1 }
                    try await Task.sleep(for: .milliseconds(50))
                    if failing { throw CancellationError() }
                }
            }
        }
        let (first, second) = (copy("x"), copy("x"))
        let ran = [try await first.value, try await second.value]
        #expect(runs.value == 1 && Set(ran) == [false, true], "ran \(runs.value) times: \(ran)")

        runs.value = 0
        let failing = copy("y", failing: true)
        #expect(await eventually { runs.value == 1 }, "the failing copy is running")
        let next = copy("y")
        await #expect(throws: CancellationError.self) { try await failing.value }
        #expect(try await next.value)
        #expect(runs.value == 2)
    }

    @Test("a failed write or fdatasync surfaces as an error; a failed write leaves nothing behind; the next marker is stored")
    func failuresSurface() throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fileSystem = FaultInjectingFileSystem()
        let store = try ProcessedJobs(path: file, fileSystem: fileSystem)
        try store.markDone("kept")

        fileSystem.inject(.dataSync, errno: EIO, times: 1)
        #expect {
            try store.markDone("sync-failed")
        } throws: { error in
            guard case let .io(system) = error as? ProcessedJobs.Failure else { return false }
            return system.errno == EIO && system.operation == "dataSync"
        }
        fileSystem.inject(.pwrite, errno: ENOSPC, times: 1)
        #expect {
            try store.markDone("disk-full")
        } throws: { error in
            guard case let .io(system) = error as? ProcessedJobs.Failure else { return false }
            return system.isNoSpace
        }
        #expect(fileSystem.failures(of: .dataSync) == 1 && fileSystem.failures(of: .pwrite) == 1)
        try store.markDone("after")

        let reopened = try ProcessedJobs(path: file)
        #expect(reopened.contains("kept") && reopened.contains("after"))
        // The line whose sync failed was written whole and stays (its effect has run); the one
        // whose write failed is gone without a trace.
        #expect(reopened.contains("sync-failed"))
        #expect(!reopened.contains("disk-full"))
        #expect(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t")[0] } == ["kept", "sync-failed", "after"])
    }

    @Test("opening fails with the system error when the file cannot be opened")
    func openFailure() {
        let fileSystem = FaultInjectingFileSystem()
        fileSystem.inject(.open, errno: EACCES, times: 1)
        #expect {
            _ = try ProcessedJobs(path: path(), fileSystem: fileSystem)
        } throws: { error in
            guard case let .io(system) = error as? ProcessedJobs.Failure else { return false }
            return system.errno == EACCES
        }
    }

    @Test("a rewrite syncs the directory after the rename; a failed rename leaves the old file whole")
    func rewriteSyncsDirectoryAndFailsCleanly() throws {
        let file = path()
        defer {
            try? FileManager.default.removeItem(atPath: file)
            try? FileManager.default.removeItem(atPath: file + ".tmp")
        }
        let old = nowMs() - 60_000, fresh = nowMs()
        let stale = (0..<10).map { "old-\($0)\t\(old)\n" }.joined() + "fresh\t\(fresh)\n"
        try Data(stale.utf8).write(to: URL(fileURLWithPath: file))

        let failing = FaultInjectingFileSystem()
        failing.inject(.rename, errno: EIO, times: 1)
        #expect(throws: ProcessedJobs.Failure.self) { _ = try ProcessedJobs(path: file, retention: .seconds(5), fileSystem: failing) }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == stale)
        #expect(!FileManager.default.fileExists(atPath: file + ".tmp"))

        let fileSystem = FaultInjectingFileSystem()
        let store = try ProcessedJobs(path: file, retention: .seconds(5), fileSystem: fileSystem)
        #expect(fileSystem.journal.withLock { $0 } == ["sync"])
        #expect(store.contains("fresh") && !store.contains("old-1"))
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "fresh\t\(fresh)\n")
    }

    /// Appends `text` the way a store does: under the lock of the file the path names.
    private func appendUnderLock(_ text: String, to file: String) throws {
        let fileSystem = LiveFileSystem()
        while true {
            let fd = try fileSystem.open(file, [.readWrite, .create, .append], permissions: 0o644)
            defer { fileSystem.close(fd) }
            _ = try fileSystem.lock(fd, wait: true)
            guard try fileSystem.identity(fd) == fileSystem.identity(atPath: file) else { continue }
            try Array(text.utf8).withUnsafeBytes { bytes in
                var written = 0
                while written < bytes.count { written += try fileSystem.write(fd, UnsafeRawBufferPointer(rebasing: bytes[written...])) }
            }
            return
        }
    }

    @Test("stores appending from several threads while another process rewrites the file again and again lose no marker")
    func concurrentAppendsAndRewrites() async throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let writers = 3, rounds = 20
        let stores = try (0..<writers).map { _ in try ProcessedJobs(path: file, retention: .seconds(3600)) }
        let rewrites = FaultInjectingFileSystem()
        let rewriting = LockedValue(true)
        let stale = (0..<5_000).map { "stale-\($0)\t\(nowMs() - 60_000)\n" }.joined()
        // The writers run on threads of their own, as processes would: each loops without
        // suspending, which would starve the concurrency pool's few threads.
        let written = LockedValue<[Int: Int]>([:])
        let failures = LockedValue<[String]>([])
        for (writer, store) in stores.enumerated() {
            Thread {
                // Until the rewrites are over, and once more after them.
                var count = 0
                do {
                    repeat {
                        try store.markDone("w\(writer)-\(count)")
                        count += 1
                    } while rewriting.value
                    try store.markDone("w\(writer)-\(count)")
                    count += 1
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                written.withLock { $0[writer] = count }
            }.start()
        }
        do {
            defer { rewriting.value = false }
            for _ in 0..<rounds {
                // Lines a minute old, more than the writers': a store that keeps ids 30 s finds
                // most of the file expired and rewrites it as it opens.
                try appendUnderLock(stale, to: file)
                _ = try ProcessedJobs(path: file, retention: .seconds(30), fileSystem: rewrites)
            }
        }
        #expect(await eventually { written.value.count == writers })
        #expect(failures.value.isEmpty, "\(failures.value)")
        // Each rewrite syncs the directory once; no other call of these stores opens a directory.
        #expect(rewrites.journal.withLock { $0.count } == rounds)
        let reopened = try ProcessedJobs(path: file, retention: .seconds(3600))
        var lost: [String] = []
        for (writer, count) in written.value {
            for index in 0..<count where !reopened.contains("w\(writer)-\(index)") { lost.append("w\(writer)-\(index)") }
        }
        #expect(lost.isEmpty, "lost \(lost.count) of \(written.value.values.reduce(0, +)) markers: \(lost.prefix(10))")
    }
}
