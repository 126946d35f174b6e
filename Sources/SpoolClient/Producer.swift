import Foundation
import SpoolFormat
import SpoolWire
import Synchronization

/// A Kafka producer: records are batched per partition (until `batchBytesMax` or `lingerMs`),
/// sent with the chosen acks, retried with backoff on retriable errors, and — idempotence being on
/// by default — never stored twice by a retry. Keys pick partitions with murmur2, as Kafka's Java
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
        public var retries = 8
        public var retryBackoffMs = 100
        public var requestTimeoutMs: Int32 = 30_000
        /// Create a missing topic on first send (if the cluster allows).
        public var createTopics = true
        public init() {}
    }

    private struct Pending {
        var record: ProducerRecord
        var completion: @Sendable (Result<RecordMetadata, ClientError>) -> Void
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
        let placed = partition ?? choose(topic: topic, key: key, count: count)
        guard placed >= 0 && Int(placed) < count else {
            completion(.failure(.kafka(code: 3, context: "\(topic)[\(placed)]")))
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
            guard partition >= 0 && Int(partition) < count else { throw .kafka(code: 3, context: "\(topic)[\(partition)]") }
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
            accumulator.pending.append(Pending(record: record, completion: completion))
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

    /// Sends whatever is waiting now, without waiting for the linger.
    public func flush() async {
        let all = state.withLock { state in state.accumulators.flatMap { topic, partitions in partitions.keys.map { (topic, $0) } } }
        await withTaskGroup(of: Void.self) { group in
            for (topic, partition) in all { group.addTask { await self.drain(topic, partition) } }
        }
    }

    /// Sends what is waiting; later sends fail with `.closed`.
    public func close() async {
        await flush()
        state.withLock { $0.closed = true }
    }

    // MARK: - Sending batches

    /// Sends the waiting records of one partition as one batch, if none is in flight there; then
    /// the next, until nothing waits.
    private func drain(_ topic: String, _ partition: Int32) async {
        while let batch = takeBatch(topic, partition) {
            let outcome = await sendWithRetries(topic, partition, batch)
            finish(topic, partition, batch, outcome)
        }
    }

    private struct Batch {
        var entries: [Pending]
        var bytes: [UInt8]
        var sequence: Int32
    }

    private func takeBatch(_ topic: String, _ partition: Int32) -> Batch? {
        state.withLock { state -> Batch? in
            guard let accumulator = state.accumulators[topic]?[partition], !accumulator.inFlight,
                  accumulator.start < accumulator.pending.count else {
                state.accumulators[topic]?[partition]?.lingerScheduled = false
                return nil
            }
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
            if accumulator.start > 4096 && accumulator.start * 2 > accumulator.pending.count {
                accumulator.pending.removeFirst(accumulator.start)
                accumulator.start = 0
            }
            accumulator.bytes -= size
            accumulator.inFlight = true
            accumulator.lingerScheduled = false
            let sequence = options.idempotent ? accumulator.nextSequence : -1
            let bytes = RecordBatch(producing: entries.map(\.record), producerId: options.idempotent ? state.producerId : -1,
                                    producerEpoch: options.idempotent ? state.epoch : -1, baseSequence: sequence).encoded()
            return Batch(entries: entries, bytes: bytes, sequence: sequence)
        }
    }

    private func finish(_ topic: String, _ partition: Int32, _ batch: Batch, _ outcome: Result<Int64, ClientError>) {
        state.withLock { state in
            let accumulator = state.accumulators[topic]?[partition]
            accumulator?.inFlight = false
            if case .success = outcome, options.idempotent {
                let next = Int64(batch.sequence) + Int64(batch.entries.count)
                accumulator?.nextSequence = Int32(next % (Int64(Int32.max) + 1))
            }
        }
        switch outcome {
        case let .success(base):
            for (index, entry) in batch.entries.enumerated() {
                entry.completion(.success(RecordMetadata(topic: topic, partition: partition, offset: base < 0 ? -1 : base + Int64(index))))
            }
        case let .failure(error):
            for entry in batch.entries { entry.completion(.failure(error)) }
        }
    }

    /// One batch to its partition's leader, retried with exponential backoff on retriable errors.
    /// The bytes (and so the sequence) are the same on every try, so the broker stores them once.
    private func sendWithRetries(_ topic: String, _ partition: Int32, _ batch: Batch) async -> Result<Int64, ClientError> {
        var attempt = 0
        while true {
            do throws(ClientError) {
                let connection = try await client.leader(topic, partition, create: options.createTopics)
                let request = ProduceRequest(acks: options.acks, timeoutMs: options.requestTimeoutMs, topicData: [
                    .init(name: topic, partitionData: [.init(index: partition, records: RecordBytes(batch.bytes))]),
                ])
                if options.acks == 0 {
                    try connection.send(request, version: ClientVersions.produce)
                    return .success(-1)
                }
                let response = try await client.call(connection, request, version: ClientVersions.produce)
                let answered = response.responses.filter { $0.name == topic }.flatMap(\.partitionResponses)
                guard let result = answered.first(where: { $0.index == partition }) else { throw .protocolError("Produce left out \(topic)[\(partition)]") }
                guard result.errorCode == 0 else {
                    throw .kafka(code: result.errorCode, context: result.errorMessage ?? "producing to \(topic)[\(partition)]")
                }
                return .success(result.baseOffset)
            } catch {
                attempt += 1
                client.invalidate(topic)
                // UNKNOWN_TOPIC_OR_PARTITION right after auto-creation is retriable too.
                var retriable = error.isRetriable
                if case .kafka(code: 3, _) = error { retriable = true }
                guard retriable, attempt <= options.retries else { return .failure(error) }
                let backoff = min(options.retryBackoffMs << min(attempt - 1, 6), 10_000)
                try? await Task.sleep(for: .milliseconds(backoff))
            }
        }
    }

    private func partitionCount(_ topic: String) async throws(ClientError) -> Int {
        if let count = state.withLock({ $0.partitionCounts[topic] }) { return count }
        let count = try await client.partitions(of: topic, create: options.createTopics).count
        state.withLock { $0.partitionCounts[topic] = count }
        return count
    }

    private func ensureProducerId() async throws(ClientError) {
        guard state.withLock({ $0.producerId < 0 }) else { return }
        let result = try await client.callAny(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000),
                                              version: ClientVersions.initProducerId)
        guard result.errorCode == 0 else { throw .kafka(code: result.errorCode, context: "InitProducerId") }
        state.withLock { state in
            if state.producerId < 0 {
                state.producerId = result.producerId
                state.epoch = result.producerEpoch
            }
        }
    }
}
