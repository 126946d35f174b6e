import Foundation
import SpoolClient
import SpoolFormat
import SpoolWire
import Synchronization
import Testing

/// The client's failure paths against scripted brokers (FakeBroker): what needs no cluster.
/// Tests/Cluster/cluster_cli.py covers the rest against librdkafka's 3-broker mock cluster.
@Suite struct ClusterFailureTests {
    @Test func aBrokerThatNeverAnswersFailsTheCallWithATimeoutAndTheNextCallReconnects() async throws {
        let silent = try FakeBroker { _, _ in nil }
        defer { silent.stop() }
        let client = try SpoolClient(bootstrap: silent.address, clientId: "test", requestTimeoutMs: 300)
        defer { client.close() }
        for attempt in 1...2 {
            let started = ContinuousClock.now
            var failure: ClientError?
            do { _ = try await client.metadata(topics: []) } catch { failure = error }
            let elapsed = ContinuousClock.now - started
            guard case let .timeout(what)? = failure else {
                Issue.record("expected a timeout, got \(String(describing: failure))")
                return
            }
            #expect(what.contains("ApiVersions") && what.contains(silent.address), "\(what)")
            // Not before the timeout; the upper bound only says it did not hang (a loaded machine
            // can hold the task well past 300 ms).
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(60), "attempt \(attempt) took \(elapsed)")
            // The timed-out connection was dropped: each call connects afresh.
            #expect(silent.accepted.load(ordering: .relaxed) == attempt)
        }
    }

    @Test func anApiTheBrokerDoesNotServeGivesAnErrorNamingItAndTheBroker() async throws {
        let broker = try FakeBroker { broker, request in
            switch request.body {
            case .apiVersions?: FakeBroker.apiVersions(missing: [.createTopics, .listGroups, .describeGroups])
            case let .metadata(metadata)?:
                // Auto-creation through Metadata, as librdkafka's mock cluster does it: 3 partitions.
                FakeBroker.metadata(brokers: [(1, broker.port)], topics: metadata.allowAutoTopicCreation ? [("fresh", [1, 1, 1])] : [])
            default: nil
            }
        }
        defer { broker.stop() }
        let client = try SpoolClient(bootstrap: broker.address, clientId: "test", requestTimeoutMs: 2_000)
        defer { client.close() }
        await #expect(throws: ClientError.unsupported(api: "ListGroups (API key 16)", broker: broker.address)) { try await client.listGroups() }
        let message = ClientError.unsupported(api: "ListGroups (API key 16)", broker: broker.address).description
        #expect(message.contains("ListGroups") && message.contains(broker.address))
        // Topic configs need CreateTopics; without configs the topic is auto-created.
        await #expect(throws: ClientError.self) { try await client.createTopic("fresh", partitions: 2, configs: ["retention.ms": "1000"]) }
        #expect(broker.requests(.createTopics).isEmpty)
        #expect(try await client.createTopic("fresh", partitions: 2) == 3)
        #expect(broker.requests(.metadata).contains { if case let .metadata(request)? = $0.body { request.allowAutoTopicCreation } else { false } })
    }

    @Test func aProduceAnsweredNotLeaderGoesAgainWithTheSameBatchToTheNewLeader() async throws {
        let leader = Mutex<Int32>(1)
        let cluster = try FakeCluster(brokers: 2) { node, request in
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions()
            case .metadata?: return node.metadata(topics: [("jobs", [leader.withLock { $0 }])])
            case .initProducerId?: return InitProducerIdResponse(errorCode: 0, producerId: 7, producerEpoch: 0)
            case .produce?:
                guard node.id == leader.withLock({ $0 }) else { return nil }
                if node.id == 1 {
                    // The leader moves to broker 2, and broker 1 says so.
                    leader.withLock { $0 = 2 }
                    return ProduceResponse(responses: [.init(name: "jobs", partitionResponses: [.init(index: 0, errorCode: KafkaErrorCode.notLeaderOrFollower.rawValue)])])
                }
                return ProduceResponse(responses: [.init(name: "jobs", partitionResponses: [.init(index: 0, errorCode: 0, baseOffset: 42)])])
            default: return nil
            }
        }
        defer { cluster.stop() }
        let (first, second) = (cluster.brokers[0], cluster.brokers[1])
        let client = try SpoolClient(bootstrap: first.address, clientId: "test", requestTimeoutMs: 5_000)
        defer { client.close() }
        let producer = Producer(client: client)
        let stored = try await producer.send(topic: "jobs", key: "k", value: "v")
        #expect(stored.topic == "jobs" && stored.partition == 0 && stored.offset == 42)
        let tries = (first.requests(.produce) + second.requests(.produce)).compactMap { request -> [UInt8]? in
            guard case let .produce(produce)? = request.body else { return nil }
            return produce.topicData.first?.partitionData.first?.records.map { Array($0.bytes) }
        }
        #expect(first.requests(.produce).count == 1 && second.requests(.produce).count == 1)
        // The same bytes both times: the same producer id, epoch and sequence.
        #expect(tries.count == 2 && tries[0] == tries[1])
    }

    @Test func batchesInFlightGoAgainInSequenceOrderAfterARetriableError() async throws {
        // The broker checks sequences as an idempotent Kafka broker does, and refuses the first
        // Produce with NOT_LEADER_OR_FOLLOWER: the batches sent behind it are then refused as out
        // of order, and must all go again, in order, each stored once.
        let log = Mutex<(next: Int32, refused: Bool, stored: [String], tries: Int)>((0, false, [], 0))
        let broker = try FakeBroker { broker, request in
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions()
            case .metadata?: return FakeBroker.metadata(brokers: [(1, broker.port)], topics: [("jobs", [1])])
            case .initProducerId?: return InitProducerIdResponse(errorCode: 0, producerId: 9, producerEpoch: 0)
            case let .produce(produce)?:
                guard let bytes = produce.topicData.first?.partitionData.first?.records?.bytes,
                      let batch = try? bytes.withUnsafeBytes({ raw throws(FormatError) in try RecordBatch(decoding: raw) }) else { return nil }
                let code = log.withLock { log -> KafkaErrorCode in
                    log.tries += 1
                    if !log.refused {
                        log.refused = true
                        return .notLeaderOrFollower
                    }
                    guard batch.baseSequence == log.next else { return .outOfOrderSequenceNumber }
                    log.next = batch.baseSequence + Int32(batch.records.count)
                    log.stored += batch.records.map { String(decoding: $0.value ?? [], as: UTF8.self) }
                    return .none
                }
                return ProduceResponse(responses: [.init(name: "jobs", partitionResponses: [
                    .init(index: 0, errorCode: code.rawValue, baseOffset: Int64(batch.baseSequence)),
                ])])
            default: return nil
            }
        }
        defer { broker.stop() }
        let values = try await sendTwelveBatches(to: broker, idempotent: true)
        #expect(log.withLock { $0.stored } == values)
        // The first send carried at least two batches (a batch is sent once two records wait):
        // the refused one and one refused behind it as out of order, both sent again.
        #expect(log.withLock { $0.tries } >= values.count + 2)
    }

    @Test func withoutIdempotenceARetriedBatchIsStoredBeforeTheOnesAfterIt() async throws {
        // A broker without sequence checks (a non-idempotent producer has none) refuses the first
        // Produce with NOT_LEADER_OR_FOLLOWER and stores every other in the order it arrives.
        // Batches sent behind the refused one would be stored before it is sent again, so the
        // records must arrive one batch at a time, in order.
        let log = Mutex<(refused: Bool, stored: [String], sequences: Set<Int32>)>((false, [], []))
        let broker = try FakeBroker { broker, request in
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions()
            case .metadata?: return FakeBroker.metadata(brokers: [(1, broker.port)], topics: [("jobs", [1])])
            case let .produce(produce)?:
                guard let bytes = produce.topicData.first?.partitionData.first?.records?.bytes,
                      let batch = try? bytes.withUnsafeBytes({ raw throws(FormatError) in try RecordBatch(decoding: raw) }) else { return nil }
                let code = log.withLock { log -> KafkaErrorCode in
                    log.sequences.insert(batch.baseSequence)
                    if !log.refused {
                        log.refused = true
                        return .notLeaderOrFollower
                    }
                    // The record's name, without the padding that makes it a batch of its own.
                    log.stored += batch.records.map { String(decoding: ($0.value ?? []).prefix { $0 != UInt8(ascii: "x") }, as: UTF8.self) }
                    return .none
                }
                return ProduceResponse(responses: [.init(name: "jobs", partitionResponses: [
                    .init(index: 0, errorCode: code.rawValue, baseOffset: 0),
                ])])
            default: return nil
            }
        }
        defer { broker.stop() }
        _ = try await sendTwelveBatches(to: broker, idempotent: false)
        #expect(log.withLock { $0.stored } == (0..<12).map { "record-\($0)-" })
        // No producer id, so no sequences: every batch went without one.
        #expect(log.withLock { $0.sequences } == [-1])
    }

    @Test func aGroupIsDescribedFromItsNewCoordinatorAfterNotCoordinatorAndWithoutDescribeGroups() async throws {
        // Broker 1 leads jobs[0] and first coordinates the group; it answers OffsetFetch with
        // NOT_COORDINATOR, after which FindCoordinator names broker 2. Neither serves DescribeGroups.
        let coordinator = Mutex<Int32>(1)
        let cluster = try FakeCluster(brokers: 2) { node, request in
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions(missing: [.describeGroups])
            case .metadata?: return node.metadata(topics: [("jobs", [1])])
            case .findCoordinator?:
                let found = coordinator.withLock { $0 }
                return FindCoordinatorResponse(errorCode: 0, nodeId: found, host: "127.0.0.1", port: node.ports[found] ?? 0)
            case .offsetFetch?:
                guard node.id == coordinator.withLock({ $0 }), node.id == 2 else {
                    coordinator.withLock { $0 = 2 }
                    return OffsetFetchResponse(errorCode: KafkaErrorCode.notCoordinator.rawValue)
                }
                return OffsetFetchResponse(topics: [.init(name: "jobs", partitions: [.init(partitionIndex: 0, committedOffset: 5, errorCode: 0)])])
            case .listOffsets?:
                // Only the partition's leader answers.
                let code = node.id == 1 ? KafkaErrorCode.none : .notLeaderOrFollower
                return ListOffsetsResponse(topics: [.init(name: "jobs", partitions: [.init(partitionIndex: 0, errorCode: code.rawValue, offset: 9)])])
            default: return nil
            }
        }
        defer { cluster.stop() }
        let (first, second) = (cluster.brokers[0], cluster.brokers[1])
        // Bootstrap from broker 2, which leads nothing.
        let client = try SpoolClient(bootstrap: second.address, clientId: "test", requestTimeoutMs: 5_000)
        defer { client.close() }
        let report = try await client.describeGroup("workers")
        #expect(!report.membersKnown && report.members.isEmpty && report.state == "unknown")
        #expect(report.partitions.count == 1)
        if let partition = report.partitions.first {
            #expect(partition.topic == "jobs" && partition.partition == 0 && partition.owner == nil)
            #expect(partition.committed == 5 && partition.endOffset == 9 && partition.lag == 4)
        }
        #expect(first.requests(.offsetFetch).count == 1 && second.requests(.offsetFetch).count == 1)
        #expect(first.requests(.listOffsets).count == 1 && second.requests(.listOffsets).isEmpty)
        #expect((first.requests(.describeGroups) + second.requests(.describeGroups)).isEmpty)
    }

    @Test func aBatchThatMayHaveBeenStoredIsNotFollowedByItsSequencesButByANewProducerId() async throws {
        // The first Produce gets no answer (the broker may have stored it). Reusing its sequence for
        // the next record could make a broker take that record for a duplicate and drop it; the
        // producer takes a new producer id instead.
        let ids = Mutex<Int64>(0)
        let batches = Mutex<[RecordBatch]>([])
        let broker = try FakeBroker { broker, request in
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions()
            case .metadata?: return FakeBroker.metadata(brokers: [(1, broker.port)], topics: [("jobs", [1])])
            case .initProducerId?: return InitProducerIdResponse(errorCode: 0, producerId: ids.withLock { $0 += 1; return $0 }, producerEpoch: 0)
            case let .produce(produce)?:
                guard let bytes = produce.topicData.first?.partitionData.first?.records?.bytes,
                      let batch = try? bytes.withUnsafeBytes({ raw throws(FormatError) in try RecordBatch(decoding: raw) }) else { return nil }
                let count = batches.withLock { $0.append(batch); return $0.count }
                guard count > 1 else { return nil }
                return ProduceResponse(responses: [.init(name: "jobs", partitionResponses: [.init(index: 0, errorCode: 0, baseOffset: 1)])])
            default: return nil
            }
        }
        defer { broker.stop() }
        let client = try SpoolClient(bootstrap: broker.address, clientId: "test", requestTimeoutMs: 300)
        defer { client.close() }
        var options = Producer.Options()
        options.retries = 0
        let producer = Producer(client: client, options: options)
        await #expect { _ = try await producer.send(topic: "jobs", key: nil, value: "first") } throws: { error in
            guard case .timeout = error as? ClientError else { return false }
            return true
        }
        _ = try await producer.send(topic: "jobs", key: nil, value: "second")
        let sent = batches.withLock { $0 }
        #expect(sent.count == 2)
        // A new id (how many the producer asked for on the way depends on timing; any new one will do).
        #expect(sent.count == 2 && sent[0].producerId == 1 && sent[1].producerId > 1, "\(sent.map(\.producerId))")
        #expect(sent.map(\.baseSequence) == [0, 0])
    }

    @Test func errorsNameTheirKafkaCode() {
        let error = ClientError.kafka(code: 6, context: "offsets of mc[0]")
        #expect(error.description == "offsets of mc[0]: NOT_LEADER_OR_FOLLOWER (6)")
        #expect(error.kafkaCode == .notLeaderOrFollower && error.isRetriable)
        #expect(!ClientError.kafka(code: KafkaErrorCode.topicAlreadyExists.rawValue, context: "t").isRetriable)
    }

    /// Sends 12 records of 600 bytes to jobs[0], a batch each, with `idempotent` on or off, and
    /// expects each to be acknowledged; returns them, in the order sent.
    private func sendTwelveBatches(to broker: FakeBroker, idempotent: Bool) async throws -> [String] {
        let client = try SpoolClient(bootstrap: broker.address, clientId: "test", requestTimeoutMs: 5_000)
        defer { client.close() }
        var options = Producer.Options()
        options.idempotent = idempotent
        options.batchBytesMax = 1_000  // one record of 600 bytes per batch
        let producer = Producer(client: client, options: options)
        try await producer.prepare(topic: "jobs")
        let values = (0..<12).map { "record-\($0)-" + String(repeating: "x", count: 600) }
        let acknowledged = Mutex<[Int: Result<RecordMetadata, ClientError>]>([:])
        for (index, value) in values.enumerated() {
            producer.send(topic: "jobs", key: nil, value: Array(value.utf8), partition: 0) { result in acknowledged.withLock { $0[index] = result } }
        }
        await producer.flush()
        for _ in 0..<500 where acknowledged.withLock({ $0.count }) < values.count { try await Task.sleep(for: .milliseconds(10)) }
        let results = acknowledged.withLock { $0 }
        #expect(results.count == values.count)
        #expect(results.values.allSatisfy { (try? $0.get()) != nil }, "\(results.values.filter { (try? $0.get()) == nil })")
        return values
    }
}
