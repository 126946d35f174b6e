import Foundation
import SpoolClient
import SpoolFormat
import SpoolWire
import Synchronization
import Testing

/// CreateTopics and DeleteTopics against a controller that moves or a connection that breaks.
@Suite struct AdminRetryTests {
    /// What the fake controller does with one CreateTopics or DeleteTopics.
    enum Answer: Sendable {
        case code(KafkaErrorCode)
        /// The request is taken (the topic created or deleted) but the connection breaks before the answer.
        case dropped
    }

    /// A one-broker cluster (its own controller) answering CreateTopics and DeleteTopics with
    /// `answers` in turn.
    private static func controller(_ answers: [Answer]) throws -> FakeBroker {
        let next = Atomic(0)
        return try FakeBroker { broker, request in
            func answer() -> KafkaErrorCode? {
                switch answers[min(next.add(1, ordering: .relaxed).oldValue, answers.count - 1)] {
                case let .code(code): return code
                case .dropped:
                    broker.dropConnections()
                    return nil
                }
            }
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions()
            case .metadata?: return FakeBroker.metadata(brokers: [(1, broker.port)], topics: [])
            case .createTopics?: return answer().map { CreateTopicsResponse(topics: [.init(name: "jobs", errorCode: $0.rawValue)]) }
            case .deleteTopics?: return answer().map { DeleteTopicsResponse(responses: [.init(name: "jobs", errorCode: $0.rawValue)]) }
            default: return nil
            }
        }
    }

    private static func client(_ broker: FakeBroker) throws -> SpoolClient {
        try SpoolClient(bootstrap: broker.address, clientId: "test", requestTimeoutMs: 3_000)
    }

    /// Creates then deletes "jobs" against a controller answering `answers`: both succeed, each
    /// after a second try.
    private static func createAndDeleteSucceedOnTheSecondTry(_ answers: [Answer]) async throws {
        let broker = try Self.controller(answers)
        defer { broker.stop() }
        let client = try Self.client(broker)
        defer { client.close() }
        #expect(try await client.createTopic("jobs", partitions: 2) == 2)
        try await client.deleteTopic("jobs")
        #expect(broker.requests(.createTopics).count == 2 && broker.requests(.deleteTopics).count == 2)
    }

    @Test func notControllerFindsTheControllerAgainAndRetries() async throws {
        try await Self.createAndDeleteSucceedOnTheSecondTry([.code(.notController), .code(.none), .code(.notController), .code(.none)])
    }

    @Test func aRetryAfterABrokenConnectionFindingTheWorkDoneIsASuccess() async throws {
        try await Self.createAndDeleteSucceedOnTheSecondTry([.dropped, .code(.topicAlreadyExists), .dropped, .code(.unknownTopicOrPartition)])
    }

    @Test func theFirstTryFindingTheTopicThereOrGoneStillFails() async throws {
        let broker = try Self.controller([.code(.topicAlreadyExists), .code(.unknownTopicOrPartition)])
        defer { broker.stop() }
        let client = try Self.client(broker)
        defer { client.close() }
        let exists = await #expect(throws: ClientError.self) { try await client.createTopic("jobs") }
        #expect(exists?.kafkaCode == .topicAlreadyExists)
        let missing = await #expect(throws: ClientError.self) { try await client.deleteTopic("jobs") }
        #expect(missing?.kafkaCode == .unknownTopicOrPartition)
    }
}
