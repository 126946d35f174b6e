import SpoolBroker
import SpoolWire

/// A partition's answer to a produce the broker refused, as Kafka builds it from the exception its
/// log threw (`ReplicaManager.appendToLocalLog`, then `buildProducePartitionStatus`):
///
/// - the exceptions it names (an unknown partition, not the leader, a batch too large, a corrupt
///   batch, a storage error) leave no log start offset (-1) and no message;
/// - a refusal of records by `LogValidator` (`RecordValidationException`: here, records without a
///   key in a compacted topic) carries the partition's log start offset, its message and the
///   records' errors, in Kafka's words (`RecordValidationMessage`);
/// - Spool's own refusals of a record (an unreadable Spool header, an idempotency key whose
///   original is not stored yet) are answered as such a refusal, without record errors: the
///   reason is all a client can go by;
/// - any other exception (an invalid batch, a compression codec that does not exist, a producer's
///   sequence or epoch) carries the log start offset and no message.
///
/// Base offset -1 in every case.
enum ProduceFailureAnswer {
    /// The answer for partition `index`; `logStartOffset` reads the partition's (-1 when it is gone).
    static func partition(_ index: Int32, _ error: BrokerError, logStartOffset: () -> Int64) -> ProduceResponse.PartitionProduceResponse {
        var answer = ProduceResponse.PartitionProduceResponse(index: index, errorCode: error.code.rawValue, baseOffset: -1, logStartOffset: -1)
        switch error {
        case .unknownTopicOrPartition, .closed, .messageTooLarge, .corruptMessage, .storage:
            break
        case .invalidSpoolHeader, .idempotencyKeyPending:
            // Spool's own refusals of a record, which no Kafka exception names: the reason goes
            // with them, as with a record `LogValidator` refuses, for the client's log.
            answer.logStartOffset = logStartOffset()
            answer.errorMessage = error.description
        case let .recordsWithoutKey(topic, partition, indexes):
            answer.logStartOffset = logStartOffset()
            answer.errorMessage = error.description
            let reason = RecordValidationMessage.keyless(topic: topic, partition: partition)
            answer.recordErrors = indexes.map { .init(batchIndex: $0, batchIndexErrorMessage: reason) }
        default:
            answer.logStartOffset = logStartOffset()
        }
        return answer
    }
}
