import Foundation
import Glibc
import SpoolBroker
import SpoolFormat
@testable import SpoolServer
import SpoolTestSupport
import SpoolWire
import Testing

/// A DeleteTopics that fails part way (a partition's file cannot be removed) answers
/// KAFKA_STORAGE_ERROR and hides the topic; the client's retry finishes the deletion, answering
/// KAFKA_STORAGE_ERROR while the disk still fails and success once it does not, rather than
/// UNKNOWN_TOPIC_OR_PARTITION for a topic it was never told was deleted.
@Suite struct DeleteTopicsRetryTests {
    @Test func aDeleteTopicsRetriedAfterAStorageErrorFinishesTheDeletion() async throws {
        let directory = NSTemporaryDirectory() + "spool-served-\(UUID().uuidString)"
        let disk = FaultInjectingFileSystem()
        let setup = Served(directory: directory, broker: try Broker.open(Served.config(directory), fileSystem: disk))
        defer { setup.remove() }
        try setup.broker.createTopic("jobs", partitions: 1)
        _ = try await setup.broker.produce(topic: "jobs", partition: 0, records: RecordBatch(producing: [ProducerRecord(value: [1], timestamp: 1)]).encoded(),
                                           acks: .all)
        let log = try #require(try FileManager.default.contentsOfDirectory(atPath: directory + "/jobs-0").first { $0.hasSuffix(".log") })
        disk.inject(.remove, errno: EIO, path: directory + "/jobs-0/" + log)
        func delete() async throws -> Int16? {
            try await setup.call(DeleteTopicsRequest(topicNames: ["jobs"], timeoutMs: 1000), version: 4).responses.first?.errorCode
        }
        #expect(try await delete() == KafkaErrorCode.kafkaStorageError.rawValue)
        #expect(try await delete() == KafkaErrorCode.kafkaStorageError.rawValue, "the retry was not tried again while the disk fails")
        #expect(disk.failures(of: .remove) == 2)
        disk.clear()
        #expect(try await delete() == 0, "the retry that finishes the deletion does not succeed")
        #expect(!FileManager.default.fileExists(atPath: directory + "/jobs-0"))
        #expect(try await delete() == KafkaErrorCode.unknownTopicOrPartition.rawValue)
    }

    /// A served topic "jobs" (one partition, one record) whose log file cannot be removed yet.
    private func topicWhoseDeletionWillFail() async throws -> (Served, FaultInjectingFileSystem, KafkaUUID) {
        let directory = NSTemporaryDirectory() + "spool-served-\(UUID().uuidString)"
        let disk = FaultInjectingFileSystem()
        let setup = Served(directory: directory, broker: try Broker.open(Served.config(directory), fileSystem: disk))
        try setup.broker.createTopic("jobs", partitions: 1)
        _ = try await setup.broker.produce(topic: "jobs", partition: 0, records: RecordBatch(producing: [ProducerRecord(value: [1], timestamp: 1)]).encoded(),
                                           acks: .all)
        let log = try #require(try FileManager.default.contentsOfDirectory(atPath: directory + "/jobs-0").first { $0.hasSuffix(".log") })
        disk.inject(.remove, errno: EIO, path: directory + "/jobs-0/" + log)
        let id = KafkaUUID(topicId: try #require(setup.broker.topicId("jobs")))
        #expect(id != .zero)
        return (setup, disk, id)
    }

    /// Kafka finds a topic by id until its deletion is done; so does the retry of a DeleteTopics
    /// v6 by id, which finishes the deletion left pending (before: UNKNOWN_TOPIC_ID, the
    /// deletion's leftovers kept until a restart).
    @Test func aDeleteTopicsByIdRetriedAfterAStorageErrorFinishesTheDeletion() async throws {
        let (setup, disk, id) = try await topicWhoseDeletionWillFail()
        defer { setup.remove() }
        func delete() async throws -> DeleteTopicsResponse.DeletableTopicResult? {
            try await setup.call(DeleteTopicsRequest(topics: [.init(topicId: id)], timeoutMs: 1000), version: 6).responses.first
        }
        let failed = try await delete()
        #expect(failed?.errorCode == KafkaErrorCode.kafkaStorageError.rawValue)
        #expect(failed?.name == "jobs" && failed?.topicId == id)
        let retried = try await delete()
        #expect(retried?.errorCode == KafkaErrorCode.kafkaStorageError.rawValue, "the retry by id was not tried again while the disk fails")
        #expect(retried?.name == "jobs" && retried?.topicId == id)
        #expect(disk.failures(of: .remove) == 2)
        disk.clear()
        let finished = try await delete()
        #expect(finished?.errorCode == 0, "the retry by id that finishes the deletion does not succeed")
        #expect(finished?.name == "jobs" && finished?.topicId == id)
        #expect(!FileManager.default.fileExists(atPath: setup.directory + "/jobs-0"))
        #expect(!FileManager.default.fileExists(atPath: setup.directory + "/topics/jobs.del"))
        let gone = try await delete()
        #expect(gone?.errorCode == KafkaErrorCode.unknownTopicId.rawValue)
        #expect(gone?.name == nil && gone?.topicId == id)
    }

    /// Kafka answers a DeleteTopics v6 by name with the topic's id (`ControllerApis.deleteTopics`);
    /// so does the retry that finishes a deletion left pending (before: the zero id).
    @Test func aDeleteTopicsByNameRetriedAfterAStorageErrorAnswersTheTopicsId() async throws {
        let (setup, disk, id) = try await topicWhoseDeletionWillFail()
        defer { setup.remove() }
        func delete() async throws -> DeleteTopicsResponse.DeletableTopicResult? {
            try await setup.call(DeleteTopicsRequest(topics: [.init(name: "jobs")], timeoutMs: 1000), version: 6).responses.first
        }
        let failed = try await delete()
        #expect(failed?.errorCode == KafkaErrorCode.kafkaStorageError.rawValue && failed?.topicId == id)
        let retried = try await delete()
        #expect(retried?.errorCode == KafkaErrorCode.kafkaStorageError.rawValue && retried?.topicId == id, "\(String(describing: retried))")
        disk.clear()
        let finished = try await delete()
        #expect(finished?.errorCode == 0)
        #expect(finished?.name == "jobs" && finished?.topicId == id, "the finishing retry answered \(String(describing: finished?.topicId))")
        let gone = try await delete()
        #expect(gone?.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue && gone?.topicId == .zero)
    }
}
