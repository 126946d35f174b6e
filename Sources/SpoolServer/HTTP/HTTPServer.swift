import Dispatch
import Glibc
import SpoolSystem
import Synchronization

/// What a handler makes of a request: a response at once (on the listener's loop: cheap
/// answers such as `/healthz`), or work to run as a task whose response the loop then sends.
public enum HTTPHandling: Sendable {
    case now(HTTPResponse)
    case later(@Sendable () async -> HTTPResponse)
}

/// Answers the requests of an `HTTPServer`.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest) -> HTTPHandling
}

/// How the HTTP listener listens and what it allows.
public struct HTTPConfig: Sendable {
    /// IPv4 address to bind (loopback by default).
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port: UInt16 = 9644
    /// Open connections at most; one more is answered 503 and closed.
    public var connectionsMax = 1024
    /// A connection with no request under way and no bytes for this long is closed.
    public var idleTimeoutMs = 60_000
    /// A request begun must be whole (head and body) this long after its first byte, or it is
    /// answered 408 and closed: a client that trickles bytes cannot hold a connection forever.
    public var requestTimeoutMs = 10_000
    public var limits = HTTPParser.Limits()
    public var access = HTTPAccess()
    /// Serve a non-loopback address without a token (`--http-insecure`).
    public var allowInsecure = false

    public init() {}
}

/// Errors starting the HTTP listener.
public enum HTTPServerError: Error, CustomStringConvertible, Equatable {
    case insecure(host: String)
    case listen(host: String, port: UInt16, errno: Int32)

    public var description: String {
        switch self {
        case let .insecure(host):
            "refusing to serve the console on \(host), which is not a loopback address, without --http-token (or --http-insecure to do so anyway)"
        case let .listen(host, port, code):
            "listen on \(host):\(port) (http): \(String(cString: strerror(code)))"
        }
    }
}

/// An HTTP/1.1 server on one epoll event loop of its own: every connection is non-blocking, so a
/// stalled or slow client holds only its own buffers, never another client's answer. Requests
/// on one connection are answered one at a time (keep-alive, no pipelining in parallel); work a
/// handler defers runs as a task off the loop.
public final class HTTPServer: Sendable {
    public let config: HTTPConfig
    /// The port actually bound.
    public let port: UInt16
    let handler: any HTTPHandler
    let loop: EventLoop
    let state: HTTPLoopState
    let network: any NetworkSystem
    /// The listening socket until `stop` closes it; used on the loop's thread only.
    private let listener: ListeningSocket
    private let isStopped = Atomic(false)
    private let openConnections = Atomic(0)

    public init(config: HTTPConfig, handler: any HTTPHandler, network: any NetworkSystem = LiveNetworkSystem()) throws {
        guard HTTPAccess.isLoopback(config.host) || config.access.token != nil || config.allowInsecure else {
            throw HTTPServerError.insecure(host: config.host)
        }
        let socket: FileDescriptor
        do { socket = try network.listenSocket(host: config.host, port: config.port, backlog: 1024) } catch let error as SystemError {
            throw HTTPServerError.listen(host: config.host, port: config.port, errno: error.errno)
        }
        self.config = config
        self.handler = handler
        self.network = network
        port = try network.localPort(socket.rawValue)
        listener = ListeningSocket(socket, network: network)
        loop = try EventLoop(index: 0, network: network)
        state = HTTPLoopState()
        // Set up before the loop's thread starts, so nothing else touches its state yet.
        try loop.register(listener.descriptor, events: .readable) { [self] _ in acceptAll() }
        loop.every { [self] in
            resumeAccepting()
            let now = DispatchTime.now().uptimeNanoseconds
            for connection in Array(state.connections.values) { connection.checkTimers(now: now) }
        }
        loop.start()
    }

    /// Open HTTP connections.
    public var connections: Int { openConnections.load(ordering: .relaxed) }

    /// Accepts every pending connection (loop thread).
    private func acceptAll() {
        while true {
            let accepted: FileDescriptor?
            do {
                accepted = try listener.accept()
            } catch {
                // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM).
                pauseAccepting(error)
                return
            }
            guard let socket = accepted else { return }
            guard state.connections.count < config.connectionsMax else {
                // Best effort: the socket's send buffer takes this at once, and it closes anyway.
                let refusal = HTTPResponse.error(503, "too many connections (\(config.connectionsMax) open)").serialized(keepAlive: false, includeBody: true)
                _ = try? refusal.withUnsafeBytes { try socket.write($0) }
                socket.close()
                continue
            }
            state.nextId += 1
            let connection = HTTPConnection(id: state.nextId, socket: socket, server: self)
            state.connections[connection.id] = connection
            openConnections.add(1, ordering: .relaxed)
            connection.start()
        }
    }

    /// Out of descriptors (or memory): the pending connection stays queued and the listener
    /// stays readable, so waiting on it again would spin the loop. It is left alone until the
    /// next periodic tick, about a second later, when accepting resumes (loop thread).
    private func pauseAccepting(_ error: any Error) {
        guard !state.acceptPaused else { return }
        state.acceptPaused = true
        // Failing (out of kernel memory), it stays watched and fails again.
        try? loop.change(listener.descriptor, events: [])
        ServerLog.info("http: cannot accept a connection (\(error)); trying again in a second")
    }

    /// Watches the listener again after `pauseAccepting` (loop thread).
    private func resumeAccepting() {
        guard state.acceptPaused, !isStopped.load(ordering: .relaxed) else { return }
        do {
            try loop.change(listener.descriptor, events: .readable)
            state.acceptPaused = false
        } catch {}  // out of kernel memory: try again at the next tick
    }

    func closed(_ connection: HTTPConnection) {
        state.connections.removeValue(forKey: connection.id)
        openConnections.subtract(1, ordering: .relaxed)
    }

    /// Closes the listener and every connection and stops the loop.
    public func stop() {
        guard !isStopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loop.stop { [self] in
            loop.unregister(listener.descriptor)
            listener.close()
            for connection in Array(state.connections.values) { connection.close() }
        }
    }
}

/// The HTTP loop's connections.
final class HTTPLoopState: @unchecked Sendable {
    // Safe to share: touched only on the HTTP server's loop thread (its handlers, periodic work
    // and submitted tasks).
    var connections: [UInt64: HTTPConnection] = [:]
    var nextId: UInt64 = 0
    /// The listener is not watched until the next tick (out of descriptors).
    var acceptPaused = false
}
