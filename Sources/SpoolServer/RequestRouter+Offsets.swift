import SpoolBroker
import SpoolWire
import SpoolFormat

extension RequestRouter {
    /// OffsetCommit: every partition of the request is stored durably before the answer, or none
    /// is. v0 carries no generation (a standalone commit); partitions of unknown topics get
    /// UNKNOWN_TOPIC_OR_PARTITION and are not stored.
    func offsetCommit(_ request: OffsetCommitRequest, _ context: Context) async -> OffsetCommitResponse {
        var known: [TopicPartition: CommittedOffset] = [:]
        var codes: [TopicPartition: KafkaErrorCode] = [:]
        for topic in request.topics {
            for partition in topic.partitions {
                let key = TopicPartition(topic.name, partition.partitionIndex)
                guard broker.hasPartition(key) else {
                    codes[key] = .unknownTopicOrPartition
                    continue
                }
                known[key] = CommittedOffset(offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch,
                                             metadata: partition.committedMetadata ?? "",
                                             commitTimestampMs: context.version == 1 ? max(partition.commitTimestamp, 0) : 0)
            }
        }
        if !known.isEmpty {
            do {
                try await broker.commitOffsets(group: request.groupId, generationId: request.generationIdOrMemberEpoch, memberId: request.memberId,
                                               groupInstanceId: request.groupInstanceId, offsets: known)
                for key in known.keys { codes[key] = KafkaErrorCode.none }
            } catch {
                for key in known.keys { codes[key] = error.code }
            }
        }
        return OffsetCommitResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map {
                .init(partitionIndex: $0.partitionIndex, errorCode: (codes[TopicPartition(topic.name, $0.partitionIndex)] ?? .unknownServerError).rawValue)
            })
        })
    }

    /// OffsetFetch: what a group committed (-1 where it committed nothing); all its partitions for
    /// a null topic list (v2+). From v8 a request asks for several groups at once.
    func offsetFetch(_ request: OffsetFetchRequest, _ context: Context) -> OffsetFetchResponse {
        guard context.version >= 8 else {
            let topics = committed(group: request.groupId, topics: request.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
            return OffsetFetchResponse(topics: topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map {
                    .init(partitionIndex: $0.index, committedOffset: $0.commit?.offset ?? -1, committedLeaderEpoch: $0.commit?.leaderEpoch ?? -1,
                          metadata: $0.commit?.metadata ?? "", errorCode: 0)
                })
            }, errorCode: 0)
        }
        return OffsetFetchResponse(groups: request.groups.map { group in
            let topics = committed(group: group.groupId, topics: group.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
            return .init(groupId: group.groupId, topics: topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map {
                    .init(partitionIndex: $0.index, committedOffset: $0.commit?.offset ?? -1, committedLeaderEpoch: $0.commit?.leaderEpoch ?? -1,
                          metadata: $0.commit?.metadata ?? "", errorCode: 0)
                })
            }, errorCode: 0)
        })
    }

    /// The commits of `group` for the partitions asked for, or for every partition it committed.
    private func committed(group: String, topics wanted: [(name: String, partitions: [Int32])]?)
        -> [(name: String, partitions: [(index: Int32, commit: CommittedOffset?)])] {
        let commits = broker.committedOffsets(group: group)
        let topics = wanted ?? Dictionary(grouping: commits.keys, by: \.topic).sorted { $0.key < $1.key }
            .map { ($0.key, $0.value.map(\.partition).sorted()) }
        return topics.map { topic in (topic.name, topic.partitions.map { ($0, commits[TopicPartition(topic.name, $0)]) }) }
    }
}
