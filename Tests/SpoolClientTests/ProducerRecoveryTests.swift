import Foundation
import SpoolClient
import SpoolFormat
import SpoolWire
import Synchronization
import Testing

/// The producer after failures a Kafka broker can answer with: its sequences must stay in step
/// with the broker's, so that no record is taken for a duplicate and dropped, and a partition is
/// never left refusing every later batch.
@Suite struct ProducerRecoveryTests {
    /// An idempotent partition as a Kafka broker keeps one: per producer id the next sequence and
    /// the batches stored (a batch sent again is answered with its first offset, not stored).
    final class IdempotentPartition: Sendable {
        enum Answer { case store(KafkaErrorCode), storeSilently, refuse(KafkaErrorCode) }
        struct State {
            var stored: [String] = []
            var next: [Int64: Int32] = [:]
            var batches: [Int64: [Int32: Int64]] = [:]
            var produces = 0
            var producerIds: Int64 = 0
        }
        let state = Mutex(State())
        /// What the broker does with the nth Produce (from 1) of producer id `id`.
        let script: @Sendable (_ produce: Int, _ id: Int64) -> Answer

        init(script: @escaping @Sendable (_ produce: Int, _ id: Int64) -> Answer = { _, _ in .store(.none) }) { self.script = script }

        var stored: [String] { state.withLock { $0.stored } }

        func broker() throws -> FakeBroker {
            try FakeBroker.producing(initProducerId: {
                InitProducerIdResponse(errorCode: 0, producerId: self.state.withLock { $0.producerIds += 1; return $0.producerIds }, producerEpoch: 0)
            }) { produce in
                guard let bytes = produce.topicData.first?.partitionData.first?.records?.bytes,
                      let batch = try? bytes.withUnsafeBytes({ raw throws(FormatError) in try RecordBatch(decoding: raw) }),
                      let (code, offset) = self.take(batch) else { return nil }
                return FakeBroker.produced(code, baseOffset: offset)
            }
        }

        /// The answer to a batch (nil: none is sent).
        private func take(_ batch: RecordBatch) -> (KafkaErrorCode, Int64)? {
            state.withLock { state in
                state.produces += 1
                let id = batch.producerId
                // A refusal comes first: the leader that moved holds nothing to compare with.
                let answer = script(state.produces, id)
                if case let .refuse(code) = answer { return (code, -1) }
                if let offset = state.batches[id]?[batch.baseSequence] { return (.none, offset) }
                guard batch.baseSequence == state.next[id, default: 0] else { return (.outOfOrderSequenceNumber, -1) }
                let offset = Int64(state.stored.count)
                state.stored += batch.records.map { String(decoding: $0.value ?? [], as: UTF8.self) }
                state.next[id] = batch.baseSequence + Int32(batch.records.count)
                state.batches[id, default: [:]][batch.baseSequence] = offset
                switch answer {
                case let .store(code): return (code, offset)
                case .storeSilently: return nil
                case .refuse: return nil
                }
            }
        }
    }

    /// Runs `body` with a producer (`options`) of a client of `broker`, and stops both after it.
    private func withProducer(_ broker: FakeBroker, requestTimeoutMs: Int = 5_000, options: Producer.Options = Producer.Options(),
                              _ body: (Producer) async throws -> Void) async throws {
        defer { broker.stop() }
        let client = try SpoolClient(bootstrap: broker.address, clientId: "test", requestTimeoutMs: requestTimeoutMs)
        defer { client.close() }
        try await body(Producer(client: client, options: options))
    }

    @Test func aBatchWhoseEarlierTryWentUnansweredDoesNotHandItsSequenceOn() async throws {
        // The first try is stored but its answer never comes; the retry is refused as the leader
        // moves, and no try is left. Had its sequence gone to the next record, the broker would
        // take that record for the stored batch and answer for it without storing it.
        let partition = IdempotentPartition { produce, _ in
            switch produce {
            case 1: .storeSilently
            case 2: .refuse(.notLeaderOrFollower)
            default: .store(.none)
            }
        }
        var options = Producer.Options()
        options.retries = 1
        try await withProducer(try partition.broker(), requestTimeoutMs: 300, options: options) { producer in
            await #expect(throws: ClientError.self) { _ = try await producer.send(topic: "jobs", key: nil, value: "first") }
            let second = try await producer.send(topic: "jobs", key: nil, value: "second")
            #expect(partition.stored == ["first", "second"])
            #expect(second.offset == 1)
        }
    }

    @Test func notEnoughReplicasAfterAppendIsRetriedAndAnsweredAsStored() async throws {
        // The leader appended the batch, then lost its in-sync replicas: the batch goes again and
        // is answered as stored, and the next record gets the next sequence.
        let partition = IdempotentPartition { produce, _ in produce == 1 ? .store(.notEnoughReplicasAfterAppend) : .store(.none) }
        try await withProducer(try partition.broker()) { producer in
            let first = try await producer.send(topic: "jobs", key: nil, value: "first")
            let second = try await producer.send(topic: "jobs", key: nil, value: "second")
            #expect(partition.stored == ["first", "second"])
            #expect(first.offset == 0 && second.offset == 1)
        }
    }

    @Test func aBrokerOutOfStepWithTheProducersSequencesGetsANewProducerId() async throws {
        // The broker holds producer id 1 further on than the producer does (its log lost a tail,
        // say): it refuses the first batch as out of order. The producer gives the id up, so the
        // records after it are stored under a new one, not refused for ever.
        let partition = IdempotentPartition { _, id in id == 1 ? .refuse(.outOfOrderSequenceNumber) : .store(.none) }
        let broker = try partition.broker()
        try await withProducer(broker) { producer in
            await #expect(throws: ClientError.self) { _ = try await producer.send(topic: "jobs", key: nil, value: "a") }
            _ = try await producer.send(topic: "jobs", key: nil, value: "b")
            _ = try await producer.send(topic: "jobs", key: nil, value: "c")
            #expect(partition.stored == ["b", "c"])
            // A new id at least (a drain and the next send may each ask for one at the same time).
            #expect(broker.requests(.initProducerId).count >= 2)
        }
    }

    @Test func aProducerIdStillLoadingIsAskedForAgain() async throws {
        let asked = Atomic(0)
        let broker = try FakeBroker.producing(initProducerId: {
            let first = asked.add(1, ordering: .relaxed).newValue == 1
            return InitProducerIdResponse(errorCode: first ? KafkaErrorCode.coordinatorLoadInProgress.rawValue : 0, producerId: first ? -1 : 4, producerEpoch: 0)
        }) { _ in FakeBroker.produced(baseOffset: 0) }
        try await withProducer(broker) { producer in
            let stored = try await producer.send(topic: "jobs", key: nil, value: "a")
            #expect(stored.offset == 0)
            #expect(asked.load(ordering: .relaxed) == 2)
        }
    }

    @Test func flushWaitsForTheBatchesAnotherDrainHasInFlight() async throws {
        let broker = try FakeBroker.producing { _ in
            Thread.sleep(forTimeInterval: 0.5)
            return FakeBroker.produced(baseOffset: 0)
        }
        try await withProducer(broker) { producer in
            try await producer.prepare(topic: "jobs")
            let acknowledged = Mutex<Result<RecordMetadata, ClientError>?>(nil)
            producer.send(topic: "jobs", key: nil, value: Array("a".utf8)) { result in acknowledged.withLock { $0 = result } }
            // The linger (5 ms) has sent the batch; its answer takes half a second.
            for _ in 0..<200 where broker.requests(.produce).isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            #expect(broker.requests(.produce).count == 1)
            await producer.flush()
            #expect(acknowledged.withLock { $0.map { (try? $0.get())?.offset } } == 0)
        }
    }

    @Test func theDeliveryTimeoutCountsFromEachSend() async throws {
        // The leader never takes anything. Ten records, a batch each, one batch in flight at a
        // time: once the first has spent the records' half second, the rest have no time left and
        // go once each, instead of each getting half a second of retries of its own.
        let broker = try FakeBroker.producing { _ in FakeBroker.produced(.notLeaderOrFollower, baseOffset: -1) }
        var options = Producer.Options()
        options.deliveryTimeoutMs = 500
        options.maxInFlight = 1
        options.retries = 1_000
        options.retryBackoffMaxMs = 100
        options.batchBytesMax = 1_000  // one record of 600 bytes per batch
        try await withProducer(broker, options: options) { producer in
            try await producer.prepare(topic: "jobs")
            let failed = Atomic(0)
            for index in 0..<10 {
                producer.send(topic: "jobs", key: nil, value: Array(("\(index)-" + String(repeating: "x", count: 600)).utf8), partition: 0) { result in
                    if case .failure = result { failed.add(1, ordering: .relaxed) }
                }
            }
            await producer.flush()
            #expect(failed.load(ordering: .relaxed) == 10)
            // About 6 tries of the first batch in its half second and one of each other; with half
            // a second per batch it was about 60.
            #expect(broker.requests(.produce).count <= 30, "\(broker.requests(.produce).count) Produce requests")
        }
    }

    @Test func aProduceMayTakeItsOwnTimeoutThoughTheClientsIsShorter() async throws {
        // The broker takes 700 ms to store the batch (within the Produce's 2 s); the client's
        // request timeout is 300 ms. The producer waits for the answer instead of dropping the
        // connection and failing a batch that is being stored.
        let broker = try FakeBroker.producing { _ in
            Thread.sleep(forTimeInterval: 0.7)
            return FakeBroker.produced(baseOffset: 0)
        }
        var options = Producer.Options()
        options.requestTimeoutMs = 2_000
        try await withProducer(broker, requestTimeoutMs: 300, options: options) { producer in
            let stored = try await producer.send(topic: "jobs", key: nil, value: "a")
            #expect(stored.offset == 0)
            #expect(broker.requests(.produce).count == 1)
        }
    }
}

