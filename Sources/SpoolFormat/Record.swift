/// A record header: a UTF-8 key (never null) and an optional value. Order is kept end to end.
public struct RecordHeader: Equatable, Hashable, Sendable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    public init(_ key: String, _ value: String) {
        self.init(key: key, value: Array(value.utf8))
    }
}

/// One record inside a RecordBatch, as it is on the wire: offset and timestamp are deltas from
/// the batch's base values. `RecordBatch.offset(of:)` and `timestamp(of:)` give absolute values.
public struct Record: Equatable, Hashable, Sendable {
    /// Unused by Kafka; 0.
    public var attributes: Int8
    public var timestampDelta: Int64
    public var offsetDelta: Int32
    /// nil is a null key (distinct from an empty one).
    public var key: [UInt8]?
    /// nil is a null value (a tombstone).
    public var value: [UInt8]?
    public var headers: [RecordHeader]

    public init(
        attributes: Int8 = 0, timestampDelta: Int64, offsetDelta: Int32,
        key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = []
    ) {
        self.attributes = attributes
        self.timestampDelta = timestampDelta
        self.offsetDelta = offsetDelta
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// A record as a producer hands it over, before it is placed in a batch.
public struct ProducerRecord: Equatable, Sendable {
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// Milliseconds since the Unix epoch.
    public var timestamp: Int64

    public init(key: [UInt8]? = nil, value: [UInt8]?, headers: [RecordHeader] = [], timestamp: Int64) {
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}
