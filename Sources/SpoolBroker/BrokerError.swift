import SpoolFormat
import SpoolLog
import SpoolSystem

/// What the broker refuses, and why. Each maps to the Kafka error code a client would get for it.
public enum BrokerError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownTopicOrPartition(topic: String, partition: Int32?)
    /// No topic, nor deletion left pending, has this id (a UUID string).
    case unknownTopicId(String)
    case invalidTopic(name: String, reason: String)
    case topicAlreadyExists(String)
    /// `name` differs from the existing topic `existing` only in '.' against '_', which Kafka's
    /// metric names do not tell apart: Kafka refuses it as an invalid topic.
    case topicCollision(name: String, existing: String)
    case invalidPartitions(String)
    case invalidConfig(String)
    case messageTooLarge(bytes: Int, limit: Int)
    case corruptMessage(String)
    case invalidRecord(String)
    /// A record whose Spool header (`spool-deliver-at`, `spool-idempotency-key`) cannot be read:
    /// INVALID_RECORD, refused as Kafka's `LogValidator` refuses a record
    /// (`RecordValidationException`), whose answer carries the reason.
    case invalidSpoolHeader(String)
    /// A batch whose compression code (5-7) no codec has. Kafka's log reads the code once the
    /// batch's CRC passes (`UnifiedLog.analyzeAndValidateRecords`), and `CompressionType.forId`
    /// throws IllegalArgumentException, no Kafka error: the partition gets UNKNOWN_SERVER_ERROR.
    case invalidCompression(Int)
    /// A compressed batch whose records do not decompress, found when the broker reads them:
    /// Kafka's reader throws `KafkaException` ("Failed to decompress record stream"), no Kafka
    /// error, so the partition gets UNKNOWN_SERVER_ERROR.
    case undecompressableRecords(String)
    /// A consumer fetched a batch it cannot read (a compressed one): `FetchError`'s description.
    case unreadableRecords(String)
    /// Records without a key sent to a compacted topic: their indexes within their batch.
    case recordsWithoutKey(topic: String, partition: Int32, batchIndexes: [Int32])
    /// A record's idempotency key is reserved by another produce whose record is not stored yet,
    /// and this produce waits for the disk (acks=all): it may not be answered as a duplicate
    /// before the original is stored. NOT_ENOUGH_REPLICAS, which clients retry.
    case idempotencyKeyPending(topic: String, key: String)
    case outOfOrderSequence(producerId: Int64, expected: Int32, received: Int32)
    case invalidProducerEpoch(producerId: Int64, current: Int16, received: Int16)
    case offsetOutOfRange(requested: Int64, logStart: Int64, highWatermark: Int64)
    case invalidRequest(String)
    /// CreateTopics asked for more than one replica per partition.
    case invalidReplicationFactor(String)
    /// A manual replica assignment names another node, repeats one, or is inconsistent.
    case invalidReplicaAssignment(String)
    /// The request is valid but Spool's rules refuse it.
    case policyViolation(String)
    case group(KafkaErrorCode)
    /// The disk is full or failed; nothing was stored.
    case storage(LogError)
    /// The broker is closed, or a partition's log was (its topic deleted while the request held
    /// it): NOT_LEADER_OR_FOLLOWER, which clients retry after refreshing their metadata.
    case closed
    /// Another broker holds the data directory's lock (`<data>/.lock`): its process id when the
    /// lock file names it.
    case dataDirectoryInUse(directory: String, pid: Int32?)

    /// The Kafka error code a client gets for this error.
    public var code: KafkaErrorCode {
        switch self {
        case .unknownTopicOrPartition: .unknownTopicOrPartition
        case .unknownTopicId: .unknownTopicId
        case .invalidTopic, .topicCollision: .invalidTopicException
        case .topicAlreadyExists: .topicAlreadyExists
        case .invalidPartitions: .invalidPartitions
        case .invalidConfig: .invalidConfig
        case .messageTooLarge: .messageTooLarge
        case .corruptMessage, .unreadableRecords: .corruptMessage
        case .invalidRecord, .invalidSpoolHeader, .recordsWithoutKey: .invalidRecord
        case .invalidCompression, .undecompressableRecords: .unknownServerError
        case .idempotencyKeyPending: .notEnoughReplicas
        case .outOfOrderSequence: .outOfOrderSequenceNumber
        case .invalidProducerEpoch: .invalidProducerEpoch
        case .offsetOutOfRange: .offsetOutOfRange
        case .invalidRequest: .invalidRequest
        case .invalidReplicationFactor: .invalidReplicationFactor
        case .invalidReplicaAssignment: .invalidReplicaAssignment
        case .policyViolation: .policyViolation
        case let .group(code): code
        case .storage: .kafkaStorageError
        case .closed: .notLeaderOrFollower
        case .dataDirectoryInUse: .kafkaStorageError
        }
    }

    public var description: String {
        switch self {
        case let .unknownTopicOrPartition(topic, partition?): "unknown topic or partition: \(topic)[\(partition)]"
        case let .unknownTopicOrPartition(topic, nil): "unknown topic: \(topic)"
        case let .unknownTopicId(id): "no topic has id \(id)"
        case let .invalidTopic(name, reason): "invalid topic name '\(name)': \(reason)"
        case let .topicAlreadyExists(name): "topic '\(name)' already exists"
        case let .topicCollision(name, existing): "Topic '\(name)' collides with existing topic: \(existing)"
        case let .invalidPartitions(reason): "invalid partition count: \(reason)"
        case let .invalidConfig(reason): "invalid config: \(reason)"
        case let .messageTooLarge(bytes, limit): "record batch of \(bytes) bytes exceeds max.message.bytes (\(limit))"
        case let .corruptMessage(reason): "corrupt record batch: \(reason)"
        case let .unreadableRecords(reason): reason
        case let .undecompressableRecords(reason): "invalid record batch: \(reason)"
        case let .invalidRecord(reason): "invalid record batch: \(reason)"
        case let .invalidSpoolHeader(reason): "invalid record: \(reason)"
        case let .invalidCompression(code): "invalid record batch: compression code \(code) names no codec"
        case let .recordsWithoutKey(topic, partition, indexes):
            RecordValidationMessage.rejected(indexes.map { ($0, RecordValidationMessage.keyless(topic: topic, partition: partition)) })
        case let .idempotencyKeyPending(topic, key):
            "idempotency key '\(key)' of topic \(topic) is being stored by another produce; retry"
        case let .outOfOrderSequence(id, expected, received):
            "producer \(id): sequence \(received) out of order (expected \(expected))"
        case let .invalidProducerEpoch(id, current, received):
            "producer \(id): epoch \(received) is older than the current epoch \(current) (fenced)"
        case let .offsetOutOfRange(requested, start, hw): "offset \(requested) is out of range [\(start), \(hw)]"
        case let .invalidRequest(reason): "invalid request: \(reason)"
        case let .invalidReplicationFactor(reason): "invalid replication factor: \(reason)"
        case let .invalidReplicaAssignment(reason): "invalid replica assignment: \(reason)"
        case let .policyViolation(reason): "policy violation: \(reason)"
        case let .group(code): "group coordinator: \(code)"
        case let .storage(error): "storage: \(error)"
        case .closed: "the broker is closed, or the partition's topic was deleted meanwhile"
        case let .dataDirectoryInUse(directory, pid):
            "data directory \(directory) is in use by another Spool process\(pid.map { " (pid \($0))" } ?? ""); "
                + "stop it first, or give this one another data directory"
        }
    }

    /// The text an admin response carries beside the error code: the reason alone for the errors
    /// that have one (as Kafka's messages read), the full description otherwise.
    public var message: String {
        switch self {
        case let .invalidPartitions(reason), let .invalidConfig(reason), let .invalidRequest(reason),
             let .invalidReplicationFactor(reason), let .invalidReplicaAssignment(reason), let .policyViolation(reason):
            reason
        default:
            description
        }
    }

    /// A failed write of the broker's own files (topic metadata): a full disk as `.diskFull`.
    static func storageFailure(_ error: any Error, path: String) -> BrokerError {
        if let error = error as? BrokerError { return error }
        if let error = error as? LogError { return .storage(error) }
        if let error = error as? SystemError { return .storage(error.isNoSpace ? .diskFull(path: error.path ?? path) : .io(error)) }
        return .storage(.failed(String(describing: error)))
    }

    /// The error for a produced batch whose records, read (after decompressing them, if
    /// compressed), are wrong: Kafka's reader throws `KafkaException` for a stream that does not
    /// decompress (UNKNOWN_SERVER_ERROR) and `InvalidRecordException` for a record that cannot be
    /// read, one cut short too (INVALID_RECORD).
    static func fromRecordsRead(_ error: FormatError) -> BrokerError {
        switch error {
        case .undecompressable: .undecompressableRecords(String(describing: error))
        case let .invalidCompression(code): .invalidCompression(code)
        default: .invalidRecord(String(describing: error))
        }
    }

    /// A log error seen by the broker, as a client should see it.
    static func from(_ error: LogError) -> BrokerError {
        switch error {
        case let .invalidBatch(format):
            switch format {
            case .crcMismatch, .lengthMismatch, .truncated, .unsupportedMagic: .corruptMessage(String(describing: format))
            case let .invalidCompression(code): .invalidCompression(code)
            default: .invalidRecord(String(describing: format))
            }
        case let .batchTooLarge(bytes, limit): .messageTooLarge(bytes: bytes, limit: limit)
        case let .offsetOutOfRange(requested, start, hw): .offsetOutOfRange(requested: requested, logStart: start, highWatermark: hw)
        case .closed: .closed
        default: .storage(error)
        }
    }
}

extension BrokerError: KafkaCodedError {
    public var kafkaErrorCode: KafkaErrorCode? { code }
}
