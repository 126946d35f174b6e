import Foundation
import SpoolBroker
import SpoolFormat
@testable import SpoolServer
import SpoolWire
import Testing

/// DeleteTopics entries Kafka's controller refuses with INVALID_REQUEST before it deletes anything
/// (`ControllerApis.deleteTopics`): one that gives both a name and an id, one that gives neither,
/// a name or an id given more than once, and a name whose topic's id the request also gives.
/// None of the topics they name is deleted; the request's other topics are.
@Suite struct DeleteTopicsInputsTests {
    private typealias Result = DeleteTopicsResponse.DeletableTopicResult

    /// A served broker with topics "a" and "b" ("jobs" too, from `Served`), and the id of "a".
    private func setUp() throws -> (Served, KafkaUUID) {
        let setup = try Served()
        try setup.broker.createTopic("a", partitions: 1)
        try setup.broker.createTopic("b", partitions: 1)
        return (setup, KafkaUUID(topicId: try #require(setup.broker.topicId("a"))))
    }

    private func delete(_ setup: Served, _ topics: [DeleteTopicsRequest.DeleteTopicState]) async throws -> [Result] {
        try await setup.call(DeleteTopicsRequest(topics: topics, timeoutMs: 1000), version: 6).responses
    }

    private func invalid(_ results: [Result], _ message: String) -> [Result] {
        results.filter { $0.errorCode == KafkaErrorCode.invalidRequest.rawValue && $0.errorMessage == message }
    }

    @Test func anEntryWithBothANameAndAnIdIsRefused() async throws {
        let (setup, id) = try setUp()
        defer { setup.remove() }
        let results = try await delete(setup, [.init(name: "a", topicId: id), .init(name: "b")])
        #expect(results.count == 2)
        let refused = invalid(results, "You may not specify both topic name and topic id.")
        #expect(refused.map(\.name) == ["a"] && refused.map(\.topicId) == [id], "\(results)")
        #expect(results.contains { $0.name == "b" && $0.errorCode == 0 })
        #expect(setup.broker.topicId("a") != nil, "the topic named with its id was deleted")
        #expect(setup.broker.topicId("b") == nil)
    }

    @Test func anEntryWithNeitherANameNorAnIdIsRefused() async throws {
        let (setup, _) = try setUp()
        defer { setup.remove() }
        let results = try await delete(setup, [.init(name: nil, topicId: .zero)])
        #expect(results.count == 1)
        let refused = invalid(results, "Neither topic name nor id were specified.")
        #expect(refused.count == 1 && refused.first?.name == nil && refused.first?.topicId == .zero, "\(results)")
    }

    @Test func aNameGivenTwiceIsAnsweredOnceAndNotDeleted() async throws {
        let (setup, _) = try setUp()
        defer { setup.remove() }
        let results = try await delete(setup, [.init(name: "a"), .init(name: "b"), .init(name: "a")])
        #expect(results.count == 2, "\(results)")
        let refused = invalid(results, "Duplicate topic name.")
        #expect(refused.map(\.name) == ["a"] && refused.map(\.topicId) == [.zero], "\(results)")
        #expect(setup.broker.topicId("a") != nil, "a name given twice was deleted")
        #expect(setup.broker.topicId("b") == nil)
    }

    @Test func anIdGivenTwiceIsAnsweredOnceAndNotDeleted() async throws {
        let (setup, id) = try setUp()
        defer { setup.remove() }
        let results = try await delete(setup, [.init(topicId: id), .init(topicId: id)])
        #expect(results.count == 1, "\(results)")
        let refused = invalid(results, "Duplicate topic id.")
        #expect(refused.map(\.name) == [nil] && refused.map(\.topicId) == [id], "\(results)")
        #expect(setup.broker.topicId("a") != nil, "an id given twice was deleted")
    }

    /// Kafka answers the name (with the id it maps to), and the id entry not at all.
    @Test func aNameWhoseIdIsAlsoGivenIsRefused() async throws {
        let (setup, id) = try setUp()
        defer { setup.remove() }
        let results = try await delete(setup, [.init(topicId: id), .init(name: "a")])
        #expect(results.count == 1, "\(results)")
        let refused = invalid(results, "The provided topic name maps to an ID that was already supplied.")
        #expect(refused.map(\.name) == ["a"] && refused.map(\.topicId) == [id], "\(results)")
        #expect(setup.broker.topicId("a") != nil, "a topic given by name and by id was deleted")
    }

    /// The controller checks the names of v0-5 (`topicNames`) for repeats too.
    @Test func aNameGivenTwiceBeforeV6IsRefused() async throws {
        let (setup, _) = try setUp()
        defer { setup.remove() }
        let results = try await setup.call(DeleteTopicsRequest(topicNames: ["a", "a", "b"], timeoutMs: 1000), version: 5).responses
        #expect(results.count == 2, "\(results)")
        #expect(invalid(results, "Duplicate topic name.").map(\.name) == ["a"], "\(results)")
        #expect(setup.broker.topicId("a") != nil)
        #expect(setup.broker.topicId("b") == nil)
    }
}
