import SpoolFormat

/// A record as the job runtime reads it, whichever transport brought it.
public struct JobRecord: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Milliseconds since the Unix epoch.
    public var timestamp: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]

    public init(topic: String, partition: Int32, offset: Int64, timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }

    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }

    /// The first header with this name, as UTF-8 text.
    public func header(_ name: String) -> String? {
        headers.first { $0.key == name }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A record to produce: partitioned by its key with murmur2 (as Kafka's clients do) unless a
/// partition is given.
public struct OutgoingJobRecord: Sendable {
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    public var partition: Int32?

    public init(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader], partition: Int32? = nil) {
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
    }
}

/// A partition of a topic.
public struct JobPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (a: JobPartition, b: JobPartition) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
    public var description: String { "\(topic)/\(partition)" }
}

/// What a group has stored for a partition.
public struct StoredOffset: Sendable, Equatable {
    public var offset: Int64
    public var metadata: String

    public init(offset: Int64, metadata: String = "") {
        self.offset = offset
        self.metadata = metadata
    }
}

/// How a worker's group membership tells it about rebalances.
public struct SubscriptionHooks: Sendable {
    /// Called before partitions are taken away: finish or stop their jobs and commit.
    public var revoked: @Sendable ([JobPartition]) async -> Void
    /// Called with every partition owned after a join, and what the group stored for each.
    public var assigned: @Sendable ([JobPartition: StoredOffset?]) async -> Void

    public init(revoked: @escaping @Sendable ([JobPartition]) async -> Void, assigned: @escaping @Sendable ([JobPartition: StoredOffset?]) async -> Void) {
        self.revoked = revoked
        self.assigned = assigned
    }
}

/// One member of a consumer group reading one topic.
public protocol JobSubscription: Sendable {
    /// The next records (an empty array after a short wait when there are none). Rebalances run
    /// the hooks from inside this call.
    func poll() async throws -> [JobRecord]
    /// Stores offsets durably; fails when the member no longer owns a partition.
    func commit(_ offsets: [JobPartition: StoredOffset]) async throws
    /// What the group has stored for these partitions.
    func committed(_ partitions: [JobPartition]) async throws -> [JobPartition: StoredOffset]
    func pause(_ partitions: [JobPartition])
    func resume(_ partitions: [JobPartition])
    /// Leaves the group (without committing).
    func close() async
}

/// What the job runtime needs from a broker: the same worker code runs over the embedded broker,
/// over `spool serve`, or over a Kafka cluster.
public protocol JobTransport: Sendable {
    /// Creates the topic if it does not exist yet.
    func ensureTopic(_ topic: String, partitions: Int) async throws
    /// Produces the records and returns, once they are durable, the offset of each (nil where the
    /// broker did not give one: held for later, or dropped as a duplicate).
    func send(topic: String, records: [OutgoingJobRecord]) async throws -> [(partition: Int32, offset: Int64?)]
    /// Joins `group` as a consumer of `topic`.
    func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription
    /// Every record of the topic, from its start to its end at the time of the call.
    func readAll(topic: String) async throws -> [JobRecord]
    /// Closes what the transport opened.
    func close() async
}
