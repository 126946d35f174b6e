/// The texts Kafka 3.9's `LogValidator` gives the records it refuses, and the message of the
/// `RecordValidationException` it throws for them, which `ReplicaManager.appendToLocalLog` sends
/// as the partition's error message (`LogAppendResult` with `hasCustomErrorMessage`). They are
/// written here letter for letter as Kafka writes them: clients log them, and people search for them.
public enum RecordValidationMessage {
    /// A record without a key in a compacted topic (`LogValidator.validateKey`): the partition as
    /// Kafka's `TopicPartition.toString` writes it, and no full stop.
    public static func keyless(topic: String, partition: Int32) -> String {
        "Compacted topic cannot accept message without key in topic partition \(topic)-\(partition)"
    }

    /// The message for records refused as invalid (`LogValidator.processRecordErrors`, for errors
    /// other than timestamps): how many there are, then the first three as a Java list of
    /// `ProduceResponse.RecordError.toString`.
    public static func rejected(_ errors: [(batchIndex: Int32, message: String)]) -> String {
        let shown = errors.prefix(3).map { "RecordError(batchIndex=\($0.batchIndex), message='\($0.message)')" }
        return "One or more records have been rejected due to \(errors.count) record errors in total, "
            + "and only showing the first three errors at most: [\(shown.joined(separator: ", "))]"
    }
}
