import SpoolFormat
import SpoolWire

/// What Kafka 3.9's `KafkaApis` refuses of a ListOffsets request's partitions before it looks
/// them up, in its order:
///
/// - from v1, a partition named more than once (`ListOffsetsRequest.duplicatePartitions`, found
///   as the request is parsed) is INVALID_REQUEST at every place it is named
///   (`handleListOffsetRequestV1AndAbove`); v0 does not look;
/// - a negative timestamp the version does not know is UNSUPPORTED_VERSION: at v0 anything below
///   -2 (`handleListOffsetRequestV0`); from v1 one missing from `timestampMinSupportedVersion`
///   or sent below the version it gives: -1 and -2 from v1, -3 (largest timestamp) from v7,
///   -4 (earliest local) from v8, -5 (latest tiered) from v9.
///
/// Either answer carries timestamp and offset -1 (`buildErrorResponse`) and, at v0, no offsets.
struct ListOffsetsRequestCheck {
    private let version: Int16
    private let duplicates: Set<TopicPartition>

    init(_ request: ListOffsetsRequest, version: Int16) {
        self.version = version
        var seen: Set<TopicPartition> = []
        var duplicates: Set<TopicPartition> = []
        if version >= 1 {
            for topic in request.topics {
                for partition in topic.partitions where !seen.insert(TopicPartition(topic.name, partition.partitionIndex)).inserted {
                    duplicates.insert(TopicPartition(topic.name, partition.partitionIndex))
                }
            }
        }
        self.duplicates = duplicates
    }

    /// The error the partition is answered with before it is looked up, nil when it is looked up.
    func refusal(topic: String, _ partition: ListOffsetsRequest.ListOffsetsPartition) -> KafkaErrorCode? {
        if duplicates.contains(TopicPartition(topic, partition.partitionIndex)) { return .invalidRequest }
        guard partition.timestamp < 0 else { return nil }
        if version == 0 { return partition.timestamp < -2 ? .unsupportedVersion : nil }
        guard let first = Self.timestampMinSupportedVersion[partition.timestamp], version >= first else { return .unsupportedVersion }
        return nil
    }

    /// The version each special timestamp came in, as Kafka's map of that name gives it; a
    /// negative timestamp not here has no meaning.
    private static let timestampMinSupportedVersion: [Int64: Int16] = [-1: 1, -2: 1, -3: 7, -4: 8, -5: 9]
}
