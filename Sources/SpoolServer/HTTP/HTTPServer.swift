import CSpool
import Dispatch
import Glibc
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
    private let listenFD: Int32
    private let isStopped = Atomic(false)
    private let openConnections = Atomic(0)

    public init(config: HTTPConfig, handler: any HTTPHandler) throws {
        guard HTTPAccess.isLoopback(config.host) || config.access.token != nil || config.allowInsecure else {
            throw HTTPServerError.insecure(host: config.host)
        }
        let fd = spool_listen_tcp(config.host, config.port, 1024)
        guard fd >= 0 else { throw HTTPServerError.listen(host: config.host, port: config.port, errno: errno) }
        self.config = config
        self.handler = handler
        listenFD = fd
        port = UInt16(spool_local_port(fd))
        do { loop = try EventLoop(index: 0) } catch {
            close(fd)
            throw error
        }
        state = HTTPLoopState()
        loop.start()
        loop.submit { [self] in
            loop.register(fd, events: SPOOL_EVENT_READ) { [self] _ in acceptAll() }
            loop.every { [self] in
                resumeAccepting()
                let now = DispatchTime.now().uptimeNanoseconds
                for connection in Array(state.connections.values) { connection.checkTimers(now: now) }
            }
        }
    }

    /// Open HTTP connections.
    public var connections: Int { openConnections.load(ordering: .relaxed) }

    /// Accepts every pending connection (loop thread).
    private func acceptAll() {
        while true {
            let fd = spool_accept(listenFD)
            if fd < 0 {
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM { pauseAccepting() }
                return
            }
            guard state.connections.count < config.connectionsMax else {
                // Best effort: the socket's send buffer takes this at once, and it closes anyway.
                let refusal = HTTPResponse.error(503, "too many connections (\(config.connectionsMax) open)").serialized(keepAlive: false, includeBody: true)
                _ = refusal.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(fd)
                continue
            }
            state.nextId += 1
            let connection = HTTPConnection(id: state.nextId, fd: fd, server: self)
            state.connections[connection.id] = connection
            openConnections.add(1, ordering: .relaxed)
            connection.start()
        }
    }

    /// Out of descriptors (or memory): the pending connection stays queued and the listener
    /// stays readable, so waiting on it again would spin the loop. It is left alone until the
    /// next periodic tick, about a second later, when accepting resumes (loop thread).
    private func pauseAccepting() {
        guard !state.acceptPaused else { return }
        state.acceptPaused = true
        loop.change(listenFD, events: 0)
        ServerLog.info("http: cannot accept a connection (\(String(cString: strerror(errno)))); trying again in a second")
    }

    /// Watches the listener again after `pauseAccepting` (loop thread).
    private func resumeAccepting() {
        guard state.acceptPaused, !isStopped.load(ordering: .relaxed) else { return }
        state.acceptPaused = false
        loop.change(listenFD, events: SPOOL_EVENT_READ)
    }

    func closed(_ connection: HTTPConnection) {
        state.connections.removeValue(forKey: connection.id)
        openConnections.subtract(1, ordering: .relaxed)
    }

    /// Closes the listener and every connection and stops the loop.
    public func stop() {
        guard !isStopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loop.stop { [self] in
            loop.unregister(listenFD)
            close(listenFD)
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
