/// A record to produce: partitioned by its key with murmur2 (as Kafka's clients do) unless a
/// partition is given.
public struct OutgoingRecord: Sendable, Equatable {
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// Milliseconds since the epoch (nil: now).
    public var timestamp: Int64?
    /// Send to this partition instead of choosing by key.
    public var partition: Int32?

    public init(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = [], timestamp: Int64? = nil, partition: Int32? = nil) {
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
        self.partition = partition
    }

    public init(key: String?, value: String, headers: [String: String] = [:]) {
        self.init(key: key.map { Array($0.utf8) }, value: Array(value.utf8),
                  headers: headers.sorted { $0.key < $1.key }.map { RecordHeader($0.key, $0.value) })
    }
}

/// Where a produced record went.
public struct RecordMetadata: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    /// -1 where the broker gave no offset: acks=0, a record held for later delivery
    /// (`spool-deliver-at`), or a batch dropped whole as a duplicate.
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}
