import SpoolWire

/// What a client call can fail with.
public enum ClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The broker could not be reached, or the connection broke.
    case connection(String)
    /// The broker answered with a Kafka error code.
    case kafka(code: Int16, context: String)
    /// The broker's answer could not be decoded.
    case protocolError(String)
    /// No answer in time.
    case timeout(String)
    /// A bad argument (topic name, partition, …).
    case invalidArgument(String)
    case closed

    public var description: String {
        switch self {
        case let .connection(reason): "cannot reach the broker: \(reason)"
        case let .kafka(code, context): "\(context): \(KafkaErrorName.name(code)) (error \(code))"
        case let .protocolError(reason): "unexpected answer from the broker: \(reason)"
        case let .timeout(what): "timed out: \(what)"
        case let .invalidArgument(reason): reason
        case .closed: "the client is closed"
        }
    }

    /// Errors a retry can cure (Kafka's retriable errors that Spool answers with).
    public var isRetriable: Bool {
        switch self {
        case .connection, .timeout: true
        case let .kafka(code, _): [5, 6, 7, 14, 15, 16, 27, 56].contains(code)
        default: false
        }
    }
}

/// Names of the Kafka error codes, for messages.
public enum KafkaErrorName {
    static let names: [Int16: String] = [
        -1: "UNKNOWN_SERVER_ERROR", 1: "OFFSET_OUT_OF_RANGE", 2: "CORRUPT_MESSAGE", 3: "UNKNOWN_TOPIC_OR_PARTITION",
        5: "LEADER_NOT_AVAILABLE", 6: "NOT_LEADER_OR_FOLLOWER", 7: "REQUEST_TIMED_OUT", 10: "MESSAGE_TOO_LARGE",
        15: "COORDINATOR_NOT_AVAILABLE", 16: "NOT_COORDINATOR", 17: "INVALID_TOPIC_EXCEPTION", 22: "ILLEGAL_GENERATION",
        23: "INCONSISTENT_GROUP_PROTOCOL", 24: "INVALID_GROUP_ID", 25: "UNKNOWN_MEMBER_ID", 26: "INVALID_SESSION_TIMEOUT",
        27: "REBALANCE_IN_PROGRESS", 35: "UNSUPPORTED_VERSION", 36: "TOPIC_ALREADY_EXISTS", 37: "INVALID_PARTITIONS",
        38: "INVALID_REPLICATION_FACTOR", 40: "INVALID_CONFIG", 42: "INVALID_REQUEST", 45: "OUT_OF_ORDER_SEQUENCE_NUMBER",
        47: "INVALID_PRODUCER_EPOCH", 56: "KAFKA_STORAGE_ERROR", 69: "GROUP_ID_NOT_FOUND", 79: "MEMBER_ID_REQUIRED", 87: "INVALID_RECORD",
    ]

    public static func name(_ code: Int16) -> String { names[code] ?? "ERROR_\(code)" }
}
