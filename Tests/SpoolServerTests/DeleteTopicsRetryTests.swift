import Foundation
import Glibc
import SpoolBroker
import SpoolFormat
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
}
