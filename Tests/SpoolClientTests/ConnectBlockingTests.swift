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

    /// A connect under way when `close()` runs is closed as soon as it is made: the broker sees
    /// the connection end without a request on it, and the call fails as closed. Before, it
    /// was kept among the client's connections after `close()` had emptied them, open, with its
    /// first request on it.
    @Test func aConnectionMadeWhileTheClientClosesIsClosedAtOnce() async throws {
        let listener = try FullListener()
        defer { listener.close() }
        let client = try SpoolClient(bootstrap: "127.0.0.1:\(listener.port)", clientId: "test", requestTimeoutMs: 8_000)
        let call = Task { () -> ClientError? in
            do throws(ClientError) { _ = try await client.connection(to: "127.0.0.1:\(listener.port)") } catch { return error }
            return nil
        }
        usleep(300_000)  // the connect is under way, its SYN dropped
        client.close()
        // Accepting makes room in the queue: the connect's next SYN goes through, among the
        // fillers' (told apart by their ports).
        let fillerPorts = Set(listener.fillers.map { Self.port(of: $0, getsockname) })
        var taken: [Int32] = []
        defer { for fd in taken { Glibc.close(fd) } }
        var accepted: Int32 = -1
        let deadline = ContinuousClock.now + .seconds(8)
        while accepted < 0 && ContinuousClock.now < deadline {
            var ready = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 200) > 0 else { continue }
            let fd = accept(listener.fd, nil, nil)
            guard fd >= 0 else { continue }
            taken.append(fd)
            if !fillerPorts.contains(Self.port(of: fd, getpeername)) { accepted = fd }
        }
        try #require(accepted >= 0, "the client's connection was not made")
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(accepted, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var byte: UInt8 = 0
        let received = recv(accepted, &byte, 1, 0)
        #expect(received == 0, "the connection stayed open (\(received == 1 ? "a request came on it" : "no end in 3 s"))")
        #expect(await call.value == ClientError.closed)
    }

    /// The port of one end of a socket: `getsockname` (its own) or `getpeername` (the other's).
    private static func port(of fd: Int32, _ name: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { name(fd, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }
}
