import SpoolFormat
import SpoolWire

/// What a client call can fail with.
public enum ClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The broker could not be reached, or the connection broke.
    case connection(String)
    /// The broker answered with a Kafka error code (`KafkaErrorCode`'s raw value).
    case kafka(code: Int16, context: String)
    /// The broker's answer could not be decoded.
    case protocolError(String)
    /// No answer in time.
    case timeout(String)
    /// A bad argument (topic name, partition, …).
    case invalidArgument(String)
    case closed
    /// The broker at `broker` does not serve `api` in any version this client can send.
    case unsupported(api: String, broker: String)

    /// A Kafka error with a known code.
    static func kafka(_ code: KafkaErrorCode, _ context: String) -> ClientError { .kafka(code: code.rawValue, context: context) }

    /// The Kafka error code, for `.kafka` errors whose code `KafkaErrorCode` knows.
    public var kafkaCode: KafkaErrorCode? {
        if case let .kafka(code, _) = self { return KafkaErrorCode(rawValue: code) }
        return nil
    }

    public var description: String {
        switch self {
        case let .connection(reason): "cannot reach the broker: \(reason)"
        case let .kafka(code, context): "\(context): \(Self.name(code)) (\(code))"
        case let .protocolError(reason): "unexpected answer from the broker: \(reason)"
        case let .timeout(what): "timed out: \(what)"
        case let .invalidArgument(reason): reason
        case .closed: "the client is closed"
        case let .unsupported(api, broker): "the broker at \(broker) does not serve \(api) in a version this client can send"
        }
    }

    /// The name of a Kafka error code, as Kafka's `Errors.java` spells it.
    public static func name(_ code: Int16) -> String { KafkaErrorCode(rawValue: code)?.description ?? "ERROR_\(code)" }

    /// Errors a retry can cure: broken connections, timeouts, and Kafka's retriable errors that
    /// come from a leader or coordinator moving or still loading.
    public var isRetriable: Bool {
        switch self {
        case .connection, .timeout: true
        case .kafka: kafkaCode.map(Self.retriableCodes.contains) ?? false
        default: false
        }
    }

    /// OFFSET_NOT_AVAILABLE (a ListOffsets to a leader not caught up yet) among them, as Kafka's
    /// Java client has it: failing at once made a consumer's offset reset fail after a leader moved.
    static let retriableCodes: Set<KafkaErrorCode> = [
        .leaderNotAvailable, .notLeaderOrFollower, .requestTimedOut, .coordinatorLoadInProgress, .coordinatorNotAvailable,
        .notCoordinator, .rebalanceInProgress, .kafkaStorageError, .unknownLeaderEpoch, .notEnoughReplicas, .notEnoughReplicasAfterAppend,
        .offsetNotAvailable,
    ]

    /// Errors after which the client must ask the cluster again where a partition's leader is.
    var staleMetadata: Bool {
        switch self {
        case .connection, .timeout: true
        case .kafka: [.leaderNotAvailable, .notLeaderOrFollower, .unknownTopicOrPartition, .unknownLeaderEpoch].contains(kafkaCode)
        default: false
        }
    }

    /// Errors after which a request may or may not have taken effect on the broker (no answer, the
    /// broker's own timeout, or a leader that appended the batch and then lost its replicas).
    var mayHaveBeenStored: Bool {
        switch self {
        case .timeout, .connection: true
        case .kafka: kafkaCode == .requestTimedOut || kafkaCode == .notEnoughReplicasAfterAppend
        default: false
        }
    }

    /// Errors by which a broker says it holds another idea of the producer's sequences than the
    /// producer does (when no batch before this one failed in the same round): the producer id
    /// must be given up, or every later batch of the partition is refused or taken for a
    /// duplicate.
    var producerOutOfStep: Bool {
        [.outOfOrderSequenceNumber, .unknownProducerId, .invalidProducerEpoch].contains(kafkaCode)
    }

    /// Errors after which the client must find a group's coordinator again.
    var staleCoordinator: Bool {
        switch self {
        case .connection, .timeout: true
        case .kafka: [.notCoordinator, .coordinatorNotAvailable].contains(kafkaCode)
        default: false
        }
    }
}

/// Names of the Kafka error codes, for messages.
public enum KafkaErrorName {
    public static func name(_ code: Int16) -> String { ClientError.name(code) }
}

extension ClientError: KafkaCodedError {
    public var kafkaErrorCode: KafkaErrorCode? { kafkaCode }
}
