import Foundation
import Glibc
@testable import SpoolServer
import Testing

/// A request that finishes after the server stopped still hands its response to its loop. The
/// loop's wake-up descriptor must not have been closed by then: its number could already name a
/// file opened since, and the wake-up would write 8 bytes into it.
@Suite struct EventLoopShutdownTests {
    @Test func aTaskSubmittedAfterStopWritesIntoNoFileOpenedSince() throws {
        let loop = try EventLoop(index: 0)
        loop.start()
        loop.stop {}
        let directory = NSTemporaryDirectory() + "spool-loop-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Files opened after the stop, as a broker opens checkpoints: each takes the lowest free
        // descriptor number, so one of them takes the wake-up descriptor's if it was closed.
        var files: [Int32] = []
        defer { for fd in files { close(fd) } }
        for index in 0..<64 {
            let fd = open(directory + "/file-\(index)", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            try #require(fd >= 0)
            files.append(fd)
            if fd == loop.wakeFD { break }
        }
        loop.submit { Issue.record("a task submitted after stop ran") }
        for fd in files {
            var info = stat()
            try #require(fstat(fd, &info) == 0)
            #expect(info.st_size == 0, "descriptor \(fd), opened after the loop stopped, was written to")
        }
        #expect(!files.contains(loop.wakeFD), "the loop's descriptor stays open while the loop exists")
    }
}
