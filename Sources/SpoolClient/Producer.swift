import Foundation
import SpoolFormat
import SpoolWire
import Synchronization

/// A Kafka producer: records are batched per partition (until `batchBytesMax` or `lingerMs`),
/// sent to the partition's leader with the chosen acks, up to `maxInFlight` batches of a partition
/// at once, retried with backoff on retriable errors (a moved leader: the same batches, with the
/// same sequences and in the same order, to the new one), and — idempotence being on by default —
/// never stored twice by a retry. Keys pick partitions with murmur2, as Kafka's Java
/// client does; records without a key are spread round robin.
///
/// Thread-safe. `send` returns once the broker has acknowledged the record.
public final class Producer: Sendable {
    public struct Options: Sendable {
        /// -1 (all), 1 or 0.
        public var acks: Int16 = -1
        public var lingerMs = 5
        public var batchBytesMax = 256 << 10
        public var idempotent = true
        /// Tries of a batch after the first, within `deliveryTimeoutMs`.
        public var retries = 30
        /// The first backoff before a retry; it doubles up to `retryBackoffMaxMs`.
        public var retryBackoffMs = 50
        public var retryBackoffMaxMs = 1_000
        /// How long the broker may take to replicate a batch (Produce's own timeout); the producer
        /// waits that and a second for the answer, or the client's request timeout if longer.
        public var requestTimeoutMs: Int32 = 30_000
        /// How long a record may take from `send` to its acknowledgement, retries included.
        public var deliveryTimeoutMs = 120_000
        /// Batches of one partition sent before the first is answered (5 at most: what an
        /// idempotent Kafka broker keeps in order). Without idempotence it is 1, whatever is set:
        /// a batch retried after a failure would otherwise be stored behind the batches sent
        /// after it, which the broker took, and a key's records would change order.
        public var maxInFlight = 5
        /// Create a missing topic on first send (if the cluster allows).
        public var createTopics = true
        public init() {}
    }

    private struct Pending {
        var record: ProducerRecord
        var completion: @Sendable (Result<RecordMetadata, ClientError>) -> Void
        /// `deliveryTimeoutMs` after `send`: no retry of the record starts after it.
        var deadline: ContinuousClock.Instant
    }

    /// One partition's waiting records. A class, mutated in place under the lock: as a struct in
    /// the dictionary every enqueue copied the whole pending array.
    private final class Accumulator {
        var pending: [Pending] = []
        /// Records before this index have been taken into batches (compacted now and then).
        var start = 0
        var bytes = 0
        var inFlight = false
        var lingerScheduled = false
        var nextSequence: Int32 = 0
    }

    private struct State {
        var accumulators: [String: [Int32: Accumulator]] = [:]
        var partitionCounts: [String: Int] = [:]
        /// Topics whose count a callback send is asking again in the background.
        var refreshing: Set<String> = []
        var roundRobin: [String: Int] = [:]
        var producerId: Int64 = -1
        var epoch: Int16 = -1
        var closed = false
    }

    public let client: SpoolClient
    public let options: Options
    private let state = Mutex(State())

    public init(client: SpoolClient, options: Options = Options()) {
        self.client = client
        self.options = options
    }

    /// Sends one record and returns where it was stored once the broker acknowledges it.
    public func send(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = [],
                     partition: Int32? = nil, timestamp: Int64? = nil) async throws(ClientError) -> RecordMetadata {
        let placed = try await place(topic: topic, key: key, partition: partition)
        let result: Result<RecordMetadata, ClientError> = await withCheckedContinuation { continuation in
            enqueue(topic: topic, partition: placed, record: record(key, value, headers, timestamp)) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Sends one record and calls `completion` when the broker acknowledges it (or the send fails),
    /// without a task per record: the form for high rates (as Kafka's Java `send` with a callback).
    /// The partition must already be known to the producer or given; use the async `send` once per
    /// topic first, or `prepare(topic:)`.
    public func send(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = [], partition: Int32? = nil,
                     completion: @escaping @Sendable (Result<RecordMetadata, ClientError>) -> Void) {
        guard let count = state.withLock({ $0.partitionCounts[topic] }), !state.withLock({ $0.closed }) else {
            completion(.failure(state.withLock { $0.closed } ? .closed : .invalidArgument("call prepare(topic:) before sending to \(topic) with a callback")))
            return
        }
        // The count these sends use follows the topic's metadata, asked again once old.
        if !client.hasFreshPartitions(of: topic) { refreshCount(topic) }
        let placed = partition ?? choose(topic: topic, key: key, count: count)
        guard placed >= 0 && Int(placed) < count else {
            completion(.failure(.kafka(.unknownTopicOrPartition, "\(topic)[\(placed)]")))
            return
        }
        enqueue(topic: topic, partition: placed, record: record(key, value, headers, nil), completion: completion)
    }

    /// Learns a topic's partitions (creating it if allowed) and the producer id, ahead of callback sends.
    public func prepare(topic: String) async throws(ClientError) {
        if options.idempotent { try await ensureProducerId() }
        _ = try await partitionCount(topic)
    }

    private func record(_ key: [UInt8]?, _ value: [UInt8]?, _ headers: [RecordHeader], _ timestamp: Int64?) -> ProducerRecord {
        ProducerRecord(key: key, value: value, headers: headers, timestamp: timestamp ?? Int64(Date().timeIntervalSince1970 * 1000))
    }

    private func place(topic: String, key: [UInt8]?, partition: Int32?) async throws(ClientError) -> Int32 {
        if state.withLock({ $0.closed }) { throw .closed }
        try await prepare(topic: topic)
        let count = try await partitionCount(topic)
        if let partition {
            guard partition >= 0 && Int(partition) < count else { throw .kafka(.unknownTopicOrPartition, "\(topic)[\(partition)]") }
            return partition
        }
        return choose(topic: topic, key: key, count: count)
    }

    private func choose(topic: String, key: [UInt8]?, count: Int) -> Int32 {
        if let key { return Partitioner.partition(forKey: key, partitions: count) }
        return state.withLock { state in
            defer { state.roundRobin[topic, default: 0] += 1 }
            return Int32(state.roundRobin[topic, default: 0] % count)
        }
    }

    /// Adds a record to its partition's accumulator; sends the batch when full, or after the linger.
    private func enqueue(topic: String, partition target: Int32, record: ProducerRecord,
                         completion: @escaping @Sendable (Result<RecordMetadata, ClientError>) -> Void) {
        let (sendNow, scheduleLinger) = state.withLock { state -> (Bool, Bool) in
            let accumulator: Accumulator
            if let existing = state.accumulators[topic]?[target] {
                accumulator = existing
            } else {
                accumulator = Accumulator()
                state.accumulators[topic, default: [:]][target] = accumulator
            }
            accumulator.pending.append(Pending(record: record, completion: completion, deadline: .now + .milliseconds(options.deliveryTimeoutMs)))
            accumulator.bytes += (record.key?.count ?? 0) + (record.value?.count ?? 0) + 32
            let full = accumulator.bytes >= options.batchBytesMax
            let linger = !full && !accumulator.lingerScheduled && !accumulator.inFlight
            if linger { accumulator.lingerScheduled = true }
            return (full && !accumulator.inFlight, linger)
        }
        if sendNow { Task { await drain(topic, target) } }
        if scheduleLinger {
            let linger = options.lingerMs
            Task {
                if linger > 0 { try? await Task.sleep(for: .milliseconds(linger)) }
                await drain(topic, target)
            }
        }
    }

    /// Sends a UTF-8 record.
    public func send(topic: String, key: String?, value: String, headers: [String: String] = [:]) async throws(ClientError) -> RecordMetadata {
        try await send(topic: topic, key: key.map { Array($0.utf8) }, value: Array(value.utf8),
                       headers: headers.sorted { $0.key < $1.key }.map { RecordHeader($0.key, $0.value) })
    }

    /// Sends whatever is waiting now, without waiting for the linger, and returns once every
    /// record sent before the call is acknowledged or has failed: batches another drain has in
    /// flight are waited for too (they end within `deliveryTimeoutMs` and a request's timeout).
    public func flush() async {
        let all = state.withLock { state in state.accumulators.flatMap { topic, partitions in partitions.keys.map { (topic, $0) } } }
        await withTaskGroup(of: Void.self) { group in
            for (topic, partition) in all { group.addTask { await self.drain(topic, partition) } }
        }
        let limit = ContinuousClock.now + .milliseconds(options.deliveryTimeoutMs) + .milliseconds(client.requestTimeoutMs) + .seconds(1)
        while ContinuousClock.now < limit && !Task.isCancelled {
            let busy = state.withLock { state in
                all.filter { topic, partition in
                    guard let accumulator = state.accumulators[topic]?[partition] else { return false }
                    return accumulator.inFlight || accumulator.start < accumulator.pending.count
                }
            }
            if busy.isEmpty { return }
            // What waited behind another drain's batches is sent by that drain once they end, or
            // here if it ended meanwhile.
            for (topic, partition) in busy { await drain(topic, partition) }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Sends what is waiting; later sends fail with `.closed`.
    public func close() async {
        await flush()
        state.withLock { $0.closed = true }
    }

    // MARK: - Sending batches

    /// Sends the waiting records of one partition, up to `maxInFlight` batches at once, if no
    /// other drain is sending them; then the next batches, until nothing waits.
    private func drain(_ topic: String, _ partition: Int32) async {
        while true {
            // A producer id first (again, after one was given up: see `sendInOrder`).
            if options.idempotent && state.withLock({ $0.producerId < 0 }) {
                do throws(ClientError) { try await ensureProducerId() } catch {
                    failWaiting(topic, partition, error)
                    return
                }
            }
            guard let batches = takeBatches(topic, partition) else { return }
            if batches.isEmpty { continue }
            await sendInOrder(topic, partition, batches)
            state.withLock { $0.accumulators[topic]?[partition]?.inFlight = false }
        }
    }

    /// Fails the records waiting for a partition (no producer id could be had).
    private func failWaiting(_ topic: String, _ partition: Int32, _ error: ClientError) {
        let waiting = state.withLock { state -> [Pending] in
            guard let accumulator = state.accumulators[topic]?[partition], !accumulator.inFlight else { return [] }
            defer {
                accumulator.pending = []
                accumulator.start = 0
                accumulator.bytes = 0
                accumulator.lingerScheduled = false
            }
            return Array(accumulator.pending[accumulator.start...])
        }
        for entry in waiting { entry.completion(.failure(error)) }
    }

    private struct Batch: Sendable {
        var entries: [Pending]
        var bytes: [UInt8]
        var sequence: Int32
        /// The producer id and epoch the batch was written with (-1 without idempotence).
        var producerId: Int64
        var epoch: Int16
        /// A try of it went unanswered (or the broker timed out): the broker may hold it, so if it
        /// fails for good its sequences must not be handed to the batches after it.
        var mayBeStored = false
        /// Its first record's `deliveryTimeoutMs` runs out then.
        var deadline: ContinuousClock.Instant { entries.first?.deadline ?? .now }
    }

    /// Takes up to `maxInFlight` batches of waiting records, with consecutive sequences, and marks
    /// the partition as being sent; nil when nothing waits (or another drain sends it), no batch
    /// when the producer id was given up and a new one is needed first.
    private func takeBatches(_ topic: String, _ partition: Int32) -> [Batch]? {
        state.withLock { state -> [Batch]? in
            guard let accumulator = state.accumulators[topic]?[partition], !accumulator.inFlight,
                  accumulator.start < accumulator.pending.count else {
                state.accumulators[topic]?[partition]?.lingerScheduled = false
                return nil
            }
            if options.idempotent && state.producerId < 0 { return [] }
            let (producerId, epoch) = options.idempotent ? (state.producerId, state.epoch) : (-1, -1)
            var batches: [Batch] = []
            let inFlightMax = options.idempotent ? max(1, min(options.maxInFlight, 5)) : 1
            while batches.count < inFlightMax && accumulator.start < accumulator.pending.count {
                var size = 0
                var end = accumulator.start
                while end < accumulator.pending.count {
                    let record = accumulator.pending[end].record
                    let recordBytes = (record.key?.count ?? 0) + (record.value?.count ?? 0) + 32
                    if end > accumulator.start && size + recordBytes > options.batchBytesMax { break }
                    size += recordBytes
                    end += 1
                }
                let entries = Array(accumulator.pending[accumulator.start..<end])
                accumulator.start = end
                accumulator.bytes -= size
                let sequence = options.idempotent ? accumulator.nextSequence : -1
                if options.idempotent { accumulator.nextSequence = Self.sequence(after: sequence, entries.count) }
                batches.append(Batch(entries: entries, bytes: Self.encode(entries, sequence: sequence, producerId: producerId, epoch: epoch),
                                     sequence: sequence, producerId: producerId, epoch: epoch))
            }
            if accumulator.start > 4096 && accumulator.start * 2 > accumulator.pending.count {
                accumulator.pending.removeFirst(accumulator.start)
                accumulator.start = 0
            }
            accumulator.inFlight = true
            accumulator.lingerScheduled = false
            return batches
        }
    }

    private static func encode(_ entries: [Pending], sequence: Int32, producerId: Int64, epoch: Int16) -> [UInt8] {
        RecordBatch(producing: entries.map(\.record), producerId: producerId, producerEpoch: epoch, baseSequence: sequence).encoded()
    }

    private static func sequence(after sequence: Int32, _ count: Int) -> Int32 {
        Int32((Int64(sequence) + Int64(count)) % (Int64(Int32.max) + 1))
    }

    private func complete(_ topic: String, _ partition: Int32, _ batch: Batch, _ outcome: Result<Int64, ClientError>) {
        switch outcome {
        case let .success(base):
            for (index, entry) in batch.entries.enumerated() {
                entry.completion(.success(RecordMetadata(topic: topic, partition: partition, offset: base < 0 ? -1 : base + Int64(index))))
            }
        case let .failure(error):
            for entry in batch.entries { entry.completion(.failure(error)) }
        }
    }

    /// Sends batches to the partition's leader, all at once and in sequence order, and retries
    /// the ones that failed with a retriable error (with backoff, the same bytes and sequences,
    /// in the same order, to the leader of the moment) until they are stored, fail for good, or
    /// run out of tries or of `deliveryTimeoutMs`. A batch behind one that failed is refused as out
    /// of order by an idempotent broker: it goes again with the one before it. When a batch fails
    /// for good, the batches still to go after it take over its sequences, so the broker sees no
    /// gap — unless the broker may have stored it (a timeout, a broken connection): then reusing
    /// its sequences could make the broker take new records for a duplicate and drop them, so the
    /// batches after it fail too and the producer gets a new producer id (as Kafka's producer
    /// bumps its epoch), with sequences from 0.
    private func sendInOrder(_ topic: String, _ partition: Int32, _ batches: [Batch]) async {
        var pending = batches
        var attempt = 0
        var unknownTopic = 0
        var backoffMs = options.retryBackoffMs
        while !pending.isEmpty {
            let outcomes = await sendRound(topic, partition, pending)
            attempt += 1
            let retryStart = ContinuousClock.now + .milliseconds(backoffMs)
            var retry: [Batch] = []
            var gap: (sequence: Int32, retriedBefore: Int)?
            var unknown = false
            var givenUp: ClientError?
            for (sent, outcome) in zip(pending, outcomes) {
                var batch = sent
                guard case let .failure(error) = outcome else {
                    complete(topic, partition, batch, outcome)
                    continue
                }
                // An earlier try was stored after all (its answer lost): stored, where unknown.
                if error.kafkaCode == .duplicateSequenceNumber && batch.sequence >= 0 {
                    complete(topic, partition, batch, .success(-1))
                    continue
                }
                if error.mayHaveBeenStored { batch.mayBeStored = true }
                if let givenUp {
                    complete(topic, partition, batch, .failure(givenUp))
                    continue
                }
                if error.staleMetadata { client.invalidate(topic) }
                var retriable = error.isRetriable
                // UNKNOWN_TOPIC_OR_PARTITION while a new topic's metadata reaches every broker.
                if error.kafkaCode == .unknownTopicOrPartition && unknownTopic < 5 {
                    retriable = true
                    unknown = true
                }
                // Refused because a batch before it in this round was not stored: it goes again
                // with that one. Otherwise the broker's sequences and the producer's disagree.
                let behindAFailure = !retry.isEmpty || gap != nil
                if error.kafkaCode == .outOfOrderSequenceNumber && behindAFailure { retriable = true }
                if retriable && attempt <= options.retries && retryStart < batch.deadline {
                    retry.append(batch)
                } else {
                    complete(topic, partition, batch, .failure(error))
                    if batch.sequence >= 0 && (batch.mayBeStored || (error.producerOutOfStep && !behindAFailure)) {
                        givenUp = error
                        giveUpProducerId(batch.producerId)
                    } else if gap == nil && batch.sequence >= 0 {
                        gap = (batch.sequence, retry.count)
                    }
                }
            }
            if unknown { unknownTopic += 1 }
            if let gap, givenUp == nil {
                retry = Array(retry[..<gap.retriedBefore]) + resequence(topic, partition, Array(retry[gap.retriedBefore...]), from: gap.sequence)
            }
            pending = retry
            if !pending.isEmpty {
                try? await Task.sleep(for: .milliseconds(backoffMs))
                backoffMs = min(backoffMs * 2, max(options.retryBackoffMaxMs, options.retryBackoffMs))
            }
        }
    }

    /// Gives `batches` consecutive sequences from `first` (after a batch with sequence `first`
    /// failed for good), and the partition's next sequence after them.
    private func resequence(_ topic: String, _ partition: Int32, _ batches: [Batch], from first: Int32) -> [Batch] {
        state.withLock { state in
            var next = first
            let renumbered = batches.map { batch -> Batch in
                defer { next = Self.sequence(after: next, batch.entries.count) }
                return Batch(entries: batch.entries, bytes: Self.encode(batch.entries, sequence: next, producerId: batch.producerId, epoch: batch.epoch),
                             sequence: next, producerId: batch.producerId, epoch: batch.epoch)
            }
            // Unless the producer id changed meanwhile (the new one starts from 0).
            if batches.first.map({ $0.producerId == state.producerId }) ?? true { state.accumulators[topic]?[partition]?.nextSequence = next }
            return renumbered
        }
    }

    /// Gives up producer id `id` (if still in use): the next batches wait for a new one, and every
    /// partition's sequences start again from 0.
    private func giveUpProducerId(_ id: Int64) {
        state.withLock { state in
            guard state.producerId == id else { return }
            state.producerId = -1
            state.epoch = -1
            for accumulator in state.accumulators.values.flatMap(\.values) { accumulator.nextSequence = 0 }
        }
    }

    /// One try of each batch: Produce requests written in order on the leader's connection, and
    /// each one's outcome (the base offset, -1 with acks=0).
    private func sendRound(_ topic: String, _ partition: Int32, _ batches: [Batch]) async -> [Result<Int64, ClientError>] {
        let connection: BrokerConnection
        let version: Int16
        do throws(ClientError) {
            connection = try await client.leader(topic, partition, create: options.createTopics)
            version = try await client.version(of: ProduceRequest.self, on: connection)
        } catch {
            return batches.map { _ in .failure(error) }
        }
        let requests = batches.map { batch in
            ProduceRequest(acks: options.acks, timeoutMs: options.requestTimeoutMs, topicData: [
                .init(name: topic, partitionData: [.init(index: partition, records: RecordBytes(batch.bytes))]),
            ])
        }
        if options.acks == 0 {
            for request in requests {
                do throws(ClientError) { try connection.send(request, version: version) } catch { return batches.map { _ in .failure(error) } }
            }
            return batches.map { _ in .success(-1) }
        }
        // The broker may take the Produce's own timeout to answer: wait at least that, and a
        // second for the answer to come back, before taking the connection for broken.
        let timeoutMs = max(client.requestTimeoutMs, Int(options.requestTimeoutMs) + 1_000)
        let results = Mutex<(left: Int, outcomes: [Result<Int64, ClientError>])>((batches.count, batches.map { _ in .failure(.closed) }))
        return await withCheckedContinuation { continuation in
            for (index, request) in requests.enumerated() {
                connection.start(request, version: version, timeoutMs: timeoutMs) { frame in
                    let outcome = frame.flatMap { frame in Self.baseOffset(frame, version: version, topic: topic, partition: partition) }
                    let done = results.withLock { results -> [Result<Int64, ClientError>]? in
                        results.outcomes[index] = outcome
                        results.left -= 1
                        return results.left == 0 ? results.outcomes : nil
                    }
                    if let done { continuation.resume(returning: done) }
                }
            }
        }
    }

    private static func baseOffset(_ frame: [UInt8], version: Int16, topic: String, partition: Int32) -> Result<Int64, ClientError> {
        let response: ProduceResponse
        do { response = try Frames.decodeResponse(frame, to: ProduceRequest.self, version: version) } catch {
            return .failure(.protocolError("Produce v\(version) response: \(error)"))
        }
        let answered = response.responses.filter { $0.name == topic }.flatMap(\.partitionResponses)
        guard let result = answered.first(where: { $0.index == partition }) else { return .failure(.protocolError("Produce left out \(topic)[\(partition)]")) }
        guard result.errorCode == 0 else {
            return .failure(.kafka(code: result.errorCode, context: result.errorMessage ?? "producing to \(topic)[\(partition)]"))
        }
        return .success(result.baseOffset)
    }

    /// The topic's partition count from the client's metadata (the cache, asked again once
    /// `metadataMaxAgeMs` old: partitions added to the topic are used), kept for callback sends.
    private func partitionCount(_ topic: String) async throws(ClientError) -> Int {
        let count = try await client.partitions(of: topic, create: options.createTopics).count
        state.withLock { $0.partitionCounts[topic] = count }
        return count
    }

    /// Asks a topic's count again in the background, once at a time, for callback sends.
    private func refreshCount(_ topic: String) {
        guard state.withLock({ $0.refreshing.insert(topic).inserted }) else { return }
        Task {
            _ = try? await partitionCount(topic)
            state.withLock { _ = $0.refreshing.remove(topic) }
        }
    }

    private func ensureProducerId() async throws(ClientError) {
        guard state.withLock({ $0.producerId < 0 }) else { return }
        // A broker still loading its producer ids (COORDINATOR_LOAD_IN_PROGRESS) is asked again.
        let result = try await client.retrying { () async throws(ClientError) -> InitProducerIdResponse in
            let answer = try await client.callAny(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000))
            guard answer.errorCode == 0 else { throw .kafka(code: answer.errorCode, context: "InitProducerId") }
            return answer
        }
        state.withLock { state in
            if state.producerId < 0 {
                state.producerId = result.producerId
                state.epoch = result.producerEpoch
            }
        }
    }
}
