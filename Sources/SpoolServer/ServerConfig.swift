/// How `spool serve` listens and what it allows.
public struct ServerConfig: Sendable {
    /// IPv4 address to bind (127.0.0.1 by default: reachable from this machine only).
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port: UInt16 = 9092
    /// Where clients are told to connect (Metadata, FindCoordinator); defaults to host:port.
    public var advertisedHost: String?
    public var advertisedPort: UInt16?
    /// Event-loop threads (one per core by default).
    public var eventLoops = 2
    /// Largest request frame (Kafka's socket.request.max.bytes); a larger one closes the connection.
    public var frameBytesMax = 100 << 20
    /// Most open client connections; more are accepted and closed at once.
    public var connectionsMax = 10_000
    /// A connection with nothing in flight and no bytes for this long is closed
    /// (Kafka's connections.max.idle.ms).
    public var idleTimeoutMs = 600_000
    /// Requests one connection may have in flight before Spool stops reading from it.
    public var inFlightMax = 1_000
    /// Bytes one connection may hold: requests read and not yet answered, and responses not yet
    /// written. Over it, Spool stops reading from the connection until its responses drain. A lone
    /// request always fits, however large (up to `frameBytesMax`). `spool serve --max-inflight-bytes`.
    public var inFlightBytesMax = 100 << 20
    /// Request bytes all connections together may hold; when they do, Spool stops reading from
    /// every connection that needs more until requests are answered. `spool serve --max-buffered-bytes`.
    public var bufferedBytesMax = 1 << 30
    /// Node id in Metadata (Spool is a single node, its own controller and coordinator).
    public var nodeId: Int32 = 0

    public init() {}
}
