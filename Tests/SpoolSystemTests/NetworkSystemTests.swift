import Glibc
import SpoolSystem
import SpoolTestSupport
import Testing

/// The owned descriptors and the live socket, epoll and eventfd calls under them.
@Suite struct NetworkSystemTests {
    /// A blocking loopback client of `port`.
    private func connect(to port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port.bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(result == 0, "connect: errno \(errno)")
        return fd
    }

    @Test func aDescriptorIsClosedExactlyOnceWhetherClosedOrDropped() throws {
        let network = RecordingNetworkSystem()
        let listener = try network.listenSocket(host: "127.0.0.1", port: 0, backlog: 4)
        #expect(network.openDescriptors == [listener.rawValue])
        listener.close()
        #expect(network.openDescriptors.isEmpty)
        do {
            let dropped = try network.listenSocket(host: "127.0.0.1", port: 0, backlog: 4)
            #expect(network.openDescriptors == [dropped.rawValue])
        }
        #expect(network.openDescriptors.isEmpty, "dropping the owner closed it")
        #expect(network.callsAfterClose == [], "nothing closed twice")
    }

    @Test func aWakeSignalIsReportedByItsPollerUntilCleared() throws {
        let network = RecordingNetworkSystem()
        let poller = try Poller(system: network)
        let wake = try WakeSignal(system: network)
        try poller.watch(wake.rawValue, for: .readable)
        var ready = ReadyDescriptors(capacity: 4)
        try poller.wait(into: &ready, timeoutMs: 0)
        #expect(ready.count == 0)
        try wake.signal()
        try wake.signal()
        try poller.wait(into: &ready, timeoutMs: 1000)
        #expect(ready.count == 1 && ready[0].fd == wake.rawValue && ready[0].events.contains(.readable))
        try wake.clear()
        try poller.wait(into: &ready, timeoutMs: 0)
        #expect(ready.count == 0, "one clear takes every signal")
        wake.close()
        poller.close()
        #expect(network.openDescriptors.isEmpty)
    }

    @Test func acceptAndReadSayNilWhenNothingIsReady() throws {
        let network = RecordingNetworkSystem()
        let listener = try network.listenSocket(host: "127.0.0.1", port: 0, backlog: 4)
        let poller = try Poller(system: network)
        try poller.watch(listener.rawValue, for: .readable)
        #expect(try network.acceptConnection(on: listener) == nil, "no connection waiting")
        let client = try connect(to: try network.localPort(listener.rawValue))
        defer { close(client) }
        var ready = ReadyDescriptors(capacity: 4)
        try poller.wait(into: &ready, timeoutMs: 5000)
        #expect(ready.count == 1)
        guard let accepted = try network.acceptConnection(on: listener) else {
            Issue.record("the waiting connection was not accepted")
            return
        }
        #expect(network.peerName(accepted.rawValue)?.hasPrefix("127.0.0.1:") == true)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try buffer.withUnsafeMutableBytes { try accepted.read(into: $0) } == nil, "nothing sent yet")
        #expect(send(client, "hi", 2, 0) == 2)
        try poller.watch(accepted.rawValue, for: .readable)
        try poller.wait(into: &ready, timeoutMs: 5000)
        #expect(try buffer.withUnsafeMutableBytes { try accepted.read(into: $0) } == 2)
        let reply: [UInt8] = Array("ok".utf8)
        #expect(try reply.withUnsafeBytes { try accepted.write($0) } == 2)
        shutdown(client, Int32(SHUT_WR))
        try poller.wait(into: &ready, timeoutMs: 5000)
        #expect(try buffer.withUnsafeMutableBytes { try accepted.read(into: $0) } == 0, "end of stream")
        accepted.close()
        poller.close()
        listener.close()
        #expect(network.openDescriptors.isEmpty)
        #expect(network.callsAfterClose == [])
    }

    @Test func injectedFailuresComeBackAsSystemErrors() throws {
        let network = RecordingNetworkSystem()
        let listener = try network.listenSocket(host: "127.0.0.1", port: 0, backlog: 4)
        network.inject(.accept, errno: EMFILE)
        #expect(throws: SystemError(errno: EMFILE, operation: "accept")) { _ = try network.acceptConnection(on: listener) }
        network.clear()
        #expect(try network.acceptConnection(on: listener) == nil)
        #expect(network.count(.accept) == 2)
    }
}
