/// An idempotent producer a partition remembers (Kafka's DescribeProducers).
public struct ActiveProducer: Equatable, Sendable {
    public var producerId: Int64
    public var epoch: Int16
    /// The sequence of its last record appended here.
    public var lastSequence: Int32
    /// When it last appended, in ms since the epoch.
    public var lastAppendMs: Int64
}

extension Broker {
    /// The idempotent producers partition `index` of `topic` holds state for.
    public func activeProducers(topic: String, partition index: Int32) throws(BrokerError) -> [ActiveProducer] {
        try partition(topic, index).activeProducers()
    }
}
