import Foundation
import Glibc
import Testing
@testable import SpoolClient

/// Connecting blocks until the broker answers or the timeout passes; it must not hold one of
/// Swift's cooperative threads (one per core) meanwhile.
@Suite struct ConnectBlockingTests {
    /// A listener whose accept queue is full and never drained: a further connect hangs (the
    /// kernel drops its SYNs) until the client's timeout.
    final class FullListener: @unchecked Sendable {
        let fd: Int32
        let port: Int32
        var fillers: [Int32] = []

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.fd = fd
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard bound == 0, listen(fd, 0) == 0 else { throw POSIXError(.EADDRINUSE) }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            self.port = Int32(UInt16(bigEndian: address.sin_port))
            // Fill the accept queue with connections nobody accepts.
            for _ in 0..<4 {
                let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
                _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, length) } }
                fillers.append(filler)
            }
            usleep(100_000)
        }

        func close() {
            for filler in fillers { Glibc.close(filler) }
            Glibc.close(fd)
        }
    }

    @Test func connectsThatHangLeaveTheCooperativeThreadsFree() async throws {
        let listener = try FullListener()
        defer { listener.close() }
        let client = try SpoolClient(bootstrap: "127.0.0.1:\(listener.port)", clientId: "test", requestTimeoutMs: 8_000)
        defer { client.close() }
        let count = ProcessInfo.processInfo.activeProcessorCount * 2
        let calls = (0..<count).map { _ in Task { try? await client.metadata(topics: []) } }
        let probeRan: Bool = await withCheckedContinuation { continuation in
            DispatchQueue(label: "spool.test.blocking").async {
                usleep(300_000)  // the connects are under way
                let probe = DispatchSemaphore(value: 0)
                Task { probe.signal() }
                continuation.resume(returning: probe.wait(timeout: .now() + 6) == .success)
            }
        }
        #expect(probeRan, "a task could not run while connects hung")
        client.close()
        for call in calls { _ = await call.value }
    }
}
