import SpoolBroker

/// Answers Kafka request frames in-process, exactly as the server answers a connection's frames
/// (the same router), but without a socket or an event loop: for fuzzing the whole request path
/// and for tools that drive a broker through the protocol. Thread-safe, like the router.
public struct InProcessRequests: Sendable {
    /// What the server does with one request.
    public enum Answer: Sendable, Equatable {
        /// A whole response frame (size prefix included).
        case response([UInt8])
        /// No response (a produce with acks=0).
        case silent
        /// The connection is closed, for this reason (malformed request, unknown API or version).
        case close(String)
    }

    private let router: RequestRouter

    /// Answers as node 0 at `host:port` (what Metadata and FindCoordinator advertise).
    public init(broker: Broker, host: String = "127.0.0.1", port: Int32 = 9092) {
        router = RequestRouter(broker: broker, nodeId: 0, host: host, port: port)
    }

    /// The answer to `frame` (a request without its size prefix) from a client at `client`;
    /// suspends while the request is parked (a long-poll fetch, a JoinGroup in a rebalance).
    public func respond(to frame: [UInt8], client: String = "in-process") async -> Answer {
        switch await router.respond(to: frame, client: client) {
        case let .response(frame): .response(frame.bytes)
        case .silent: .silent
        case let .close(reason): .close(reason)
        }
    }
}
