import Foundation
import SpoolFormat
import Synchronization

/// Where a consumer starts on a partition its group has never committed for, and after its
/// offset went out of range (retention deleted it, or it is past the end).
public enum OffsetReset: Sendable {
    case earliest
    case latest
}

/// A Kafka consumer, over the network (`init(client:…)`) or in-process (`EmbeddedBroker.consumer`),
/// with one behaviour on both: the same `ConsumerTransport` protocol under the same engine. With a
/// group it joins with Kafka's classic protocol (range assignor), heartbeats in the background and
/// commits manually (`commit()`) or automatically; without one it reads every partition of its
/// topics itself. Partitions can be paused and resumed.
///
/// Thread-safe. Delivery is at least once: what was handed out after the last commit comes again
/// to whoever owns the partition next.
public final class Consumer: Sendable {
    public struct Options: Sendable {
        public var sessionTimeoutMs: Int32 = 10_000
        public var rebalanceTimeoutMs: Int32 = 30_000
        public var heartbeatIntervalMs = 1_000
        /// Commit what was marked consumed (`records` marks each record it hands out) every
        /// `autoCommitIntervalMs`, before rejoining a rebalancing group, and on close.
        public var autoCommit = false
        public var autoCommitIntervalMs = 5_000
        /// Where to start without a committed offset, and after an offset went out of range.
        public var offsetReset: OffsetReset = .earliest
        /// Longest a poll parks waiting for records.
        public var pollWaitMs: Int32 = 500
        public var maxPollBytes: Int32 = 4 << 20
        /// Most records one poll hands out (Kafka's `max.poll.records`). The rest of a fetch waits
        /// as the bytes it came in, and is decoded as later polls hand it out.
        public var maxPollRecords = 500
        public var clientId = "spool"
        /// Called before partitions are taken away (commit here to hand them over cleanly).
        public var onRevoked: (@Sendable ([TopicPartition]) async -> Void)?
        /// Called with the partitions this member owns after each join.
        public var onAssigned: (@Sendable ([TopicPartition]) async -> Void)?
        /// Called after `onAssigned`, with what the group had committed for each owned partition
        /// (nil: nothing), as the join read it to set the positions: the commits' metadata with
        /// no second request, which could fail or see another commit.
        public var onAssignedCommitted: (@Sendable ([TopicPartition: CommittedOffset?]) async -> Void)?
        /// Called when the member finds it has already lost its partitions (the group answered
        /// that it is no longer a member, or no heartbeat got through for a session): they may
        /// be another member's now, so stop their work without committing. Unset: `onRevoked`.
        public var onLost: (@Sendable ([TopicPartition]) async -> Void)?
        public init() {}
    }

    struct State {
        var memberId = ""
        var generation: Int32 = -1
        var assignment: [TopicPartition] = []
        /// Offset after the last record handed out (and past batches that held none), per
        /// assigned partition: where the next poll resumes.
        var positions: [TopicPartition: Int64] = [:]
        /// Fetched and not yet handed out, per partition (paused ones keep theirs). Its `next`
        /// is the partition's position; a partition is fetched again once its cursor is used up.
        var buffered: [TopicPartition: RecordCursor] = [:]
        /// The partition the next poll hands out from first, so every one gets its turn.
        var turn = 0
        /// Offset after the last record handed out, per partition: what `commit()` stores.
        var consumed: [TopicPartition: Int64] = [:]
        /// Partitions not fetched until resumed (kept across rebalances and before the first join).
        var paused: Set<TopicPartition> = []
        var needsJoin = true
        var closed = false
        var lastAutoCommit = ContinuousClock.now
        /// When the last heartbeat the group accepted was sent.
        var lastHeartbeat = ContinuousClock.now
        /// `join()` calls under way: a heartbeat's group error is then the join's to handle.
        var joining = 0
        /// A commit was answered that this member is no longer in the group (UNKNOWN_MEMBER_ID,
        /// ILLEGAL_GENERATION): its partitions may be another member's already, so the next join
        /// hands them to `onLost`, not `onRevoked` (as Kafka's consumer does).
        var membershipLost = false
        /// The partition count of each topic the group's assignment covered, when this member
        /// made it (empty when another member leads): see `assignedCountsChanged`.
        var assignedCounts: [String: Int] = [:]
        /// This member's JoinGroup and SyncGroup requests out: no heartbeat is sent meanwhile.
        var groupCallsOut = 0
        /// The `onLost` call a heartbeat started: the next join waits for it, so the old
        /// partitions are given up before the new ones are assigned, never after.
        var losing: Task<Void, Never>?
    }

    let transport: any ConsumerTransport
    public let group: String?
    public let topics: [String]
    public let options: Options
    let state = Mutex(State())
    let heartbeat = Mutex<Task<Void, Never>?>(nil)

    /// A consumer over the Kafka protocol. It opens connections of its own from `client`'s
    /// settings: fetches on one set, group traffic on another (see `NetworkConsumerTransport`).
    public convenience init(client: SpoolClient, group: String?, topics: [String], options: Options = Options()) throws(ClientError) {
        try self.init(transport: try NetworkConsumerTransport(settingsOf: client), group: group, topics: topics, options: options)
    }

    public init(transport: any ConsumerTransport, group: String?, topics: [String], options: Options = Options()) throws(ClientError) {
        guard !topics.isEmpty else { throw .invalidArgument("a consumer needs at least one topic") }
        if let group, group.isEmpty { throw .invalidArgument("the group id is empty") }
        self.transport = transport
        self.group = group
        self.topics = topics
        self.options = options
    }

    /// The partitions this consumer reads in the current generation.
    public var assignment: [TopicPartition] { state.withLock { $0.assignment } }
    /// This member's id in the group ("" before it has joined).
    public var memberId: String { state.withLock { $0.memberId } }
    public var generation: Int32 { state.withLock { $0.generation } }

    /// The offset after the last record handed out from a partition (and past batches that held
    /// none), where the next poll resumes, if this consumer reads it.
    public func position(_ partition: TopicPartition) -> Int64? { state.withLock { $0.positions[partition] } }

    /// The end of each partition of `topic` now: the offset its next record will take (the high
    /// watermark), asked of the broker, whatever this consumer reads.
    public func endOffsets(of topic: String) async throws(ClientError) -> [TopicPartition: Int64] {
        let count = try await transport.partitionCount(of: topic)
        return try await transport.listOffsets((0..<count).map { TopicPartition(topic, Int32($0)) }, timestamp: -1)
    }

    /// The next records, at most `maxPollRecords`: what an earlier fetch brought and no poll has
    /// handed out yet, or else a new fetch's (parking up to `maxWaitMs`, by default `pollWaitMs`,
    /// when there are none). Joins or rejoins the group first when needed.
    public func poll(maxWaitMs: Int32? = nil) async throws(ClientError) -> [ConsumedRecord] {
        try await poll(maxWaitMs: maxWaitMs, pollBuffered)
    }

    /// `poll`'s records read in place (`BatchRecord`): nothing is copied out of a batch but the
    /// batch itself, once, for a reader that needs few of each record's fields (a job worker).
    /// The same records, positions and errors as `poll`'s.
    public func pollBatchRecords(maxWaitMs: Int32? = nil) async throws(ClientError) -> [BatchRecord] {
        try await poll(maxWaitMs: maxWaitMs, pollBufferedBatchRecords)
    }

    private func poll<Element>(maxWaitMs: Int32?, _ buffered: () throws(ClientError) -> [Element]) async throws(ClientError) -> [Element] {
        try await keepMembership()
        let earlier = try buffered()
        if !earlier.isEmpty { return earlier }
        let backOff = try await fetch(maxWaitMs: maxWaitMs)
        let records = try buffered()
        // A leader moved or a broker is away: give the cluster a moment before the next fetch.
        if backOff && records.isEmpty { try? await Task.sleep(for: .milliseconds(100)) }
        return records
    }

    /// Fetches for the unpaused partitions that have nothing buffered (parking up to `maxWaitMs`,
    /// by default `pollWaitMs`, when there is nothing new), joining or rejoining the group first
    /// when needed, and hands out nothing: `pollBuffered()` does. True when some partitions could
    /// not be fetched for a reason that passes (a leader moved, a broker is away).
    private func fetch(maxWaitMs: Int32? = nil) async throws(ClientError) -> Bool {
        let waitMs = max(0, maxWaitMs ?? options.pollWaitMs)
        try await keepMembership()
        let (requests, buffered) = state.withLock { state in
            (state.assignment.filter { !state.paused.contains($0) && state.buffered[$0] == nil }.map { ($0, state.positions[$0] ?? 0) },
             state.assignment.contains { !state.paused.contains($0) && state.buffered[$0] != nil })
        }
        guard !requests.isEmpty else {
            if !buffered { try? await Task.sleep(for: .milliseconds(Int(waitMs))) }
            return false
        }
        let outcome = try await transport.fetch(requests, maxWaitMs: buffered ? 0 : waitMs, maxBytes: options.maxPollBytes)
        let starts = Dictionary(requests, uniquingKeysWith: { first, _ in first })
        var fetched: [TopicPartition: RecordCursor] = [:]
        var outOfRange: [TopicPartition] = []
        for (partition, answer) in outcome.partitions {
            if answer.errorCode == KafkaErrorCode.offsetOutOfRange.rawValue {
                outOfRange.append(partition)
            } else if answer.errorCode == 0 {
                fetched[partition] = answer.records
            }
        }
        let resets = outOfRange.isEmpty ? [:] : try await resetPoints(outOfRange)
        state.withLock { state in
            // A rebalance that took a partition away (or moved its position) while the fetch was
            // out: what came for it is not ours.
            for (partition, cursor) in fetched where state.assignment.contains(partition) && state.positions[partition] == starts[partition] {
                state.buffered[partition] = cursor
            }
            // The offset is gone (retention) or ahead of the log: start over from the reset point.
            for (partition, offset) in resets where state.assignment.contains(partition) && state.positions[partition] == starts[partition] {
                state.positions[partition] = offset
            }
        }
        return outcome.backOff
    }

    /// Joins or rejoins the group when it must (a rejoin drops what was fetched and not handed
    /// out: the positions start again from the group's commits; the leader rejoins when a topic
    /// it assigned has another partition count), and commits when auto-commit is due.
    private func keepMembership() async throws(ClientError) {
        if state.withLock({ $0.closed }) { throw .closed }
        if state.withLock({ !$0.needsJoin }), await assignedCountsChanged() { state.withLock { $0.needsJoin = true } }
        if state.withLock({ $0.needsJoin }) { try await join() }
        if options.autoCommit, state.withLock({ $0.lastAutoCommit.duration(to: .now) >= .milliseconds(options.autoCommitIntervalMs) }) {
            try? await commit()
        }
    }

    /// Whether an unpaused partition has fetched records that no poll has handed out yet.
    public var hasBuffered: Bool {
        state.withLock { state in state.assignment.contains { !state.paused.contains($0) && state.buffered[$0] != nil } }
    }

    /// Up to `maxPollRecords` of what earlier fetches brought, from the unpaused partitions in
    /// turn, each one's position moving past what it handed out; it never fetches (nothing when
    /// nothing is buffered). A batch that cannot be read stops its partition there; it is
    /// reported when no partition has anything else to hand out. Calls must not overlap when
    /// their records' order matters: each hands out the records after the last call's.
    public func pollBuffered() throws(ClientError) -> [ConsumedRecord] {
        try takeBuffered({ $0.take(upTo: $1, into: &$2) }, partition: \.topicPartition)
    }

    /// `pollBuffered`'s records read in place (see `pollBatchRecords`).
    public func pollBufferedBatchRecords() throws(ClientError) -> [BatchRecord] {
        try takeBuffered({ $0.take(upTo: $1, into: &$2) }, partition: \.topicPartition)
    }

    /// `pollBuffered` for records of either kind, `take` taking them from a cursor.
    private func takeBuffered<Element>(_ take: (inout RecordCursor, Int, inout [Element]) -> Void,
                                       partition: (Element) -> TopicPartition) throws(ClientError) -> [Element] {
        // The cursors are taken out to be read outside the lock, and put back if not used up.
        // Each is read in its place in the array: a copy taken out of it would share the records
        // its current batch still holds with the array's, and taking them would copy the whole
        // batch (a retain per buffer of each record), once per poll.
        var (read, turn) = state.withLock { state -> ([(partition: TopicPartition, cursor: RecordCursor, start: Int64)], Int) in
            let owned = state.assignment
            guard !owned.isEmpty, !state.buffered.isEmpty else { return ([], 0) }
            let first = state.turn % owned.count
            var cursors: [(partition: TopicPartition, cursor: RecordCursor, start: Int64)] = []
            for index in 0..<owned.count {
                let partition = owned[(first + index) % owned.count]
                if !state.paused.contains(partition), let cursor = state.buffered.removeValue(forKey: partition) {
                    cursors.append((partition, cursor, cursor.next))
                }
            }
            return (cursors, first)
        }
        guard !read.isEmpty else { return [] }
        var records: [Element] = []
        var unreadable: FetchError?
        let limit = max(1, options.maxPollRecords)
        for index in read.indices {
            take(&read[index].cursor, limit - records.count, &records)
            if read[index].cursor.isExhausted, unreadable == nil { unreadable = read[index].cursor.unreadable }
        }
        let lost = state.withLock { state -> Set<TopicPartition> in
            var lost: Set<TopicPartition> = []
            for (partition, cursor, start) in read {
                // A rebalance took the partition away (or moved its position) meanwhile: what was
                // read is not ours.
                guard state.assignment.contains(partition) && state.positions[partition] == start else {
                    lost.insert(partition)
                    continue
                }
                state.positions[partition] = cursor.next
                if !cursor.isExhausted { state.buffered[partition] = cursor }
            }
            // The next poll starts after the partition this one started with.
            state.turn = turn + 1
            return lost
        }
        if records.isEmpty, let unreadable { throw .protocolError(unreadable.description) }
        return lost.isEmpty ? records : records.filter { !lost.contains(partition($0)) }
    }

    /// Marks a record as processed: `commit()` stores the offset after it.
    public func markConsumed(_ record: ConsumedRecord) {
        state.withLock { state in
            if record.offset + 1 > state.consumed[record.topicPartition] ?? -1 { state.consumed[record.topicPartition] = record.offset + 1 }
        }
    }

    /// Stores the offset after the last consumed record of each owned partition.
    public func commit() async throws(ClientError) {
        let consumed = state.withLock { state in
            state.lastAutoCommit = .now
            return state.consumed.filter { state.assignment.contains($0.key) }
        }
        try await commit(consumed.mapValues { CommittedOffset(offset: $0) })
    }

    /// Stores exactly these offsets (with their metadata) for the group. The partitions must be
    /// owned by this member in the current generation, or the broker refuses with a group error
    /// (`REBALANCE_IN_PROGRESS`, `ILLEGAL_GENERATION`, …) and the consumer rejoins on its next poll.
    public func commit(_ offsets: [TopicPartition: CommittedOffset]) async throws(ClientError) {
        guard let group, !offsets.isEmpty else { return }
        let (memberId, generation) = state.withLock { ($0.memberId, $0.generation) }
        do {
            try await transport.commit(group: group, generation: generation, memberId: memberId, offsets: offsets)
        } catch {
            if [.illegalGeneration, .unknownMemberId].contains(error.kafkaCode) {
                state.withLock { state in
                    state.needsJoin = true
                    state.membershipLost = true
                }
            } else if error.kafkaCode == .rebalanceInProgress {
                state.withLock { $0.needsJoin = true }
            }
            throw error
        }
    }

    /// What the group has committed for these partitions (absent where nothing is).
    public func committed(_ partitions: [TopicPartition]) async throws(ClientError) -> [TopicPartition: CommittedOffset] {
        guard let group, !partitions.isEmpty else { return [:] }
        return try await transport.committed(group: group, partitions: partitions)
    }

    /// Stops fetching these partitions until `resume`.
    public func pause(_ partitions: [TopicPartition]) { state.withLock { $0.paused.formUnion(partitions) } }

    public func resume(_ partitions: [TopicPartition]) { state.withLock { $0.paused.subtract(partitions) } }

    /// Commits (with auto-commit), stops heartbeating, leaves the group (so the others rebalance
    /// at once) and closes the transport. Without auto-commit it does not commit: call `commit()`
    /// first to keep progress.
    public func close() async {
        if options.autoCommit { try? await commit() }
        let (memberId, wasClosed) = state.withLock { state in
            defer { state.closed = true }
            return (state.memberId, state.closed)
        }
        if wasClosed { return }
        heartbeat.withLock { task in
            task?.cancel()
            task = nil
        }
        if let group, !memberId.isEmpty { await transport.leaveGroup(group: group, memberId: memberId) }
        await transport.close()
    }

    /// The records, one at a time, for as long as the consumer is open. Each record is marked
    /// consumed as it is handed out, so `commit()` covers it.
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
