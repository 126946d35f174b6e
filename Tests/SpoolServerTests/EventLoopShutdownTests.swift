import Foundation
import Glibc
@testable import SpoolServer
import Testing

/// A request that finishes after the server stopped still hands its response to its loop. The
/// loop's thread has closed its wake-up descriptor by then, and the number may already name a file
/// opened since: the hand-over must be dropped without writing its wake-up's 8 bytes into it.
@Suite struct EventLoopShutdownTests {
    @Test func aTaskSubmittedAfterStopWritesIntoNoFileOpenedSince() throws {
        let loop = try EventLoop(index: 0)
        loop.start()
        loop.stop {}
        let directory = NSTemporaryDirectory() + "spool-loop-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try openFiles(in: directory, count: 64, until: loop.wakeDescriptor)
        defer { for fd in files { close(fd) } }
        loop.submit { Issue.record("a task submitted after stop ran") }
        #expect(writtenFiles(files) == [], "descriptors opened after the loop stopped were written to")
        #expect(files.contains(loop.wakeDescriptor), "the loop's thread closed its wake-up descriptor when it stopped")
    }
}
