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
    /// False where the cluster does not serve DescribeGroups (librdkafka's mock cluster): then
    /// `state` is "unknown", `members` is empty and no partition has an owner, while the
    /// committed offsets, end offsets and lag are there.
    public var membersKnown = true
    public var totalLag: Int64 { partitions.compactMap(\.lag).reduce(0, +) }
}

extension SpoolClient {
    /// Creates a topic (replication factor: the cluster's default) on the controller, and returns
    /// its partition count. Where the cluster does not serve CreateTopics (librdkafka's mock
    /// cluster) the topic is created by asking for its metadata with auto-creation on: it then
    /// has the cluster's default partition count, which is what this returns, and `configs` must
    /// be empty. An existing topic fails with TOPIC_ALREADY_EXISTS either way.
    @discardableResult
    public func createTopic(_ name: String, partitions: Int32 = 1, configs: [String: String] = [:]) async throws(ClientError) -> Int32 {
        let controller = try await retrying { () async throws(ClientError) -> BrokerConnection in
            let connection = try await controllerConnection()
            _ = try await servedVersions(connection)
            return connection
        }
        guard try await serves(.createTopics, on: controller) else {
            // Topic configs need CreateTopics: an auto-created topic has the cluster's defaults.
            guard configs.isEmpty else { throw .unsupported(api: "CreateTopics (API key 19)", broker: controller.address) }
            return try await autoCreate(name)
        }
        let request = CreateTopicsRequest(topics: [.init(name: name, numPartitions: partitions, replicationFactor: -1, configs: configs.sorted { $0.key < $1.key }
            .map { .init(name: $0.key, value: $0.value) })], timeoutMs: Int32(clamping: requestTimeoutMs))
        try await onController(request, context: "creating topic \(name)", doneAlready: .topicAlreadyExists) { response in
            response.topics.first { $0.errorCode != 0 }.map { ($0.errorCode, $0.errorMessage) }
        }
        invalidate(name)
        return partitions
    }

    /// Sends a CreateTopics or DeleteTopics to the controller until it is answered, and throws
    /// the error `failure` finds in the answer. NOT_CONTROLLER (the controller moved) finds the
    /// controller again and retries, as other retriable errors do. `doneAlready` (the topic
    /// exists, or is gone) answering a retry after a try that may have taken effect (no answer, a
    /// broken connection) is that try's success: failing then reported an error for a call that
    /// had done its work.
    private func onController<Request: KafkaRequest>(_ request: Request, context: String, doneAlready: KafkaErrorCode,
                                                     failure: (Request.Response) -> (code: Int16, message: String?)?) async throws(ClientError) {
        var mayHaveTakenEffect = false
        try await retrying(retriable: { $0.isRetriable || $0.kafkaCode == .notController }) { () async throws(ClientError) in
            let controller = try await controllerConnection()
            let response: Request.Response
            do throws(ClientError) { response = try await call(controller, request) } catch {
                if error.mayHaveBeenStored { mayHaveTakenEffect = true }
                throw error
            }
            guard let (code, message) = failure(response), !(code == doneAlready.rawValue && mayHaveTakenEffect) else { return }
            if code == KafkaErrorCode.requestTimedOut.rawValue { mayHaveTakenEffect = true }
            throw .kafka(code: code, context: message.flatMap { $0.isEmpty ? nil : $0 } ?? context)
        }
    }

    /// Creates a topic through Metadata with auto-creation on, failing if it exists already.
    private func autoCreate(_ name: String) async throws(ClientError) -> Int32 {
        invalidate(name)
        let existing = try await metadata(topics: [name], allowAutoCreation: false).topics.first { $0.name == name }
        if let existing, existing.errorCode == 0 { throw .kafka(.topicAlreadyExists, "topic '\(name)' already exists") }
        return Int32(try await self.partitions(of: name, create: true).count)
    }

    public func deleteTopic(_ name: String) async throws(ClientError) {
        defer { invalidate(name) }
        let request = DeleteTopicsRequest(topicNames: [name], timeoutMs: Int32(clamping: requestTimeoutMs))
        try await onController(request, context: "deleting topic \(name)", doneAlready: .unknownTopicOrPartition) { response in
            response.responses.first { $0.errorCode != 0 }.map { ($0.errorCode, $0.errorMessage) }
        }
    }

    /// Every topic with its partition count (no offsets; see `describeTopic`).
    public func listTopics() async throws(ClientError) -> [(name: String, partitions: Int)] {
        try await metadata(topics: nil).topics.filter { $0.errorCode == 0 }.map { ($0.name, $0.partitions.count) }.sorted { $0.name < $1.name }
    }

    /// A topic's partitions with their leaders and start and end offsets.
    public func describeTopic(_ name: String) async throws(ClientError) -> TopicInfo {
        let partitions = try await partitions(of: name)
        let starts = try await listOffsets(partitions.map { TopicPartition(name, $0.partition) }, timestamp: -2)
        let ends = try await listOffsets(partitions.map { TopicPartition(name, $0.partition) }, timestamp: -1)
        return TopicInfo(name: name, partitions: partitions.sorted { $0.partition < $1.partition }.map { partition in
            TopicInfo.Partition(partition: partition.partition, leader: partition.leader,
                                startOffset: starts[TopicPartition(name, partition.partition)] ?? -1,
                                endOffset: ends[TopicPartition(name, partition.partition)] ?? -1)
        })
    }

    /// Offsets for a timestamp (-2 earliest, -1 latest): one request per partition leader;
    /// partitions whose leader moved are asked again of the new one, and those without a leader
    /// until they have one (within the request timeout) while the others are answered.
    public func listOffsets(_ partitions: [TopicPartition], timestamp: Int64) async throws(ClientError) -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        var left = partitions
        try await retrying(briefly: [.unknownTopicOrPartition]) { () async throws(ClientError) in
            let (byLeader, leaderless, unknown) = try await byLeader(left) { $0 }
            if let gone = unknown.first { throw ClientError.kafka(.unknownTopicOrPartition, "\(gone.topic)[\(gone.partition)]") }
            var failed = leaderless
            var failure = leaderless.first.map { ClientError.kafka(.leaderNotAvailable, "\($0.topic)[\($0.partition)]") }
            for (node, entries) in byLeader.sorted(by: { $0.key < $1.key }) {
                let byTopic = Dictionary(grouping: entries, by: \.topic).sorted { $0.key < $1.key }
                let request = ListOffsetsRequest(replicaId: -1, topics: byTopic.map { topic, entries in
                    .init(name: topic, partitions: entries.map { .init(partitionIndex: $0.partition, timestamp: timestamp) })
                })
                do throws(ClientError) {
                    for topic in try await call(try await connection(toNode: node), request).topics {
                        for partition in topic.partitions {
                            guard partition.errorCode == 0 else {
                                let error = ClientError.kafka(code: partition.errorCode, context: "offsets of \(topic.name)[\(partition.partitionIndex)]")
                                if error.staleMetadata { invalidate(topic.name) }
                                failed.append(TopicPartition(topic.name, partition.partitionIndex))
                                failure = failure ?? error
                                continue
                            }
                            offsets[TopicPartition(topic.name, partition.partitionIndex)] = partition.offset
                        }
                    }
                } catch {
                    if error.staleMetadata { for topic in Set(entries.map(\.topic)) { invalidate(topic) } }
                    failed += entries
                    failure = failure ?? error
                }
            }
            left = failed
            if let failure { throw failure }
        }
        return offsets
    }

    /// The groups of every broker (Kafka keeps each group on its coordinator).
    public func listGroups() async throws(ClientError) -> [(group: String, protocolType: String)] {
        let metadata = try await metadata(topics: [])
        var groups: [String: String] = [:]
        var served = false
        var lastAddress = bootstrap
        for broker in metadata.brokers.sorted(by: { $0.nodeId < $1.nodeId }) {
            let response = try await retrying { () async throws(ClientError) -> ListGroupsResponse? in
                let connection = try await connection(toNode: broker.nodeId)
                lastAddress = connection.address
                guard try await serves(.listGroups, on: connection) else { return nil }
                return try await call(connection, ListGroupsRequest())
            }
            guard let response else { continue }
            served = true
            guard response.errorCode == 0 else { throw .kafka(code: response.errorCode, context: "listing groups") }
            for group in response.groups { groups[group.groupId] = group.protocolType }
        }
        guard served else { throw .unsupported(api: "ListGroups (API key 16)", broker: lastAddress) }
        return groups.map { ($0.key, $0.value) }.sorted { $0.group < $1.group }
    }

    /// Members, assignment, committed offsets, end offsets and lag of a group. Where the
    /// coordinator does not serve DescribeGroups, the members are left out (`membersKnown` false)
    /// and the rest is still there.
    public func describeGroup(_ group: String) async throws(ClientError) -> GroupInfo {
        let description = try await withCoordinator(group) { coordinator async throws(ClientError) -> DescribeGroupsResponse.DescribedGroup? in
            guard try await serves(.describeGroups, on: coordinator) else { return nil }
            guard let described = try await call(coordinator, DescribeGroupsRequest(groups: [group])).groups.first else {
                throw .protocolError("DescribeGroups left out \(group)")
            }
            try Self.checkCoordinator(described.errorCode, "group \(group)")
            return described
        }
        if let description, description.errorCode != 0 { throw .kafka(code: description.errorCode, context: "group \(group)") }
        var owners: [TopicPartition: String] = [:]
        let members = (description?.members ?? []).map { member -> GroupInfo.Member in
            let assignment = (try? ConsumerProtocol.decodeAssignment(member.memberAssignment))?.partitions ?? []
            let owned = assignment.flatMap { topic, partitions in partitions.map { TopicPartition(topic, $0) } }
            for partition in owned { owners[partition] = member.memberId }
            return GroupInfo.Member(memberId: member.memberId, clientId: member.clientId, host: member.clientHost,
                                    partitions: owned.sorted().map { "\($0.topic)/\($0.partition)" })
        }
        var committed: [TopicPartition: Int64] = [:]
        for topic in try await committedOffsets(group) {
            for entry in topic.partitions where entry.errorCode == 0 && entry.committedOffset >= 0 {
                committed[TopicPartition(topic.name, entry.partitionIndex)] = entry.committedOffset
            }
        }
        let known = Set(committed.keys).union(owners.keys).sorted()
        let ends = try await listOffsets(known, timestamp: -1)
        let partitions = known.map { partition -> GroupInfo.Partition in
            let end = ends[partition] ?? -1
            return GroupInfo.Partition(topic: partition.topic, partition: partition.partition, owner: owners[partition],
                                       committed: committed[partition], endOffset: end, lag: committed[partition].map { max(0, end - $0) })
        }
        return GroupInfo(group: group, state: description?.groupState ?? "unknown", members: members, partitions: partitions,
                         membersKnown: description != nil)
    }

    /// Everything a group has committed: OffsetFetch for all topics, or, where the coordinator
    /// answers that with nothing (librdkafka's mock cluster does not serve the all-topics form),
    /// OffsetFetch for every partition of every topic.
    private func committedOffsets(_ group: String) async throws(ClientError) -> [OffsetFetchResponse.Topic] {
        func fetch(_ topics: [OffsetFetchRequest.Topic]?) async throws(ClientError) -> OffsetFetchResponse {
            try await withCoordinator(group) { coordinator async throws(ClientError) -> OffsetFetchResponse in
                let fetched = try await call(coordinator, OffsetFetchRequest(groupId: group, topics: topics))
                try Self.checkCoordinator(fetched.errorCode, "offsets of group \(group)")
                guard fetched.errorCode == 0 else { throw .kafka(code: fetched.errorCode, context: "offsets of group \(group)") }
                return fetched
            }
        }
        do {
            let all = try await fetch(nil)
            if !all.topics.isEmpty { return all.topics }
        } catch .protocolError {}
        let topics = try await metadata(topics: nil).topics.filter { $0.errorCode == 0 && !$0.partitions.isEmpty }
        guard !topics.isEmpty else { return [] }
        return try await fetch(topics.map { .init(name: $0.name, partitionIndexes: $0.partitions.map(\.partition)) }).topics
    }
}
