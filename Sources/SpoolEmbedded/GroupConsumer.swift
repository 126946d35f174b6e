import Foundation
import SpoolBroker
import SpoolFormat
import SpoolLog
import Synchronization

/// Where a consumer starts on a partition its group has never committed for.
public enum OffsetReset: Sendable {
    case earliest
    case latest
}

/// A member of a consumer group, in-process: it joins through the broker's group coordinator with
/// Kafka's classic protocol (the same one Kafka clients use, so it can share a group with them),
/// heartbeats in the background, fetches its partitions with long polls and commits offsets.
///
/// Delivery is at least once: `commit()` stores, for each partition, the offset after the last
/// record this consumer handed out, so records handed out after the last commit come again to
/// whoever owns the partition next.
public final class GroupConsumer: Sendable {
    public let group: String
    public let topics: [String]
    let broker: Broker
    let options: Options
    let state: Mutex<State>
    private let heartbeatTask = Mutex<Task<Void, Never>?>(nil)

    /// How the consumer behaves in its group.
    public struct Options: Sendable {
        public var sessionTimeoutMs = 10_000
        public var rebalanceTimeoutMs = 30_000
        public var heartbeatIntervalMs = 1_000
        /// Longest a poll parks waiting for records.
        public var pollWaitMs = 500
        public var maxPollBytes = 4 << 20
        public var offsetReset: OffsetReset = .earliest
        public var clientId = "spool-embedded"
        /// Called before partitions are taken away in a rebalance (finish and commit them here).
        public var onRevoked: (@Sendable ([TopicPartition]) async -> Void)?
        /// Called with the partitions this member owns after each join.
        public var onAssigned: (@Sendable ([TopicPartition]) async -> Void)?
        public init() {}
    }

    struct State {
        var memberId = ""
        var generation: Int32 = -1
        var assignment: [TopicPartition] = []
        /// Next offset to fetch, per assigned partition.
        var positions: [TopicPartition: Int64] = [:]
        /// Offset after the last record handed out, per partition: what `commit()` stores.
        var consumed: [TopicPartition: Int64] = [:]
        var needsRejoin = true
        var closed = false
        /// Partitions not fetched until resumed (kept across rebalances).
        var paused: Set<TopicPartition> = []
    }

    init(broker: Broker, group: String, topics: [String], options: Options) {
        self.broker = broker
        self.group = group
        self.topics = topics
        self.options = options
        self.state = Mutex(State())
    }

    /// The partitions this member owns in the current generation.
    public var assignment: [TopicPartition] { state.withLock { $0.assignment } }
    /// This member's id in the group ("" before it has joined).
    public var memberId: String { state.withLock { $0.memberId } }
    public var generation: Int32 { state.withLock { $0.generation } }

    /// Joins (or rejoins) the group and starts heartbeating.
    public func join() async throws(BrokerError) {
        var memberId = state.withLock { $0.memberId }
        for _ in 0..<20 {
            if state.withLock({ $0.closed }) { throw .closed }
            let response = await broker.groups.join(JoinGroupRequest(
                groupId: group, memberId: memberId, groupInstanceId: nil, clientId: options.clientId, clientHost: "in-process",
                sessionTimeoutMs: options.sessionTimeoutMs, rebalanceTimeoutMs: options.rebalanceTimeoutMs, protocolType: "consumer",
                protocols: [GroupProtocol(name: RangeAssignor.name, metadata: ConsumerProtocol.encode(.init(topics: topics)))],
                requireKnownMemberId: true))
            switch response.error {
            case .none: break
            case .memberIdRequired:
                memberId = response.memberId
                continue
            case .unknownMemberId, .illegalGeneration:
                memberId = ""
                continue
            case .rebalanceInProgress:
                continue
            default:
                throw .group(response.error)
            }
            memberId = response.memberId
            var assignments: [String: [UInt8]] = [:]
            if response.leaderId == response.memberId {
                assignments = RangeAssignor.assign(members: response.members.map { ($0.memberId, $0.metadata) }, partitionCount: { self.broker.partitionCount($0) ?? 0 })
            }
            let sync = await broker.groups.sync(groupId: group, generationId: response.generationId, memberId: memberId, groupInstanceId: nil,
                                                protocolType: "consumer", protocolName: response.protocolName, assignments: assignments)
            if sync.error == .rebalanceInProgress { continue }
            guard sync.error == .none else { throw .group(sync.error) }
            let owned = (try? ConsumerProtocol.decodeAssignment(sync.assignment))?.partitions
                .flatMap { topic, partitions in partitions.map { TopicPartition(topic, $0) } } ?? []
            adopt(memberId: memberId, generation: response.generationId, assignment: owned.sorted())
            startHeartbeats()
            if let assigned = options.onAssigned { await assigned(assignment) }
            return
        }
        throw .group(.rebalanceInProgress)
    }

    private func adopt(memberId: String, generation: Int32, assignment: [TopicPartition]) {
        let committed = broker.committedOffsets(group: group, partitions: assignment)
        var positions: [TopicPartition: Int64] = [:]
        for topicPartition in assignment {
            if let offset = committed[topicPartition]?.offset, offset >= 0 {
                positions[topicPartition] = offset
            } else {
                let timestamp: Int64 = options.offsetReset == .earliest ? -2 : -1
                positions[topicPartition] = (try? broker.listOffset(topic: topicPartition.topic, partition: topicPartition.partition,
                                                                    timestamp: timestamp).offset) ?? 0
            }
        }
        state.withLock { state in
            state.memberId = memberId
            state.generation = generation
            state.assignment = assignment
            state.positions = positions
            state.consumed = state.consumed.filter { assignment.contains($0.key) }
            state.needsRejoin = false
        }
    }

    private func startHeartbeats() {
        let interval = options.heartbeatIntervalMs
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(interval))
                guard let self, !Task.isCancelled else { return }
                let (memberId, generation, closed) = self.state.withLock { ($0.memberId, $0.generation, $0.closed) }
                if closed { return }
                let error = self.broker.groups.heartbeat(groupId: self.group, generationId: generation, memberId: memberId, groupInstanceId: nil)
                if error != .none { self.state.withLock { $0.needsRejoin = true } }
            }
        }
        heartbeatTask.withLock { old in
            old?.cancel()
            old = task
        }
    }

    /// Fetches the next records from the owned partitions, parking up to `pollWaitMs` when there are
    /// none. Rejoins the group first when a rebalance is under way.
    public func poll() async throws(BrokerError) -> [ConsumedRecord] {
        if state.withLock({ $0.closed }) { throw .closed }
        if state.withLock({ $0.needsRejoin }) {
            let owned = assignment
            if let revoked = options.onRevoked, !owned.isEmpty { await revoked(owned) }
            try await join()
        }
        let requests = state.withLock { state in
            state.assignment.filter { !state.paused.contains($0) }.map { FetchPartitionRequest($0, fetchOffset: state.positions[$0] ?? 0, maxBytes: options.maxPollBytes) }
        }
        guard !requests.isEmpty else {
            try? await Task.sleep(for: .milliseconds(options.pollWaitMs))
            return []
        }
        let fetched = await broker.fetch(requests, maxWaitMs: options.pollWaitMs, minBytes: 1, maxBytes: options.maxPollBytes)
        var records: [ConsumedRecord] = []
        var advanced: [TopicPartition: Int64] = [:]
        var unreadable: FetchError?
        for (request, result) in zip(requests, fetched) {
            if result.error == .offsetOutOfRange {
                // Retention deleted what this group had not read yet: start again where the log starts.
                advanced[request.topicPartition] = result.logStartOffset >= 0 ? result.logStartOffset : request.fetchOffset
                continue
            }
            guard result.error == .none, let slice = result.records else { continue }
            let fetchedRecords = slice.records(of: request.topicPartition, from: request.fetchOffset)
            unreadable = unreadable ?? fetchedRecords.unreadable
            records += fetchedRecords.records
            advanced[request.topicPartition] = fetchedRecords.next
        }
        state.withLock { state in
            for (topicPartition, offset) in advanced where state.assignment.contains(topicPartition) {
                state.positions[topicPartition] = offset
            }
        }
        // A batch that cannot be read stops its partition there; it is reported once the
        // partitions before it have nothing left to hand out.
        if records.isEmpty, let unreadable { throw .unreadableRecords(unreadable.description) }
        return records.filter { record in state.withLock { $0.assignment.contains(TopicPartition(record.topic, record.partition)) } }
    }

    /// Marks a record as processed: `commit()` then stores the offset after it.
    public func markConsumed(_ record: ConsumedRecord) {
        let topicPartition = TopicPartition(record.topic, record.partition)
        state.withLock { state in
            if record.offset + 1 > state.consumed[topicPartition] ?? -1 { state.consumed[topicPartition] = record.offset + 1 }
        }
    }

    /// Stores, durably, the offset after the last record handed out on each owned partition.
    /// Fails with a group error (`REBALANCE_IN_PROGRESS`, `ILLEGAL_GENERATION`, …) when this
    /// member no longer owns them; it then rejoins on the next poll.
    public func commit() async throws(BrokerError) {
        try await commit(state.withLock { $0.consumed }.mapValues { CommittedOffset(offset: $0) })
    }

    /// Stores exactly these offsets (with their metadata), durably, under the same checks as `commit()`.
    public func commit(_ offsets: [TopicPartition: CommittedOffset]) async throws(BrokerError) {
        let (memberId, generation) = state.withLock { ($0.memberId, $0.generation) }
        guard !offsets.isEmpty else { return }
        do {
            try await broker.commitOffsets(group: group, generationId: generation, memberId: memberId, offsets: offsets)
        } catch {
            if case .group = error { state.withLock { $0.needsRejoin = true } }
            throw error
        }
    }

    /// What the group has committed for these partitions.
    public func committed(_ partitions: [TopicPartition]) -> [TopicPartition: CommittedOffset] {
        broker.committedOffsets(group: group, partitions: partitions)
    }

    /// Stops fetching these partitions until `resume`.
    public func pause(_ partitions: [TopicPartition]) { state.withLock { $0.paused.formUnion(partitions) } }

    public func resume(_ partitions: [TopicPartition]) { state.withLock { $0.paused.subtract(partitions) } }

    /// Stops heartbeating and leaves the group, so the others rebalance at once. It does not
    /// commit; call `commit()` first to keep progress.
    public func close() {
        let memberId = state.withLock { state in
            state.closed = true
            return state.memberId
        }
        heartbeatTask.withLock { task in
            task?.cancel()
            task = nil
        }
        if !memberId.isEmpty { _ = broker.groups.leave(groupId: group, memberIds: [memberId]) }
    }

    /// The records, one at a time, for as long as the consumer is open. Each record is marked
    /// consumed as it is handed out, so `commit()` covers it.
    public var records: Records { Records(consumer: self) }

    public struct Records: AsyncSequence, Sendable {
        public typealias Element = ConsumedRecord
        let consumer: GroupConsumer

        public func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer) }

        public struct Iterator: AsyncIteratorProtocol {
            let consumer: GroupConsumer
            var buffer: [ConsumedRecord] = []
            var index = 0

            public mutating func next() async throws -> ConsumedRecord? {
                while index == buffer.count {
                    if consumer.state.withLock({ $0.closed }) || Task.isCancelled { return nil }
                    buffer = try await consumer.poll()
                    index = 0
                }
                let record = buffer[index]
                index += 1
                consumer.markConsumed(record)
                return record
            }
        }
    }
}

extension EmbeddedBroker {
    /// Joins `group` as a consumer of `topics` and returns once it owns its partitions.
    public func consumer(group: String, topics: [String], options: GroupConsumer.Options = .init()) async throws(BrokerError) -> GroupConsumer {
        for topic in topics { _ = try broker.ensureTopic(topic) }
        let consumer = GroupConsumer(broker: broker, group: group, topics: topics, options: options)
        try await consumer.join()
        return consumer
    }
}
