import Foundation
import Testing
@testable import SpoolJobs

/// `ProcessedJobs` files that several stores (several worker processes: each store opens the file
/// on its own) share, and that a crash left with a torn last line.
@Suite("ProcessedJobs shared by several processes")
struct ProcessedJobsSharingTests {
    private func path() -> String { NSTemporaryDirectory() + "spool-processed-shared-\(UUID().uuidString.prefix(8))" }

    /// Appends bytes the way a process that crashed mid-write leaves them: no newline at the end.
    private func appendTorn(_ text: String, to file: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try handle.close()
    }

    private func lines(_ file: String) throws -> [String] {
        try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test("a torn last line is cut on open, so the next marker starts on a line of its own and survives reopening")
    func tornTailCutOnOpen() throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        try ProcessedJobs(path: file).markDone("before-crash")
        try appendTorn("torn-jo", to: file)

        try ProcessedJobs(path: file).markDone("after-crash")
        let reopened = try ProcessedJobs(path: file)
        #expect(reopened.contains("before-crash"))
        #expect(reopened.contains("after-crash"))
        #expect(!reopened.contains("torn-jo"))
        let text = try lines(file)
        #expect(text.count == 3 && text.last == "", "\(text)")
        #expect(text.allSatisfy { !$0.contains("torn") })
    }

    @Test("a line torn by another process that crashed while this one had the file open is cut before this one appends")
    func tornTailCutBeforeAppend() throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let store = try ProcessedJobs(path: file)
        try store.markDone("first")
        try appendTorn("crashed-writer\t17", to: file)
        try store.markDone("second")
        let reopened = try ProcessedJobs(path: file)
        #expect(reopened.contains("first") && reopened.contains("second"))
        #expect(!reopened.contains("crashed-writer"))
        #expect(try lines(file).filter { !$0.isEmpty }.count == 2)
    }

    @Test("a store that rewrites the file on open does not lose what another store, open on the old file, appends afterwards")
    func rewriteWhileAnotherAppends() throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let old = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
        try Data((0..<10).map { "old-\($0)\t\(old)\n" }.joined().utf8).write(to: URL(fileURLWithPath: file))
        // The first process keeps ids for an hour: nothing of the file is expired for it.
        let appender = try ProcessedJobs(path: file, retention: .seconds(3600))
        try appender.markDone("before-rewrite")
        // The second keeps them 5 s: most of the file is expired, so it rewrites it on open.
        let rewriter = try ProcessedJobs(path: file, retention: .seconds(5))
        #expect(!(try lines(file).contains { $0.hasPrefix("old-") }), "the second store did not rewrite the file")
        #expect(rewriter.contains("before-rewrite"))

        for index in 0..<5 { try appender.markDone("after-rewrite-\(index)") }
        try rewriter.markDone("from-rewriter")
        for index in 0..<5 { #expect(rewriter.contains("after-rewrite-\(index)")) }
        #expect(appender.contains("from-rewriter"))

        let reopened = try ProcessedJobs(path: file, retention: .seconds(3600))
        for id in ["before-rewrite", "from-rewriter"] + (0..<5).map({ "after-rewrite-\($0)" }) {
            #expect(reopened.contains(id), "\(id) was lost")
        }
    }

    @Test("a file cut below what a store has read (by something other than a store) is read again from its start")
    func cutBelowWhatWasRead() throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let store = try ProcessedJobs(path: file)
        try store.markDone("first-long-identifier")
        try store.markDone("second-long-identifier")
        // The same file (same inode), cut and written again in place.
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.truncate(atOffset: 0)
        handle.write(Data("other\t\(Int64(Date().timeIntervalSince1970 * 1000))\n".utf8))
        try handle.close()
        #expect(store.contains("other"))
        #expect(!store.contains("first-long-identifier"))
        try store.markDone("third")
        #expect(try lines(file).filter { !$0.isEmpty }.map { String($0.prefix { $0 != "\t" }) } == ["other", "third"])
    }
}
