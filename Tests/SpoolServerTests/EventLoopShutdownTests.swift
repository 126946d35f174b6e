import Foundation
import Glibc
@testable import SpoolServer
import SpoolTestSupport
import Testing

/// A request that finishes after the server stopped still hands its response to its loop. The
/// loop's thread has closed its wake-up descriptor by then, and the number may already name a file
/// opened since: the hand-over must be dropped without writing its wake-up's 8 bytes into it.
@Suite struct EventLoopShutdownTests {
    @Test func aTaskSubmittedAfterStopWritesIntoNoFileOpenedSince() throws {
        let network = RecordingNetworkSystem()
        let loop = try EventLoop(index: 0, network: network)
        loop.start()
        loop.stop {}
        #expect(network.openDescriptors.isEmpty, "the loop's thread closed its epoll and eventfd as it stopped")
        let directory = NSTemporaryDirectory() + "spool-loop-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Files opened now take the lowest free numbers, the wake-up's among them unless another
        // test running alongside took it first.
        let files = try openFiles(in: directory, count: 64, until: loop.wakeDescriptor)
        defer { for fd in files { close(fd) } }
        loop.submit { Issue.record("a task submitted after stop ran") }
        #expect(network.callsAfterClose == [], "the submit touched no closed descriptor")
        #expect(writtenFiles(files) == [], "descriptors opened after the loop stopped were written to")
    }
}
