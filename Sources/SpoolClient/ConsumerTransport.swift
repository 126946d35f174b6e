import SpoolFormat

/// What a `Consumer` needs of a Kafka-protocol cluster: Kafka's classic group protocol, fetches,
/// offsets. The network client serves it (`NetworkConsumerTransport`, to a partition's leader and
/// the group's coordinator), and so does the broker in-process (`SpoolEmbedded`), so one consumer
/// engine, with one behaviour, runs on both.
///
/// Errors are `ClientError`s; a broker's refusal is `.kafka` with its code.
public protocol ConsumerTransport: Sendable {
    /// How many partitions a topic has (the group leader's assignment needs it).
    func partitionCount(of topic: String) async throws(ClientError) -> Int
    func joinGroup(_ request: GroupJoin) async throws(ClientError) -> GroupJoined
    /// The member's assignment for the generation (the leader sends every member's).
    func syncGroup(_ request: GroupSync) async throws(ClientError) -> GroupSynced
    /// The broker's error code (0: still a member), nil when the coordinator could not be asked.
    func heartbeat(group: String, generation: Int32, memberId: String, timeoutMs: Int) async -> Int16?
    func leaveGroup(group: String, memberId: String) async
    /// Fetches from these positions, parking up to `maxWaitMs` when there is nothing new.
    func fetch(_ positions: [(TopicPartition, Int64)], maxWaitMs: Int32, maxBytes: Int32) async throws(ClientError) -> FetchOutcome
    /// The offset of each partition at `timestamp` (-2: the log start, -1: the end).
    func listOffsets(_ partitions: [TopicPartition], timestamp: Int64) async throws(ClientError) -> [TopicPartition: Int64]
    /// Stores the offsets for the member's generation; a group error (`REBALANCE_IN_PROGRESS`,
    /// `ILLEGAL_GENERATION`, `UNKNOWN_MEMBER_ID`) is thrown as `.kafka`.
    func commit(group: String, generation: Int32, memberId: String, offsets: [TopicPartition: CommittedOffset]) async throws(ClientError)
    /// What the group has stored for these partitions (absent where nothing is).
    func committed(group: String, partitions: [TopicPartition]) async throws(ClientError) -> [TopicPartition: CommittedOffset]
    /// Closes what the transport opened.
    func close() async
}

/// A JoinGroup of a consumer (protocol type "consumer", Kafka's range assignor).
public struct GroupJoin: Sendable {
    public var group: String
    public var memberId: String
    public var clientId: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    /// The member's subscription, `ConsumerProtocol`-encoded.
    public var subscription: [UInt8]
}

public struct GroupJoined: Sendable {
    public var errorCode: Int16
    public var generation: Int32
    public var memberId: String
    public var leaderId: String
    public var protocolName: String?
    /// Every member and its subscription, for the leader only.
    public var members: [(memberId: String, metadata: [UInt8])]

    public init(errorCode: Int16, generation: Int32, memberId: String, leaderId: String, protocolName: String?,
                members: [(memberId: String, metadata: [UInt8])]) {
        self.errorCode = errorCode
        self.generation = generation
        self.memberId = memberId
        self.leaderId = leaderId
        self.protocolName = protocolName
        self.members = members
    }
}

public struct GroupSync: Sendable {
    public var group: String
    public var generation: Int32
    public var memberId: String
    public var protocolName: String?
    /// Each member's assignment, `ConsumerProtocol`-encoded (empty unless this member leads).
    public var assignments: [String: [UInt8]]
    /// The SyncGroup waits for the leader's assignment, up to the rebalance.
    public var rebalanceTimeoutMs: Int32
}

public struct GroupSynced: Sendable {
    public var errorCode: Int16
    public var assignment: [UInt8]

    public init(errorCode: Int16, assignment: [UInt8]) {
        self.errorCode = errorCode
        self.assignment = assignment
    }
}

/// What one fetch brought, partition by partition.
public struct FetchOutcome: Sendable {
    public var partitions: [(TopicPartition, PartitionFetch)]
    /// Some partitions could not be fetched for a reason that passes (a leader moved, a broker is
    /// away): the consumer waits a moment before the next fetch if nothing else came.
    public var backOff: Bool

    public init(partitions: [(TopicPartition, PartitionFetch)], backOff: Bool) {
        self.partitions = partitions
        self.backOff = backOff
    }
}

/// One partition of a fetch: its error code (0, or `OFFSET_OUT_OF_RANGE` and the like) and its
/// records from the requested offset on, still the bytes they came in until the consumer takes them.
public struct PartitionFetch: Sendable {
    public var errorCode: Int16
    public var records: RecordCursor

    public init(errorCode: Int16, records: RecordCursor) {
        self.errorCode = errorCode
        self.records = records
    }
}
