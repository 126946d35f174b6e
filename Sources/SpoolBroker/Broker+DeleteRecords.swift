import SpoolFormat
import SpoolLog

/// One partition of a DeleteRecords answer.
public struct DeletedRecords: Equatable, Sendable {
    public var topicPartition: TopicPartition
    /// The partition's log start offset afterwards (-1 on error).
    public var lowWatermark: Int64
    public var outcome: AdminOutcome
}

extension Broker {
    /// Kafka's "delete up to the high watermark" offset.
    public static let deleteRecordsToHighWatermark: Int64 = -1

    /// DeleteRecords for one partition: moves its log start offset to `offset`
    /// (`deleteRecordsToHighWatermark`, -1, means the high watermark). Records below it are no
    /// longer served: a fetch below it gets OFFSET_OUT_OF_RANGE and ListOffsets(earliest) answers
    /// it. The new start is on disk before this returns and survives a restart; segments wholly
    /// below it are deleted at once, the rest by retention later. An offset at or below the
    /// current start changes nothing.
    ///
    /// - Returns: the log start offset afterwards (the low watermark).
    /// - Throws: `.unknownTopicOrPartition`; `.policyViolation` when the topic's `cleanup.policy`
    ///   lacks `delete` (Kafka's rule: a compacted topic's records go by compaction alone);
    ///   `.offsetOutOfRange` for an offset past the high watermark or below -1; `.storage` when the
    ///   start cannot be written (nothing changed).
    @discardableResult
    public func deleteRecords(topic: String, partition index: Int32, before offset: Int64) async throws(BrokerError) -> Int64 {
        let log = try partition(topic, index).log
        if topics.withLock({ $0[topic]?.metadata.config.allowsRecordDeletion }) == false {
            throw .policyViolation("Records of partition \(topic)-\(index) can not be deleted due to the configured policy")
        }
        let target = offset == Self.deleteRecordsToHighWatermark ? log.highWatermark : offset
        do {
            return try await log.deleteRecords(before: target)
        } catch {
            // Report the offset the client sent, not the one it stood for.
            if case let .offsetOutOfRange(_, start, highWatermark) = error {
                throw .offsetOutOfRange(requested: offset, logStart: start, highWatermark: highWatermark)
            }
            throw BrokerError.from(error)
        }
    }

    /// DeleteRecords for many partitions, each answered on its own (one failing does not stop the
    /// others), in the order given.
    public func deleteRecords(_ requests: [(topicPartition: TopicPartition, offset: Int64)]) async -> [DeletedRecords] {
        var results: [DeletedRecords] = []
        for request in requests {
            do {
                let start = try await deleteRecords(topic: request.topicPartition.topic, partition: request.topicPartition.partition,
                                                    before: request.offset)
                results.append(DeletedRecords(topicPartition: request.topicPartition, lowWatermark: start, outcome: .success))
            } catch {
                results.append(DeletedRecords(topicPartition: request.topicPartition, lowWatermark: -1, outcome: AdminOutcome(error)))
            }
        }
        return results
    }
}
