import Foundation
import SpoolBroker
import SpoolSystem
import Synchronization

/// The Kafka-protocol server: a listener and one event loop per core over a `Broker`. No thread
/// per connection: each loop multiplexes its connections with epoll, and requests run as tasks
/// whose responses the loop writes back in order.
///
/// Descriptors: the listener is owned here and accepted on and closed by loop 0; each accepted
/// socket is handed to its connection, which closes it; each loop's thread closes its own epoll
/// and eventfd when it stops (docs/architecture.md).
public final class Server: Sendable {
    public let config: ServerConfig
    public let broker: Broker
    let router: RequestRouter
    let budget: BufferBudget
    private let network: any NetworkSystem
    private let loops: [EventLoop]
    /// The listening socket until `stop` closes it; used on loop 0 only.
    private let listener: ListeningSocket
    /// The port actually bound (when `config.port` is 0).
    public let port: UInt16
    private let connectionCount = Atomic(0)
    private let nextConnection = Atomic<UInt64>(0)
    private let isStopped = Atomic(false)
    /// True while loop 0 does not watch the listener, after an accept failed (loop 0 only).
    private let acceptPaused = Atomic(false)

    /// Binds the listener and starts the loops. `network` makes every socket, epoll and eventfd
    /// call (tests pass one that counts or fails them).
    public init(config: ServerConfig, broker: Broker, network: any NetworkSystem = LiveNetworkSystem()) throws {
        self.config = config
        self.broker = broker
        self.network = network
        budget = BufferBudget(limit: config.bufferedBytesMax)
        let socket: FileDescriptor
        do { socket = try network.listenSocket(host: config.host, port: config.port, backlog: 1024) } catch let error as SystemError {
            throw ServerError.system("listen on \(config.host):\(config.port)", error.errno)
        }
        port = try network.localPort(socket.rawValue)
        listener = ListeningSocket(socket, network: network)
        router = RequestRouter(broker: broker, nodeId: config.nodeId, host: config.advertisedHost ?? config.host,
                               port: Int32(config.advertisedPort ?? port))
        loops = try (0..<max(1, config.eventLoops)).map { try EventLoop(index: $0, network: network) }
        // Set up before the loops' threads start, so nothing else touches their state yet; the
        // listener is watched first, so that if that fails nothing refers to this server.
        let acceptor = loops[0]
        try acceptor.register(listener.descriptor, events: .readable) { [self] _ in acceptAll() }
        acceptor.every { [self] in
            // Accepting resumes a second after it failed for want of descriptors or memory.
            if !isStopped.load(ordering: .acquiring), acceptPaused.exchange(false, ordering: .relaxed) {
                do { try acceptor.change(listener.descriptor, events: .readable) } catch {
                    acceptPaused.store(true, ordering: .relaxed)  // out of kernel memory: try again in a second
                }
            }
        }
        for loop in loops {
            loop.every { [config, weak loop] in
                let now = Date()
                for connection in Array(loop?.connections.values ?? [:].values) {
                    if config.idleTimeoutMs > 0 { connection.closeIfIdle(now: now) }
                    connection.closeIfLingeredOut(now: now)
                    connection.releaseBuffersIfQuiet(now: now)
                    // A safety net under the wake-ups `budgetFreed` sends.
                    connection.resume()
                }
            }
        }
        for loop in loops { loop.start() }
    }

    /// A socket on its way from the acceptor to the loop that will own it; closed if that loop
    /// has stopped and drops the hand-over.
    private final class Handover: Sendable {
        private let socket: Mutex<FileDescriptor?>
        init(_ socket: consuming FileDescriptor) { self.socket = Mutex(consume socket) }
        func take() -> FileDescriptor? { socket.withLock { $0.take() } }
    }

    /// Accepts every pending connection, handing them to the loops in turn. Runs on loop 0.
    private func acceptAll() {
        while true {
            let accepted: FileDescriptor?
            do {
                accepted = try listener.accept()
            } catch {
                // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS): the listener stays
                // readable, so stop watching it for a second rather than spin on it.
                ServerLog.info("accepting connections paused for a second: \(error)")
                acceptPaused.store(true, ordering: .relaxed)
                try? loops[0].change(listener.descriptor, events: [])  // failing, it stays watched and fails again
                return
            }
            guard let socket = accepted else { return }
            guard connectionCount.load(ordering: .relaxed) < config.connectionsMax else {
                ServerLog.info("refusing a connection: \(config.connectionsMax) connections are open (the limit)")
                socket.close()
                continue
            }
            connectionCount.add(1, ordering: .relaxed)
            network.setNoDelay(socket.rawValue)
            let peer = network.peerName(socket.rawValue) ?? "unknown"
            let id = nextConnection.add(1, ordering: .relaxed).newValue
            let loop = loops[Int(id % UInt64(loops.count))]
            let handover = Handover(socket)
            loop.submit { [self] in
                guard let socket = handover.take() else { return }
                // Accepted in the same turn as the stop ran, which closed every connection then.
                guard !isStopped.load(ordering: .acquiring) else {
                    socket.close()
                    connectionClosed()
                    return
                }
                let connection = Connection(id: id, socket: socket, peer: peer, loop: loop, server: self)
                loop.connections[id] = connection
                connection.start()
            }
        }
    }

    func connectionClosed() { connectionCount.subtract(1, ordering: .relaxed) }

    /// The broker's request budget has room again: every loop retries the connections that
    /// waited for it.
    func budgetFreed() {
        for loop in loops {
            loop.submit {
                for connection in Array(loop.connections.values) where connection.isWaitingForBudget { connection.resume() }
            }
        }
    }

    /// Open client connections.
    public var connections: Int { connectionCount.load(ordering: .relaxed) }

    /// Request bytes all connections have reserved and not yet answered (the broker's budget).
    public var bufferedRequestBytes: Int { budget.requestBytes }
    /// Response bytes all connections hold now (answered, not yet written to their sockets).
    public var bufferedResponseBytes: Int { budget.responseBytes }
    /// Connections Spool is not reading from now because of a memory limit.
    public var pausedConnections: Int { budget.pausedConnections }
    /// The most bytes (requests and responses) one connection has held at once.
    public var connectionBufferedBytesPeak: Int { budget.connectionBytesPeak }

    /// Stops accepting, closes every connection and stops the loops. The broker stays open (the
    /// caller closes it, flushing everything).
    public func stop() {
        guard !isStopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for loop in loops {
            loop.stop { [self] in
                if loop.index == 0 {
                    loop.unregister(listener.descriptor)
                    listener.close()
                }
                for connection in Array(loop.connections.values) { connection.close(reason: nil) }
            }
        }
    }
}
