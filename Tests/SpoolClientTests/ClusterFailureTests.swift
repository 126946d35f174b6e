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
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(3), "attempt \(attempt) took \(elapsed)")
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
        let ports = Mutex<[Int32: Int32]>([:])
        let handler: FakeBroker.Handler = { broker, request in
            let node = ports.withLock { ports in ports.first { $0.value == broker.port }?.key } ?? 0
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions()
            case .metadata?:
                return FakeBroker.metadata(brokers: ports.withLock { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } },
                                           topics: [("jobs", [leader.withLock { $0 }])])
            case .initProducerId?: return InitProducerIdResponse(errorCode: 0, producerId: 7, producerEpoch: 0)
            case .produce?:
                guard node == leader.withLock({ $0 }) else { return nil }
                if node == 1 {
                    // The leader moves to broker 2, and broker 1 says so.
                    leader.withLock { $0 = 2 }
                    return ProduceResponse(responses: [.init(name: "jobs", partitionResponses: [.init(index: 0, errorCode: KafkaErrorCode.notLeaderOrFollower.rawValue)])])
                }
                return ProduceResponse(responses: [.init(name: "jobs", partitionResponses: [.init(index: 0, errorCode: 0, baseOffset: 42)])])
            default: return nil
            }
        }
        let first = try FakeBroker(handler)
        let second = try FakeBroker(handler)
        defer {
            first.stop()
            second.stop()
        }
        ports.withLock { $0 = [1: first.port, 2: second.port] }
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

    @Test func errorsNameTheirKafkaCode() {
        let error = ClientError.kafka(code: 6, context: "offsets of mc[0]")
        #expect(error.description == "offsets of mc[0]: NOT_LEADER_OR_FOLLOWER (6)")
        #expect(error.kafkaCode == .notLeaderOrFollower && error.isRetriable)
        #expect(!ClientError.kafka(code: KafkaErrorCode.topicAlreadyExists.rawValue, context: "t").isRetriable)
    }
}
