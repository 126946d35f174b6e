import Foundation
import SpoolFormat
import SpoolWire
import Synchronization

/// A Kafka consumer. With a group it joins with Kafka's classic protocol (range assignor),
/// heartbeats in the background, and commits manually (`commit()`) or automatically; without one it
/// reads every partition of its topics itself. Partitions can be paused and resumed.
///
/// Thread-safe. Delivery is at least once: what was handed out after the last commit comes again
/// to whoever owns the partition next.
public final class Consumer: Sendable {
    public struct Options: Sendable {
        public var sessionTimeoutMs: Int32 = 10_000
        public var rebalanceTimeoutMs: Int32 = 30_000
        public var heartbeatIntervalMs = 1_000
        /// Commit what was handed out every `autoCommitIntervalMs` and on close.
        public var autoCommit = false
        public var autoCommitIntervalMs = 5_000
        /// Where to start without a committed offset: true for the log start, false for its end.
        public var fromBeginning = true
        public var pollWaitMs: Int32 = 500
        public var fetchMaxBytes: Int32 = 4 << 20
        /// Called before partitions are taken away (commit here to hand them over cleanly).
        public var onRevoked: (@Sendable ([String]) async -> Void)?
        /// Called with the partitions this member owns after each rebalance.
        public var onAssigned: (@Sendable ([String]) async -> Void)?
        public init() {}
    }

    private struct Position: Hashable {
        var topic: String
        var partition: Int32
        var key: String { "\(topic)/\(partition)" }
    }

    private struct State {
        var memberId = ""
        var generation: Int32 = -1
        var assignment: [Position] = []
        var positions: [Position: Int64] = [:]
        var consumed: [Position: Int64] = [:]
        /// Paused partitions by "topic/partition" (kept across rebalances and before the first join).
        var paused: Set<String> = []
        var needsJoin = true
        var closed = false
        var lastAutoCommit = Date()
    }

    /// This consumer's own connections: fetches on one, group traffic (joins, heartbeats,
    /// commits) on the other. A broker answers each connection's requests in order, so a parked
    /// fetch or a JoinGroup waiting for a rebalance would otherwise hold up heartbeats — or, with a
    /// client shared by two members, the very rejoin the rebalance is waiting for.
    let client: SpoolClient
    let groupClient: SpoolClient
    public let group: String?
    public let topics: [String]
    public let options: Options
    private let state = Mutex(State())
    private let heartbeat = Mutex<Task<Void, Never>?>(nil)

    public init(client: SpoolClient, group: String?, topics: [String], options: Options = Options()) throws(ClientError) {
        guard !topics.isEmpty else { throw .invalidArgument("a consumer needs at least one topic") }
        if let group, group.isEmpty { throw .invalidArgument("the group id is empty") }
        self.client = try SpoolClient(bootstrap: client.bootstrap, clientId: client.clientId, requestTimeoutMs: client.requestTimeoutMs)
        self.groupClient = try SpoolClient(bootstrap: client.bootstrap, clientId: client.clientId, requestTimeoutMs: client.requestTimeoutMs)
        self.group = group
        self.topics = topics
        self.options = options
    }

    /// The partitions this consumer reads ("topic/partition").
    public var assignment: [String] { state.withLock { $0.assignment.map(\.key) } }

    /// The next offset this consumer will fetch from a partition it reads, if it reads it.
    public func position(topic: String, partition: Int32) -> Int64? {
        state.withLock { $0.positions[Position(topic: topic, partition: partition)] }
    }

    /// Fetches the next records (parking up to `pollWaitMs` when there are none), joining or
    /// rejoining the group first when needed.
    public func poll() async throws(ClientError) -> [ConsumedRecord] {
        if state.withLock({ $0.closed }) { throw .closed }
        if state.withLock({ $0.needsJoin }) { try await join() }
        if options.autoCommit, state.withLock({ Date().timeIntervalSince($0.lastAutoCommit) * 1000 >= Double(options.autoCommitIntervalMs) }) {
            try? await commit()
        }
        let requests = state.withLock { state in
            state.assignment.filter { !state.paused.contains($0.key) }.map { ($0, state.positions[$0] ?? 0) }
        }
        guard !requests.isEmpty else {
            try? await Task.sleep(for: .milliseconds(Int(options.pollWaitMs)))
            return []
        }
        // One Fetch per partition leader, all at once: each broker parks its fetch up to the
        // poll wait, and a leader that moved or a broker that is down costs only its partitions.
        var byLeader: [Int32: [(Position, Int64)]] = [:]
        for request in requests { byLeader[try await client.leaderNode(request.0.topic, request.0.partition), default: []].append(request) }
        let outcomes = await withTaskGroup(of: Result<[(String, FetchResponse.PartitionData)], ClientError>.self) { group in
            for (node, partitions) in byLeader {
                group.addTask { await self.fetch(from: node, partitions) }
            }
            var outcomes: [Result<[(String, FetchResponse.PartitionData)], ClientError>] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        var fetched: [(topic: String, partition: FetchResponse.PartitionData)] = []
        var backOff = false
        for outcome in outcomes {
            switch outcome {
            case let .success(partitions): fetched += partitions.map { (topic: $0.0, partition: $0.1) }
            case let .failure(error):
                guard error.isRetriable || error.staleMetadata else { throw error }
                backOff = true
            }
        }
        var records: [ConsumedRecord] = []
        var unreadable: FetchError?
        for (topic, partition) in fetched {
            let position = Position(topic: topic, partition: partition.partitionIndex)
            let from = requests.first { $0.0 == position }?.1 ?? 0
            if partition.errorCode == KafkaErrorCode.offsetOutOfRange.rawValue {
                // The offset is gone (retention) or ahead of the log: start over from the reset point.
                let reset = try await resetOffsets([(position.topic, position.partition)])
                state.withLock { $0.positions[position] = reset[position.key] ?? from }
                continue
            }
            guard partition.errorCode == 0 else {
                // The partition is skipped this time; a moved leader is looked up again first.
                if ClientError.kafka(code: partition.errorCode, context: "").staleMetadata { client.invalidate(topic) }
                backOff = true
                continue
            }
            let fetchedRecords = (partition.records ?? RecordBytes([])).withUnsafeBytes {
                FetchedRecords(decoding: $0, topic: position.topic, partition: position.partition, from: from)
            }
            unreadable = unreadable ?? fetchedRecords.unreadable
            records += fetchedRecords.records
            let next = fetchedRecords.next
            state.withLock { state in if state.assignment.contains(position) { state.positions[position] = next } }
        }
        // A batch that cannot be read stops its partition there; it is reported once the
        // partitions before it have nothing left to hand out.
        if records.isEmpty, let unreadable { throw ClientError.protocolError(unreadable.description) }
        // A leader moved or a broker is away: give the cluster a moment before the next fetch.
        if backOff && records.isEmpty { try? await Task.sleep(for: .milliseconds(100)) }
        return records
    }

    /// One Fetch to a partition leader, waiting up to the poll wait for records; its timeout is
    /// that wait plus the request timeout. A failure forgets the topics' metadata.
    private func fetch(from node: Int32, _ partitions: [(Position, Int64)]) async -> Result<[(String, FetchResponse.PartitionData)], ClientError> {
        do throws(ClientError) {
            let leader = try await client.connection(toNode: node)
            let byTopic = Dictionary(grouping: partitions, by: \.0.topic).sorted { $0.key < $1.key }
            let request = FetchRequest(
                replicaId: -1, maxWaitMs: options.pollWaitMs, minBytes: 1, maxBytes: options.fetchMaxBytes,
                isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
                topics: byTopic.map { topic, entries in
                    .init(topic: topic, partitions: entries.map {
                        .init(partition: $0.0.partition, fetchOffset: $0.1, partitionMaxBytes: min(options.fetchMaxBytes, 1 << 20))
                    })
                })
            let response = try await client.call(leader, request, timeoutMs: Int(options.pollWaitMs) + client.requestTimeoutMs)
            guard response.errorCode == 0 else { throw ClientError.kafka(code: response.errorCode, context: "fetching") }
            return .success(response.responses.flatMap { topic in topic.partitions.map { (topic.topic, $0) } })
        } catch {
            for topic in Set(partitions.map(\.0.topic)) { client.invalidate(topic) }
            return .failure(error)
        }
    }

    /// Marks a record as processed: `commit()` stores the offset after it.
    public func markConsumed(_ record: ConsumedRecord) {
        let position = Position(topic: record.topic, partition: record.partition)
        state.withLock { state in
            if record.offset + 1 > state.consumed[position] ?? -1 { state.consumed[position] = record.offset + 1 }
        }
    }

    /// Stores the offset after the last consumed record of each owned partition.
    public func commit() async throws(ClientError) {
        let consumed = state.withLock { state in
            state.lastAutoCommit = Date()
            return state.consumed.filter { state.assignment.contains($0.key) }
        }
        try await commit(consumed.map { OffsetCommit(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) })
    }

    /// An offset to store for a partition, with Kafka's free-form metadata string.
    public struct OffsetCommit: Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public var metadata: String?

        public init(topic: String, partition: Int32, offset: Int64, metadata: String? = nil) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
            self.metadata = metadata
        }
    }

    /// Stores exactly these offsets for the group (the partitions must be owned by this member in
    /// the current generation, or the broker refuses with a group error and the consumer rejoins).
    public func commit(_ offsets: [OffsetCommit]) async throws(ClientError) {
        guard let group, !offsets.isEmpty else { return }
        let (memberId, generation) = membership
        let byTopic = Dictionary(grouping: offsets, by: \.topic).sorted { $0.key < $1.key }
        let request = OffsetCommitRequest(groupId: group, generationIdOrMemberEpoch: generation, memberId: memberId, topics: byTopic.map { topic, entries in
            .init(name: topic, partitions: entries.map { .init(partitionIndex: $0.partition, committedOffset: $0.offset, committedMetadata: $0.metadata) })
        })
        let response = try await groupClient.withCoordinator(group) { coordinator async throws(ClientError) -> OffsetCommitResponse in
            let response = try await groupClient.call(coordinator, request)
            for partition in response.topics.flatMap(\.partitions) {
                try SpoolClient.checkCoordinator(partition.errorCode, "committing offsets of group \(group)")
            }
            return response
        }
        if let failed = response.topics.flatMap(\.partitions).first(where: { $0.errorCode != 0 }) {
            if [.illegalGeneration, .unknownMemberId, .rebalanceInProgress].contains(KafkaErrorCode(rawValue: failed.errorCode)) { state.withLock { $0.needsJoin = true } }
            throw .kafka(code: failed.errorCode, context: "committing offsets of group \(group)")
        }
    }

    /// What the group has committed for these partitions (offset -1 where nothing is).
    public func committed(_ partitions: [(topic: String, partition: Int32)]) async throws(ClientError) -> [ClientResponse.Committed] {
        guard let group, !partitions.isEmpty else { return [] }
        let byTopic = Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }
        let request = OffsetFetchRequest(groupId: group, topics: byTopic.map { topic, entries in .init(name: topic, partitionIndexes: entries.map(\.partition)) })
        let fetched = try await groupClient.withCoordinator(group) { coordinator async throws(ClientError) -> OffsetFetchResponse in
            let fetched = try await groupClient.call(coordinator, request)
            try SpoolClient.checkCoordinator(fetched.errorCode, "fetching offsets of group \(group)")
            for partition in fetched.topics.flatMap(\.partitions) {
                try SpoolClient.checkCoordinator(partition.errorCode, "fetching offsets of group \(group)")
            }
            return fetched
        }
        guard fetched.errorCode == 0 else { throw ClientError.kafka(code: fetched.errorCode, context: "fetching offsets of group \(group)") }
        return fetched.topics.flatMap { topic in
            topic.partitions.map {
                ClientResponse.Committed(topic: topic.name, partition: $0.partitionIndex, offset: $0.committedOffset, metadata: $0.metadata,
                                         errorCode: $0.errorCode)
            }
        }
    }

    /// Stops fetching these partitions ("topic/partition") until `resume`.
    public func pause(_ partitions: [String]) {
        state.withLock { $0.paused.formUnion(partitions) }
    }

    public func resume(_ partitions: [String]) {
        state.withLock { $0.paused.subtract(partitions) }
    }

    /// Commits (with auto-commit), stops heartbeating and leaves the group.
    public func close() async {
        if options.autoCommit { try? await commit() }
        let memberId = state.withLock { state in
            state.closed = true
            return state.memberId
        }
        heartbeat.withLock { task in
            task?.cancel()
            task = nil
        }
        if let group, !memberId.isEmpty {
            let leave = LeaveGroupRequest(groupId: group, memberId: memberId, members: [.init(memberId: memberId)])
            _ = try? await groupClient.withCoordinator(group, timeoutMs: min(groupClient.requestTimeoutMs, 5_000)) { coordinator async throws(ClientError) in
                try SpoolClient.checkCoordinator(try await groupClient.call(coordinator, leave).errorCode, "leaving group \(group)")
            }
        }
        client.close()
        groupClient.close()
    }

    // MARK: - State used by joining (Consumer+Group.swift)

    var currentMemberId: String { state.withLock { $0.memberId } }
    var membership: (String, Int32) { state.withLock { ($0.memberId, $0.generation) } }
    func markRejoin() { state.withLock { $0.needsJoin = true } }

    func setMember(_ memberId: String, generation: Int32) {
        state.withLock { state in
            state.memberId = memberId
            state.generation = generation
        }
    }

    func setAssignment(_ owned: [(String, Int32)], positions: [String: Int64]) {
        state.withLock { state in
            state.assignment = owned.map { Position(topic: $0.0, partition: $0.1) }
            state.positions = [:]
            for position in state.assignment { state.positions[position] = positions[position.key] ?? 0 }
            state.consumed = state.consumed.filter { state.assignment.contains($0.key) }
            state.needsJoin = false
        }
    }

    func replaceHeartbeat(_ task: Task<Void, Never>) {
        heartbeat.withLock { old in
            old?.cancel()
            old = task
        }
    }

    /// The records, one at a time, each marked consumed as it is handed out.
    public var records: Records { Records(consumer: self) }

    public struct Records: AsyncSequence, Sendable {
        public typealias Element = ConsumedRecord
        let consumer: Consumer
        public func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer) }

        public struct Iterator: AsyncIteratorProtocol {
            let consumer: Consumer
            var buffer: [ConsumedRecord] = []
            var index = 0

            public mutating func next() async throws -> ConsumedRecord? {
                while index == buffer.count {
                    if consumer.state.withLock({ $0.closed }) || Task.isCancelled { return nil }
                    buffer = try await consumer.poll()
                    index = 0
                }
                defer { index += 1 }
                consumer.markConsumed(buffer[index])
                return buffer[index]
            }
        }
    }
}
