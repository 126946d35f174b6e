/// Kafka's protocol error codes (from `Errors.java`), the ones Spool answers with. The broker's
/// typed errors map onto these so the wire protocol and the embedded API report the same thing.
public enum KafkaErrorCode: Int16, Sendable, CustomStringConvertible {
    case none = 0
    case unknownServerError = -1
    case offsetOutOfRange = 1
    case corruptMessage = 2
    case unknownTopicOrPartition = 3
    case invalidFetchSize = 4
    case leaderNotAvailable = 5
    case notLeaderOrFollower = 6
    case requestTimedOut = 7
    case messageTooLarge = 10
    case offsetMetadataTooLarge = 12
    case coordinatorLoadInProgress = 14
    case coordinatorNotAvailable = 15
    case notCoordinator = 16
    case invalidTopicException = 17
    case recordListTooLarge = 18
    case notEnoughReplicas = 19
    case notEnoughReplicasAfterAppend = 20
    case invalidRequiredAcks = 21
    case illegalGeneration = 22
    case inconsistentGroupProtocol = 23
    case invalidGroupId = 24
    case unknownMemberId = 25
    case invalidSessionTimeout = 26
    case rebalanceInProgress = 27
    case invalidCommitOffsetSize = 28
    case unsupportedVersion = 35
    case topicAlreadyExists = 36
    case invalidPartitions = 37
    case invalidReplicationFactor = 38
    case invalidReplicaAssignment = 39
    case invalidConfig = 40
    /// CreateTopics/DeleteTopics sent to a broker that is not (or no longer) the controller.
    case notController = 41
    case invalidRequest = 42
    case policyViolation = 44
    case outOfOrderSequenceNumber = 45
    case duplicateSequenceNumber = 46
    case invalidProducerEpoch = 47
    case kafkaStorageError = 56
    case unknownProducerId = 59
    case nonEmptyGroup = 68
    case groupIdNotFound = 69
    case unknownLeaderEpoch = 75
    /// Produce before v7 with a zstd-compressed batch.
    case unsupportedCompressionType = 76
    /// ListOffsets v5+: a new leader does not know the offset yet (its high watermark is not
    /// caught up); retriable.
    case offsetNotAvailable = 78
    case memberIdRequired = 79
    case groupMaxSizeReached = 81
    case fencedInstanceId = 82
    case groupSubscribedToTopic = 86
    case invalidRecord = 87
    case unknownTopicId = 100
    case unsupportedEndpointType = 120

    public var description: String {
        switch self {
        case .none: "NONE"
        case .unknownServerError: "UNKNOWN_SERVER_ERROR"
        case .offsetOutOfRange: "OFFSET_OUT_OF_RANGE"
        case .corruptMessage: "CORRUPT_MESSAGE"
        case .unknownTopicOrPartition: "UNKNOWN_TOPIC_OR_PARTITION"
        case .invalidFetchSize: "INVALID_FETCH_SIZE"
        case .leaderNotAvailable: "LEADER_NOT_AVAILABLE"
        case .notLeaderOrFollower: "NOT_LEADER_OR_FOLLOWER"
        case .requestTimedOut: "REQUEST_TIMED_OUT"
        case .messageTooLarge: "MESSAGE_TOO_LARGE"
        case .offsetMetadataTooLarge: "OFFSET_METADATA_TOO_LARGE"
        case .coordinatorLoadInProgress: "COORDINATOR_LOAD_IN_PROGRESS"
        case .coordinatorNotAvailable: "COORDINATOR_NOT_AVAILABLE"
        case .notCoordinator: "NOT_COORDINATOR"
        case .invalidTopicException: "INVALID_TOPIC_EXCEPTION"
        case .recordListTooLarge: "RECORD_LIST_TOO_LARGE"
        case .notEnoughReplicas: "NOT_ENOUGH_REPLICAS"
        case .notEnoughReplicasAfterAppend: "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
        case .invalidRequiredAcks: "INVALID_REQUIRED_ACKS"
        case .illegalGeneration: "ILLEGAL_GENERATION"
        case .inconsistentGroupProtocol: "INCONSISTENT_GROUP_PROTOCOL"
        case .invalidGroupId: "INVALID_GROUP_ID"
        case .unknownMemberId: "UNKNOWN_MEMBER_ID"
        case .invalidSessionTimeout: "INVALID_SESSION_TIMEOUT"
        case .rebalanceInProgress: "REBALANCE_IN_PROGRESS"
        case .invalidCommitOffsetSize: "INVALID_COMMIT_OFFSET_SIZE"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .topicAlreadyExists: "TOPIC_ALREADY_EXISTS"
        case .invalidPartitions: "INVALID_PARTITIONS"
        case .invalidReplicationFactor: "INVALID_REPLICATION_FACTOR"
        case .invalidReplicaAssignment: "INVALID_REPLICA_ASSIGNMENT"
        case .invalidConfig: "INVALID_CONFIG"
        case .notController: "NOT_CONTROLLER"
        case .invalidRequest: "INVALID_REQUEST"
        case .policyViolation: "POLICY_VIOLATION"
        case .outOfOrderSequenceNumber: "OUT_OF_ORDER_SEQUENCE_NUMBER"
        case .duplicateSequenceNumber: "DUPLICATE_SEQUENCE_NUMBER"
        case .invalidProducerEpoch: "INVALID_PRODUCER_EPOCH"
        case .kafkaStorageError: "KAFKA_STORAGE_ERROR"
        case .unknownProducerId: "UNKNOWN_PRODUCER_ID"
        case .nonEmptyGroup: "NON_EMPTY_GROUP"
        case .groupIdNotFound: "GROUP_ID_NOT_FOUND"
        case .unknownLeaderEpoch: "UNKNOWN_LEADER_EPOCH"
        case .unsupportedCompressionType: "UNSUPPORTED_COMPRESSION_TYPE"
        case .offsetNotAvailable: "OFFSET_NOT_AVAILABLE"
        case .memberIdRequired: "MEMBER_ID_REQUIRED"
        case .groupMaxSizeReached: "GROUP_MAX_SIZE_REACHED"
        case .fencedInstanceId: "FENCED_INSTANCE_ID"
        case .groupSubscribedToTopic: "GROUP_SUBSCRIBED_TO_TOPIC"
        case .invalidRecord: "INVALID_RECORD"
        case .unknownTopicId: "UNKNOWN_TOPIC_ID"
        case .unsupportedEndpointType: "UNSUPPORTED_ENDPOINT_TYPE"
        }
    }
}
