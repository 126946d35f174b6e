import Foundation
import Glibc
import SpoolBroker
import SpoolFormat
import SpoolTestSupport
import Testing

/// A topic deletion that failed part way leaves its marker in `DATA/topics`, and the next start
/// finishes it. A topic created under the same name meanwhile must not be what that finishing
/// removes, and the deleted topic's directories must not become the new topic's.
@Suite struct PendingTopicDeletionTests {
    private func isStorageError(_ error: any Error) -> Bool { (error as? BrokerError)?.code == .kafkaStorageError }

    /// A broker over a fault-injecting disk holding topic `jobs` (records "old-N" in its last
    /// partition, and a group's offset for them), whose deletion meets the faults `inject` sets,
    /// fails with a storage error and leaves its marker.
    private func failedDeletion(_ data: TestDataDirectory, partitions: Int,
                                inject: (FaultInjectingFileSystem) throws -> Void) async throws -> (Broker, FaultInjectingFileSystem) {
        let disk = FaultInjectingFileSystem()
        let broker = try Broker.open(data.config(), fileSystem: disk)
        try broker.createTopic("jobs", partitions: partitions)
        let last = Int32(partitions - 1)
        _ = try await broker.produce(topic: "jobs", partition: last, records: batch("old"), acks: .all)
        try await broker.storeOffsets(group: "g", [TopicPartition("jobs", last): CommittedOffset(offset: 2)])
        try inject(disk)
        await #expect { try await broker.deleteTopic("jobs") } throws: { isStorageError($0) }
        #expect(FileManager.default.fileExists(atPath: data.path + "/topics/jobs.del"), "the deletion's marker was removed")
        // The topic is gone all the same (its deletion is on disk): nothing shows it or reads it.
        #expect(broker.partitionCount("jobs") == nil)
        #expect(!broker.listTopics().map(\.name).contains("jobs"))
        #expect(broker.committedOffsets(group: "g") == [:])
        #expect(broker.groupsWithOffsets().isEmpty, "the deleted topic's offsets still show")
        return (broker, disk)
    }

    @Test("a topic created under the name of one whose deletion failed part way keeps its records through a restart")
    func recreatedTopicSurvivesAnUnfinishedDeletion() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        // The removal of the partitions never reaches the disk: the data directory's sync fails.
        let (broker, disk) = try await failedDeletion(data, partitions: 2) { $0.inject(.open, errno: EIO, times: 1, path: data.path) }
        #expect(disk.failures(of: .open) == 1)

        try broker.createTopic("jobs", partitions: 1)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("new"), acks: .all)
        try broker.close()

        let restarted = try Broker.open(data.config(), fileSystem: disk)
        defer { try? restarted.close() }
        #expect(restarted.partitionCount("jobs") == 1)
        #expect(try await values(restarted, "jobs") == ["new-0", "new-1"], "the restart removed the new topic's records")
        #expect(!FileManager.default.fileExists(atPath: data.path + "/jobs-1"))
    }

    @Test("a deletion that cannot remove a partition's file fails and keeps its marker; retried, it fails while the fault lasts and then finishes; the topic created again serves none of the deleted records")
    func deletionThatCannotRemoveAFileKeepsItsMarkerUntilARetryFinishesIt() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let (broker, disk) = try await failedDeletion(data, partitions: 1) { disk in
            let log = try #require(try FileManager.default.contentsOfDirectory(atPath: data.path + "/jobs-0").first { $0.hasSuffix(".log") })
            disk.inject(.remove, errno: EIO, path: data.path + "/jobs-0/" + log)
        }
        defer { try? broker.close() }
        #expect(disk.failures(of: .remove) == 1)
        // While the file cannot be removed, the name cannot be taken again.
        #expect { try broker.createTopic("jobs", partitions: 1) } throws: { isStorageError($0) }
        #expect(broker.partitionCount("jobs") == nil)
        // The client retries its DeleteTopics (answered KAFKA_STORAGE_ERROR): the deletion is tried
        // again, not answered UNKNOWN_TOPIC_OR_PARTITION, and fails again while the fault lasts.
        await #expect { try await broker.deleteTopic("jobs") } throws: { isStorageError($0) }
        #expect(disk.failures(of: .remove) == 3, "the retried deletion did not try to remove the file again")
        #expect(FileManager.default.fileExists(atPath: data.path + "/topics/jobs.del"))

        disk.clear()
        try await broker.deleteTopic("jobs")
        #expect(!FileManager.default.fileExists(atPath: data.path + "/topics/jobs.del"))
        #expect(!FileManager.default.fileExists(atPath: data.path + "/jobs-0"))
        // Finished: a deletion of the name now finds no topic.
        await #expect(throws: BrokerError.unknownTopicOrPartition(topic: "jobs", partition: nil)) { try await broker.deleteTopic("jobs") }
        try broker.createTopic("jobs", partitions: 1)
        #expect(try await values(broker, "jobs").isEmpty, "the new topic serves the deleted one's records")
        #expect(broker.committedOffsets(group: "g") == [:])
    }

    @Test("a deletion by id finishes the topic's deletion left pending, as by name; it never finishes a marker whose name a stored topic has")
    func deletionByIdFinishesADeletionLeftPending() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let (broker, disk) = try await failedDeletion(data, partitions: 1) { disk in
            let log = try #require(try FileManager.default.contentsOfDirectory(atPath: data.path + "/jobs-0").first { $0.hasSuffix(".log") })
            disk.inject(.remove, errno: EIO, path: data.path + "/jobs-0/" + log)
        }
        defer { try? broker.close() }
        let id = try #require(broker.pendingDeletionId("jobs"))
        #expect(broker.topicName(id: id) == nil)
        #expect(broker.pendingDeletionName(id: id.lowercased()) == "jobs")
        await #expect { try await broker.deleteTopic(id: id) } throws: { isStorageError($0) }
        #expect(disk.failures(of: .remove) == 2, "the deletion by id did not try to remove the file again")
        disk.clear()
        #expect(try await broker.deleteTopic(id: id.lowercased()) == "jobs")
        #expect(!FileManager.default.fileExists(atPath: data.path + "/topics/jobs.del"))
        #expect(!FileManager.default.fileExists(atPath: data.path + "/jobs-0"))
        await #expect(throws: BrokerError.unknownTopicId(id)) { try await broker.deleteTopic(id: id) }

        // A marker beside a stored topic of its name (as earlier versions could leave): finishing
        // it would remove the stored topic's partitions, so its id is unknown.
        try broker.createTopic("jobs", partitions: 1)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("new"), acks: .all)
        var marker = try JSONDecoder().decode(TopicMetadata.self, from: Data(contentsOf: URL(fileURLWithPath: data.path + "/topics/jobs.topic")))
        marker.id = UUID().uuidString
        try JSONEncoder().encode(marker).write(to: URL(fileURLWithPath: data.path + "/topics/jobs.del"))
        await #expect(throws: BrokerError.unknownTopicId(marker.id)) { try await broker.deleteTopic(id: marker.id) }
        #expect(try await values(broker, "jobs") == ["new-0", "new-1"])
        // By the stored topic's id, the stored topic is deleted.
        #expect(try await broker.deleteTopic(id: try #require(broker.topicId("jobs"))) == "jobs")
        #expect(broker.partitionCount("jobs") == nil)
        #expect(!FileManager.default.fileExists(atPath: data.path + "/jobs-0"))
    }

    @Test("a deletion that cannot list a partition's directory fails and keeps its marker; the next start finishes it")
    func deletionThatCannotListADirectoryIsFinishedAtTheNextStart() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let (broker, disk) = try await failedDeletion(data, partitions: 2) { $0.inject(.list, errno: EMFILE, path: data.path + "/jobs-1") }
        #expect(disk.failures(of: .list) == 1)
        try broker.close()

        disk.clear()
        let restarted = try Broker.open(data.config(), fileSystem: disk)
        defer { try? restarted.close() }
        #expect(restarted.partitionCount("jobs") == nil)
        #expect(!FileManager.default.fileExists(atPath: data.path + "/topics/jobs.del"))
        #expect(!FileManager.default.fileExists(atPath: data.path + "/jobs-1"))
        try restarted.createTopic("jobs", partitions: 2)
        #expect(try await values(restarted, "jobs", 1).isEmpty, "the new topic serves the deleted one's records")
    }

    @Test("a deletion removes a directory put inside a partition's directory too")
    func deletionRemovesASubdirectory() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        try FileManager.default.createDirectory(atPath: data.path + "/jobs-0/stray", withIntermediateDirectories: false)
        try Data("x".utf8).write(to: URL(fileURLWithPath: data.path + "/jobs-0/stray/file"))
        try await broker.deleteTopic("jobs")
        #expect(!FileManager.default.fileExists(atPath: data.path + "/jobs-0"))
        #expect(!FileManager.default.fileExists(atPath: data.path + "/topics/jobs.del"))
    }

    @Test("a creation that fails and whose undoing fails too leaves nothing that takes a later topic's records")
    func failedCreationLeavesNoDeletionForTheNextTopic() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let disk = FaultInjectingFileSystem()
        let broker = try Broker.open(data.config(), fileSystem: disk)
        // The topics directory cannot be synced: the metadata file is renamed into place, then
        // the creation fails, and so does its undoing after renaming the file to its marker.
        disk.inject(.open, errno: EIO, times: 2, path: data.path + "/topics")
        #expect { try broker.createTopic("jobs", partitions: 1) } throws: { isStorageError($0) }
        #expect(disk.failures(of: .open) == 2)
        #expect(broker.partitionCount("jobs") == nil)

        try broker.createTopic("jobs", partitions: 1)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("new"), acks: .all)
        try broker.close()

        let restarted = try Broker.open(data.config(), fileSystem: disk)
        defer { try? restarted.close() }
        #expect(try await values(restarted, "jobs") == ["new-0", "new-1"], "the restart removed the new topic's records")
    }

    @Test("an unreadable deletion marker still has its topic's directories removed, and never a stored topic's")
    func unreadableMarkerRemovesTheDeletedTopicsDirectoriesOnly() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config())
        try broker.createTopic("gone", partitions: 1)
        try broker.createTopic("jobs", partitions: 1)
        try broker.createTopic("other", partitions: 2)
        _ = try await broker.produce(topic: "gone", partition: 0, records: batch("gone"), acks: .all)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("new"), acks: .all)
        _ = try await broker.produce(topic: "other", partition: 1, records: batch("old"), acks: .all)
        try broker.close()
        // `gone` was being deleted when a crash came, and its marker is unreadable; `jobs` has a
        // marker beside its metadata (an earlier version's, `.deleting`) and a directory past its
        // partitions holding records of before.
        let files = FileManager.default
        try files.moveItem(atPath: data.path + "/topics/gone.topic", toPath: data.path + "/topics/gone.del")
        try Data("{".utf8).write(to: URL(fileURLWithPath: data.path + "/topics/gone.del"))
        try files.moveItem(atPath: data.path + "/other-1", toPath: data.path + "/jobs-1")
        try Data("{".utf8).write(to: URL(fileURLWithPath: data.path + "/topics/jobs.deleting"))

        broker = try Broker.open(data.config())
        defer { try? broker.close() }
        #expect(broker.listTopics().map(\.name) == ["jobs", "other"])
        #expect(try await values(broker, "jobs") == ["new-0", "new-1"], "the restart removed a stored topic's records")
        #expect(!files.fileExists(atPath: data.path + "/gone-0"))
        #expect(!files.fileExists(atPath: data.path + "/jobs-1"))
        try broker.createTopic("gone", partitions: 1)
        #expect(try await values(broker, "gone").isEmpty, "the new topic serves the deleted one's records")
        try broker.createPartitions(topic: "jobs", count: 2)
        #expect(try await values(broker, "jobs", 1).isEmpty, "the grown partition serves records of before")
    }
}
