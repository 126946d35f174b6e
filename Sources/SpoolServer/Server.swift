import CSpool
import Foundation
import Glibc
import SpoolBroker
import Synchronization

/// The Kafka-protocol server: a listener and one event loop per core over a `Broker`. No thread
/// per connection: each loop multiplexes its connections with epoll, and requests run as tasks
/// whose responses the loop writes back in order.
public final class Server: Sendable {
    public let config: ServerConfig
    public let broker: Broker
    let router: RequestRouter
    private let loops: [EventLoop]
    private let listenFD: Int32
    /// The port actually bound (when `config.port` is 0).
    public let port: UInt16
    private let connectionCount = Atomic(0)
    private let nextConnection = Atomic<UInt64>(0)
    private let isStopped = Atomic(false)

    /// Binds the listener and starts the loops.
    public init(config: ServerConfig, broker: Broker) throws {
        self.config = config
        self.broker = broker
        let fd = spool_listen_tcp(config.host, config.port, 1024)
        guard fd >= 0 else { throw ServerError.system("listen on \(config.host):\(config.port)", errno) }
        listenFD = fd
        port = UInt16(spool_local_port(fd))
        router = RequestRouter(broker: broker, nodeId: config.nodeId, host: config.advertisedHost ?? config.host,
                               port: Int32(config.advertisedPort ?? port))
        loops = try (0..<max(1, config.eventLoops)).map { try EventLoop(index: $0) }
        for loop in loops { loop.start() }
        let acceptor = loops[0]
        acceptor.submit { [self] in
            acceptor.register(fd, events: SPOOL_EVENT_READ) { [self] _ in acceptAll() }
        }
        for loop in loops {
            loop.submit { [config] in
                loop.every { [weak loop] in
                    let now = Date()
                    for connection in Array(loop?.connections.values ?? [:].values) where config.idleTimeoutMs > 0 { connection.closeIfIdle(now: now) }
                }
            }
        }
    }

    /// Accepts every pending connection, handing them to the loops in turn. Runs on loop 0.
    private func acceptAll() {
        while true {
            let fd = spool_accept(listenFD)
            if fd < 0 { return }
            guard connectionCount.load(ordering: .relaxed) < config.connectionsMax else {
                ServerLog.info("refusing a connection: \(config.connectionsMax) connections are open (the limit)")
                close(fd)
                continue
            }
            connectionCount.add(1, ordering: .relaxed)
            _ = spool_set_nodelay(fd)
            var name = [CChar](repeating: 0, count: 64)
            let peer = spool_peer_name(fd, &name, name.count) == 0
                ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown"
            let id = nextConnection.add(1, ordering: .relaxed).newValue
            let loop = loops[Int(id % UInt64(loops.count))]
            loop.submit { [self] in
                let connection = Connection(id: id, fd: fd, peer: peer, loop: loop, server: self)
                loop.connections[id] = connection
                connection.start()
            }
        }
    }

    func connectionClosed() { connectionCount.subtract(1, ordering: .relaxed) }

    /// Open client connections.
    public var connections: Int { connectionCount.load(ordering: .relaxed) }

    /// Stops accepting, closes every connection and stops the loops. The broker stays open (the
    /// caller closes it, flushing everything).
    public func stop() {
        guard !isStopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for loop in loops {
            loop.stop { [listenFD] in
                if loop.index == 0 {
                    loop.unregister(listenFD)
                    close(listenFD)
                }
                for connection in Array(loop.connections.values) { connection.close(reason: nil) }
            }
        }
    }
}
