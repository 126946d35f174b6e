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
        let body = try await callAny(19, ClientVersions.createTopics, ClientRequest.createTopics([(name, partitions, configs)], timeoutMs: 30_000))
        let results: [(name: String, errorCode: Int16, message: String?)]
        do { results = try ClientResponse.topicErrors(body, withMessage: true) } catch { throw .protocolError("CreateTopics: \(error)") }
        if let failed = results.first(where: { $0.errorCode != 0 }) {
            throw .kafka(code: failed.errorCode, context: failed.message ?? "creating topic \(name)")
        }
    }

    public func deleteTopic(_ name: String) async throws(ClientError) {
        let body = try await callAny(20, ClientVersions.deleteTopics, ClientRequest.deleteTopics([name], timeoutMs: 30_000))
        let results: [(name: String, errorCode: Int16, message: String?)]
        do { results = try ClientResponse.topicErrors(body, withMessage: false) } catch { throw .protocolError("DeleteTopics: \(error)") }
        if let failed = results.first(where: { $0.errorCode != 0 }) { throw .kafka(code: failed.errorCode, context: "deleting topic \(name)") }
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
        let body = try await callAny(2, ClientVersions.listOffsets, ClientRequest.listOffsets(partitions.map { ($0.topic, $0.partition, timestamp) }))
        let results: [ClientResponse.ListedOffset]
        do { results = try ClientResponse.listOffsets(body) } catch { throw .protocolError("ListOffsets: \(error)") }
        var offsets: [String: Int64] = [:]
        for result in results {
            guard result.errorCode == 0 else { throw .kafka(code: result.errorCode, context: "offsets of \(result.topic)[\(result.partition)]") }
            offsets["\(result.topic)/\(result.partition)"] = result.offset
        }
        return offsets
    }

    public func listGroups() async throws(ClientError) -> [(group: String, protocolType: String)] {
        let body = try await callAny(16, ClientVersions.listGroups, [])
        do { return try ClientResponse.listGroups(body).map { ($0.groupId, $0.protocolType) }.sorted { $0.group < $1.group } } catch {
            throw .protocolError("ListGroups: \(error)")
        }
    }

    /// Members, assignment, committed offsets, end offsets and lag of a group.
    public func describeGroup(_ group: String) async throws(ClientError) -> GroupInfo {
        let coordinator = try await coordinator(group)
        let described: [ClientResponse.DescribedGroup]
        do { described = try ClientResponse.describeGroups(try await call(coordinator, 15, ClientVersions.describeGroups, ClientRequest.describeGroups([group]))) } catch let error as ClientError {
            throw error
        } catch {
            throw .protocolError("DescribeGroups: \(error)")
        }
        guard let description = described.first else { throw .protocolError("DescribeGroups left out \(group)") }
        guard description.errorCode == 0 else { throw .kafka(code: description.errorCode, context: "group \(group)") }
        var owners: [String: String] = [:]
        let members = description.members.map { member -> GroupInfo.Member in
            let assignment = (try? ConsumerProtocol.decodeAssignment(member.assignment))?.partitions ?? []
            let names = assignment.flatMap { topic, partitions in partitions.map { "\(topic)/\($0)" } }
            for name in names { owners[name] = member.memberId }
            return GroupInfo.Member(memberId: member.memberId, clientId: member.clientId, host: member.clientHost, partitions: names.sorted())
        }
        let fetched: (errorCode: Int16, offsets: [ClientResponse.Committed])
        do { fetched = try ClientResponse.offsetFetch(try await call(coordinator, 9, ClientVersions.offsetFetch, ClientRequest.offsetFetch(group: group, partitions: nil))) } catch let error as ClientError {
            throw error
        } catch {
            throw .protocolError("OffsetFetch: \(error)")
        }
        var committed: [String: Int64] = [:]
        for entry in fetched.offsets where entry.errorCode == 0 && entry.offset >= 0 { committed["\(entry.topic)/\(entry.partition)"] = entry.offset }
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
        return GroupInfo(group: group, state: description.state, members: members, partitions: partitions)
    }
}
