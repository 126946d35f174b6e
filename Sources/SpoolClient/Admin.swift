import SpoolFormat
import SpoolWire

/// A topic as the admin client sees it.
public struct TopicInfo: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var partition: Int32
        public var leader: Int32
        public var startOffset: Int64
        public var endOffset: Int64
    }

    public var name: String
    public var partitions: [Partition]
}

/// A consumer group as the admin client sees it: members, ownership, committed offsets and lag.
public struct GroupInfo: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var memberId: String
        public var clientId: String
        public var host: String
        public var partitions: [String]
    }

    public struct Partition: Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var owner: String?
        public var committed: Int64?
        public var endOffset: Int64
        public var lag: Int64?
    }

    public var group: String
    public var state: String
    public var members: [Member]
    public var partitions: [Partition]
    public var totalLag: Int64 { partitions.compactMap(\.lag).reduce(0, +) }
}

extension SpoolClient {
    /// Creates a topic (replication factor: the cluster's default).
    public func createTopic(_ name: String, partitions: Int32 = 1, configs: [String: String] = [:]) async throws(ClientError) {
        let request = CreateTopicsRequest(topics: [.init(name: name, numPartitions: partitions, replicationFactor: -1, configs: configs.sorted { $0.key < $1.key }
            .map { .init(name: $0.key, value: $0.value) })], timeoutMs: 30_000)
        let response = try await callAny(request, version: ClientVersions.createTopics)
        if let failed = response.topics.first(where: { $0.errorCode != 0 }) {
            throw .kafka(code: failed.errorCode, context: failed.errorMessage ?? "creating topic \(name)")
        }
    }

    public func deleteTopic(_ name: String) async throws(ClientError) {
        let response = try await callAny(DeleteTopicsRequest(topicNames: [name], timeoutMs: 30_000), version: ClientVersions.deleteTopics)
        if let failed = response.responses.first(where: { $0.errorCode != 0 }) {
            throw .kafka(code: failed.errorCode, context: failed.errorMessage ?? "deleting topic \(name)")
        }
    }

    /// Every topic with its partition count (no offsets; see `describeTopic`).
    public func listTopics() async throws(ClientError) -> [(name: String, partitions: Int)] {
        try await metadata(topics: nil).topics.filter { $0.errorCode == 0 }.map { ($0.name, $0.partitions.count) }.sorted { $0.name < $1.name }
    }

    /// A topic's partitions with their leaders and start and end offsets.
    public func describeTopic(_ name: String) async throws(ClientError) -> TopicInfo {
        let partitions = try await partitions(of: name)
        let starts = try await listOffsets(partitions.map { (name, $0.partition) }, timestamp: -2)
        let ends = try await listOffsets(partitions.map { (name, $0.partition) }, timestamp: -1)
        return TopicInfo(name: name, partitions: partitions.sorted { $0.partition < $1.partition }.map { partition in
            TopicInfo.Partition(partition: partition.partition, leader: partition.leader,
                                startOffset: starts["\(name)/\(partition.partition)"] ?? -1, endOffset: ends["\(name)/\(partition.partition)"] ?? -1)
        })
    }

    /// Offsets for a timestamp (-2 earliest, -1 latest) by "topic/partition".
    public func listOffsets(_ partitions: [(topic: String, partition: Int32)], timestamp: Int64) async throws(ClientError) -> [String: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let byTopic = Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }
        let request = ListOffsetsRequest(replicaId: -1, topics: byTopic.map { topic, entries in
            .init(name: topic, partitions: entries.map { .init(partitionIndex: $0.partition, timestamp: timestamp) })
        })
        let response = try await callAny(request, version: ClientVersions.listOffsets)
        var offsets: [String: Int64] = [:]
        for topic in response.topics {
            for partition in topic.partitions {
                guard partition.errorCode == 0 else {
                    throw .kafka(code: partition.errorCode, context: "offsets of \(topic.name)[\(partition.partitionIndex)]")
                }
                offsets["\(topic.name)/\(partition.partitionIndex)"] = partition.offset
            }
        }
        return offsets
    }

    public func listGroups() async throws(ClientError) -> [(group: String, protocolType: String)] {
        let response = try await callAny(ListGroupsRequest(), version: ClientVersions.listGroups)
        guard response.errorCode == 0 else { throw .kafka(code: response.errorCode, context: "listing groups") }
        return response.groups.map { ($0.groupId, $0.protocolType) }.sorted { $0.group < $1.group }
    }

    /// Members, assignment, committed offsets, end offsets and lag of a group.
    public func describeGroup(_ group: String) async throws(ClientError) -> GroupInfo {
        let coordinator = try await coordinator(group)
        let described = try await call(coordinator, DescribeGroupsRequest(groups: [group]), version: ClientVersions.describeGroups).groups
        guard let description = described.first else { throw .protocolError("DescribeGroups left out \(group)") }
        guard description.errorCode == 0 else { throw .kafka(code: description.errorCode, context: "group \(group)") }
        var owners: [String: String] = [:]
        let members = description.members.map { member -> GroupInfo.Member in
            let assignment = (try? ConsumerProtocol.decodeAssignment(member.memberAssignment))?.partitions ?? []
            let names = assignment.flatMap { topic, partitions in partitions.map { "\(topic)/\($0)" } }
            for name in names { owners[name] = member.memberId }
            return GroupInfo.Member(memberId: member.memberId, clientId: member.clientId, host: member.clientHost, partitions: names.sorted())
        }
        let fetched = try await call(coordinator, OffsetFetchRequest(groupId: group, topics: nil), version: ClientVersions.offsetFetch)
        guard fetched.errorCode == 0 else { throw .kafka(code: fetched.errorCode, context: "offsets of group \(group)") }
        var committed: [String: Int64] = [:]
        for topic in fetched.topics {
            for entry in topic.partitions where entry.errorCode == 0 && entry.committedOffset >= 0 {
                committed["\(topic.name)/\(entry.partitionIndex)"] = entry.committedOffset
            }
        }
        let keys = Set(committed.keys).union(owners.keys).sorted()
        let parsed = keys.compactMap { key -> (String, Int32)? in
            guard let slash = key.lastIndex(of: "/"), let partition = Int32(key[key.index(after: slash)...]) else { return nil }
            return (String(key[..<slash]), partition)
        }
        let ends = try await listOffsets(parsed.map { ($0.0, $0.1) }, timestamp: -1)
        let partitions = parsed.map { topic, partition -> GroupInfo.Partition in
            let key = "\(topic)/\(partition)"
            let end = ends[key] ?? -1
            return GroupInfo.Partition(topic: topic, partition: partition, owner: owners[key], committed: committed[key], endOffset: end,
                                       lag: committed[key].map { max(0, end - $0) })
        }
        return GroupInfo(group: group, state: description.groupState, members: members, partitions: partitions)
    }
}
