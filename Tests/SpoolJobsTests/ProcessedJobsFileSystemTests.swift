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

    @Test("a failed fdatasync or write surfaces as an error and leaves no marker behind; the next marker is stored")
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
        #expect(!reopened.contains("sync-failed") && !reopened.contains("disk-full"))
        #expect(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count == 2)
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

    @Test("stores appending from several tasks while another process rewrites the file again and again lose no marker")
    func concurrentAppendsAndRewrites() async throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let writers = 3, perWriter = 40, rounds = 5
        let stores = try (0..<writers).map { _ in try ProcessedJobs(path: file, retention: .seconds(3600)) }
        let rewrites = FaultInjectingFileSystem()
        let past = nowMs() - 60_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (writer, store) in stores.enumerated() {
                group.addTask {
                    for index in 0..<perWriter { try store.markDone("w\(writer)-\(index)") }
                }
            }
            group.addTask {
                for round in 0..<rounds {
                    // Lines a minute old: expired for a store that keeps ids 30 s, and more than
                    // all the writers' lines, so that store rewrites the file when it opens.
                    let staleStore = try ProcessedJobs(path: file, retention: .seconds(3600), clock: { past })
                    for index in 0..<(writers * perWriter + 10) { try staleStore.markDone("stale-\(round)-\(index)") }
                    _ = try ProcessedJobs(path: file, retention: .seconds(30), fileSystem: rewrites)
                }
            }
            try await group.waitForAll()
        }
        // Each rewrite syncs the directory once; no other call of these stores opens a directory.
        #expect(rewrites.journal.withLock { $0.count } == rounds)
        let reopened = try ProcessedJobs(path: file, retention: .seconds(3600))
        var lost: [String] = []
        for writer in 0..<writers { for index in 0..<perWriter where !reopened.contains("w\(writer)-\(index)") { lost.append("w\(writer)-\(index)") } }
        #expect(lost.isEmpty, "lost \(lost.count) markers: \(lost.prefix(10))")
    }
}
