/// A record as a consumer receives it, whichever way it came: the embedded broker, the Kafka
/// protocol, or the job runtime on either.
public struct ConsumedRecord: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Milliseconds since the Unix epoch.
    public var timestamp: Int64
    /// nil is a null key (distinct from an empty one).
    public var key: [UInt8]?
    /// nil is a null value (a tombstone).
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

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
    /// The key as UTF-8 text (nil for a null key).
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
    /// The value as UTF-8 text (nil for a null value).
    public var valueString: String? { value.map { String(decoding: $0, as: UTF8.self) } }
    /// The first header with this name, as UTF-8 text.
    public func header(_ name: String) -> String? {
        headers.first { $0.key == name }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}
