import Foundation
import SpoolBroker
import SpoolFormat

/// `GET /api/v1/groups/GROUP` and `POST /api/v1/groups/GROUP/reset`.
extension ConsoleAPI {
    struct GroupDetail: Encodable {
        struct Member: Encodable {
            var memberId: String
            var groupInstanceId: String?
            var clientId: String
            var clientHost: String
            var assignment: [TopicPartitionName]
        }
        struct Partition: Encodable {
            var topic: String
            var partition: Int32
            var owner: String?
            var committed: Int64?
            var endOffset: Int64
            var lag: Int64?
        }
        var group: String
        var state: String
        var generation: Int32
        var protocolName: String
        var members: [Member]
        var partitions: [Partition]
        var totalLag: Int64
        /// Total lag once a second over the last 15 minutes.
        var lagHistory: [ConsoleHistory.LagPoint]
    }

    struct TopicPartitionName: Encodable {
        var topic: String
        var partition: Int32

        init(_ topicPartition: TopicPartition) {
            topic = topicPartition.topic
            partition = topicPartition.partition
        }
    }

    /// Whether the broker knows `group`: it has members or committed offsets.
    func groupExists(_ group: String) -> Bool { broker.listGroups().contains { $0.groupId == group } }

    func groupDetail(_ group: String) throws -> GroupDetail {
        guard groupExists(group) else { throw APIError(404, "no group \(group)") }
        let report = broker.describeGroup(group)
        return GroupDetail(
            group: group, state: report.state.rawValue, generation: report.generationId, protocolName: report.protocolName,
            members: report.members.map {
                .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId, clientHost: $0.clientHost,
                      assignment: $0.partitions.map(TopicPartitionName.init))
            },
            partitions: report.partitions.map {
                .init(topic: $0.topicPartition.topic, partition: $0.topicPartition.partition, owner: $0.owner, committed: $0.committed,
                      endOffset: $0.logEndOffset, lag: $0.lag)
            },
            totalLag: report.totalLag, lagHistory: handler.history.lag(of: group))
    }

    struct Reset: Encodable {
        var group: String
        var partitions: [Moved]

        struct Moved: Encodable {
            var topic: String
            var partition: Int32
            var previous: Int64?
            var offset: Int64
        }
    }

    /// Moves an empty group's committed offsets: `{"to": "earliest" | "latest" | "timestamp" |
    /// "offset", "timestamp": MS, "offset": N, "topic": NAME}`. Without `topic`, every partition
    /// the group has committed for moves. An offset outside a partition's records is clamped to
    /// them, as Kafka's `kafka-consumer-groups --reset-offsets` does. A group the broker does not
    /// know is started on a named topic (that is how a new group is given its start), and is 404
    /// without one. Fields it does not take are refused rather than ignored: a `partition` left
    /// unread would have reset every partition.
    func resetOffsets(group: String) async throws -> Reset {
        let body = try bodyObject()
        if let unknown = body.keys.sorted().first(where: { !["to", "topic", "offset", "timestamp"].contains($0) }) {
            throw APIError(400, "unknown field \"\(unknown)\": the reset takes to, topic, offset and timestamp")
        }
        guard let to = body["to"] as? String else { throw APIError(400, "give \"to\": earliest, latest, timestamp or offset") }
        func busy() -> APIError {
            let report = broker.describeGroup(group)
            return APIError(409, "group \(group) has \(report.members.count) member(s) (\(report.state.rawValue)); offsets can be reset only when it is empty: stop its consumers first")
        }
        let report = broker.describeGroup(group)
        guard report.members.isEmpty, report.state == .empty || report.state == .dead else { throw busy() }
        let committed = broker.committedOffsets(group: group)
        var partitions: [TopicPartition]
        if let topic = body["topic"] {
            guard let name = topic as? String else { throw APIError(400, "\"topic\" must be a string") }
            partitions = try broker.describeTopic(name).partitions.map { TopicPartition(name, $0.partition) }
        } else {
            guard !committed.isEmpty || groupExists(group) else { throw APIError(404, "no group \(group); name a \"topic\" to start it on") }
            partitions = committed.keys.sorted()
        }
        guard !partitions.isEmpty else { throw APIError(400, "group \(group) has committed no offsets; name a \"topic\" to reset it on") }
        var moves: [TopicPartition: CommittedOffset] = [:]
        var result = Reset(group: group, partitions: [])
        for topicPartition in partitions {
            let start = try broker.listOffset(topic: topicPartition.topic, partition: topicPartition.partition, timestamp: -2).offset
            let end = try broker.listOffset(topic: topicPartition.topic, partition: topicPartition.partition, timestamp: -1).offset
            let target: Int64
            switch to {
            case "earliest": target = start
            case "latest": target = end
            case "timestamp":
                guard let time = body["timestamp"] as? Int64, time >= 0 else {
                    throw APIError(400, "\"timestamp\" must be milliseconds since the Unix epoch")
                }
                let found = try broker.listOffset(topic: topicPartition.topic, partition: topicPartition.partition, timestamp: time).offset
                target = found < 0 ? end : found
            case "offset":
                guard let offset = body["offset"] as? Int64, offset >= 0 else { throw APIError(400, "\"offset\" must be a non-negative integer") }
                target = min(max(offset, start), end)
            default:
                throw APIError(400, "\"to\" must be earliest, latest, timestamp or offset, not '\(to)'")
            }
            moves[topicPartition] = CommittedOffset(offset: target)
            result.partitions.append(.init(topic: topicPartition.topic, partition: topicPartition.partition, previous: committed[topicPartition]?.offset, offset: target))
        }
        // Stored as a commit from outside the group, which the coordinator accepts only while the
        // group is empty and holds new members back until it is stored.
        do {
            try await broker.commitOffsets(group: group, generationId: -1, memberId: "", offsets: moves)
        } catch {
            if case .group(.unknownMemberId) = error { throw busy() }
            throw error
        }
        return result
    }
}
