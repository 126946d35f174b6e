/// An error that carries a Kafka error code, whichever side raised it (the broker in this
/// process, or a broker answering over the network), so code above both transports can tell
/// one refusal from another.
public protocol KafkaCodedError: Error {
    /// The Kafka error code, when the error is a broker's refusal.
    var kafkaErrorCode: KafkaErrorCode? { get }
}
