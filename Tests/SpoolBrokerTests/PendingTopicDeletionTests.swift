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

    @Test("a topic created under the name of one whose deletion failed part way keeps its records through a restart")
    func recreatedTopicSurvivesAnUnfinishedDeletion() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let disk = FaultInjectingFileSystem()
        let broker = try Broker.open(data.config(), fileSystem: disk)
        try broker.createTopic("jobs", partitions: 2)
        _ = try await broker.produce(topic: "jobs", partition: 1, records: batch("old"), acks: .all)
        // The removal of the partitions never reaches the disk: the data directory's sync fails.
        disk.inject(.open, errno: EIO, times: 1, path: data.path)
        await #expect { try await broker.deleteTopic("jobs") } throws: { isStorageError($0) }
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
