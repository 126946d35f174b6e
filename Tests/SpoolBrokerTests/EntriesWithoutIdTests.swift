import Foundation
import Glibc
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import SpoolTestSupport
import Testing

/// Committed offsets and idempotency keys stored before they carried their topic's id are the
/// entries of the topic of their name that an upgrade found (a topic upgraded in place). A topic
/// created under that name since is another topic: it must never read them, whether the earlier
/// topic's deletion finished or failed part way, and whatever restarts come between.
@Suite struct EntriesWithoutIdTests {
    private let tp = TopicPartition("jobs", 0)

    private func isStorageError(_ error: any Error) -> Bool { (error as? BrokerError)?.code == .kafkaStorageError }

    /// A data directory as an upgrade finds it: topic "jobs" of one partition holding "old-0" and
    /// "old-1", with group "g"'s offset 2 and the key "K" of record 0, both stored without an id.
    private func upgradedJobs(_ data: TestDataDirectory) async throws {
        let broker = try Broker.open(data.config())
        try broker.createTopic("jobs", partitions: 1)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("old"), acks: .all)
        try broker.close()
        try EntriesWithoutId.rewriteTopicAsBeforeIds(data, topic: "jobs")
        try EntriesWithoutId.appendOffset(data, group: "g", tp, offset: 2)
        try EntriesWithoutId.appendDedupeKey(data, topic: "jobs", key: "K", partition: 0, offset: 0)
    }

    /// Produces one record `value` with idempotency key `key` to "jobs".
    private func produce(_ broker: Broker, _ value: String, key: String) async throws -> ProduceResult {
        let record = ProducerRecord(key: nil, value: Array(value.utf8), headers: [RecordHeader(SpoolHeaders.idempotencyKey, key)],
                                    timestamp: currentTimeMs())
        return try await broker.produce(topic: "jobs", partition: 0, records: RecordBatch(producing: [record]).encoded(), acks: .all)
    }

    /// A broker over a fault-injecting disk on `upgradedJobs`, "jobs" deleted; `failing`: the
    /// deletion fails part way (the data directory's sync after the partitions' removal fails),
    /// leaving its marker.
    private func deletedUpgradedJobs(_ data: TestDataDirectory, failing: Bool) async throws -> (Broker, FaultInjectingFileSystem) {
        try await upgradedJobs(data)
        let disk = FaultInjectingFileSystem()
        let broker = try Broker.open(data.config(), fileSystem: disk)
        guard failing else {
            try await broker.deleteTopic("jobs")
            return (broker, disk)
        }
        disk.inject(.open, errno: EIO, times: 1, path: data.path)
        await #expect { try await broker.deleteTopic("jobs") } throws: { isStorageError($0) }
        #expect(broker.pendingDeletionId("jobs") != nil, "the deletion's marker was removed")
        return (broker, disk)
    }

    @Test("an upgraded topic reads the offsets and keys stored without an id, after its metadata is written again and a restart too")
    func anUpgradedTopicKeepsItsEntriesWithoutId() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        try await upgradedJobs(data)
        var broker = try Broker.open(data.config())
        #expect(broker.committedOffsets(group: "g").mapValues(\.offset) == [tp: 2])
        #expect(broker.groupsWithOffsets() == ["g"])
        let copy = try await produce(broker, "old-again", key: "K")
        #expect(copy.duplicate && copy.baseOffset == 0)
        #expect(broker.alterConfigs(.topic, name: "jobs", configs: ["retention.ms": "86400000"]) == .success)
        try broker.close()

        broker = try Broker.open(data.config())
        defer { try? broker.close() }
        #expect(broker.committedOffsets(group: "g").mapValues(\.offset) == [tp: 2], "the upgraded topic lost its group's offset")
        let again = try await produce(broker, "old-again", key: "K")
        #expect(again.duplicate && again.baseOffset == 0, "the upgraded topic lost its key")
        #expect(try await values(broker, "jobs") == ["old-0", "old-1"])
    }

    @Test("a topic created over an upgraded topic's deletion that failed part way reads none of its offsets and keys stored without an id, nor after a restart")
    func aTopicCreatedOverAFailedDeletionReadsNoEntryWithoutId() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let (broker, _) = try await deletedUpgradedJobs(data, failing: true)
        // The topic is gone, its deletion pending: nothing reads its offsets.
        #expect(broker.committedOffsets(group: "g") == [:], "the deleted topic's offset still shows")
        #expect(broker.groupsWithOffsets().isEmpty)

        try broker.createTopic("jobs", partitions: 1)
        #expect(broker.committedOffsets(group: "g") == [:], "the new topic would be resumed at the deleted one's offset")
        #expect(broker.groupsWithOffsets().isEmpty)
        #expect(broker.lag(group: "g").isEmpty)
        let first = try await produce(broker, "new", key: "K")
        #expect(!first.duplicate && first.baseOffset == 0, "dropped as a duplicate of the deleted topic's record")
        try broker.close()

        let restarted = try Broker.open(data.config())
        defer { try? restarted.close() }
        #expect(restarted.committedOffsets(group: "g") == [:], "the restart brought the deleted topic's offset back")
        #expect(restarted.groupsWithOffsets().isEmpty)
        let copy = try await produce(restarted, "new-again", key: "K")
        #expect(copy.duplicate && copy.baseOffset == 0, "the new topic lost its own key")
        #expect(try await values(restarted, "jobs") == ["new"])
    }

    @Test("a topic created again under an upgraded topic's name reads none of its offsets and keys stored without an id after a restart",
          arguments: [false, true])
    func aTopicCreatedAgainReadsNoEntryWithoutIdAfterARestart(deletionFails: Bool) async throws {
        let data = TestDataDirectory("\(#function)-\(deletionFails)")
        defer { data.remove() }
        let (broker, _) = try await deletedUpgradedJobs(data, failing: deletionFails)
        try broker.createTopic("jobs", partitions: 1)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("plain"), acks: .all)
        try broker.close()

        let restarted = try Broker.open(data.config())
        defer { try? restarted.close() }
        #expect(restarted.committedOffsets(group: "g") == [:], "the new topic would be resumed at the deleted one's offset")
        #expect(restarted.groupsWithOffsets().isEmpty)
        let first = try await produce(restarted, "new", key: "K")
        #expect(!first.duplicate && first.baseOffset == 2, "dropped as a duplicate of the deleted topic's record")
        #expect(try await values(restarted, "jobs") == ["plain-0", "plain-1", "new"])
    }

    @Test("a creation whose forgetting of the earlier topic's offsets without an id fails creates nothing, and the next open drops them")
    func aCreationThatCannotForgetTheOffsetsCreatesNothing() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let (broker, disk) = try await deletedUpgradedJobs(data, failing: true)
        // The offsets log's fsync of the forgetting fails.
        disk.inject(.dataSync, errno: EIO, times: 1)
        #expect { try broker.createTopic("jobs", partitions: 1) } throws: { isStorageError($0) }
        #expect(disk.failures(of: .dataSync) == 1)
        #expect(broker.partitionCount("jobs") == nil)
        #expect(broker.committedOffsets(group: "g") == [:])
        // Closing reports the offsets log, offline since its failed flush.
        #expect(throws: BrokerError.self) { try broker.close() }

        let restarted = try Broker.open(data.config())
        defer { try? restarted.close() }
        #expect(restarted.partitionCount("jobs") == nil, "the failed creation left its topic")
        try restarted.createTopic("jobs", partitions: 1)
        #expect(restarted.committedOffsets(group: "g") == [:], "the new topic would be resumed at the deleted one's offset")
        let first = try await produce(restarted, "new", key: "K")
        #expect(!first.duplicate && first.baseOffset == 0, "dropped as a duplicate of the deleted topic's record")
    }

    @Test("an offset or key stored without an id for the name of a topic created since ids were is dropped when the broker opens")
    func entriesWithoutIdOfATopicCreatedSinceAreDroppedAtOpen() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config())
        try broker.createTopic("jobs", partitions: 1)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("new"), acks: .all)
        try broker.close()
        try EntriesWithoutId.appendOffset(data, group: "g", tp, offset: 2)
        try EntriesWithoutId.appendDedupeKey(data, topic: "jobs", key: "K", partition: 0, offset: 0)

        broker = try Broker.open(data.config())
        defer { try? broker.close() }
        #expect(broker.committedOffsets(group: "g") == [:], "a topic created since ids were read an offset stored without one")
        #expect(broker.groupsWithOffsets().isEmpty)
        let first = try await produce(broker, "keyed", key: "K")
        #expect(!first.duplicate && first.baseOffset == 2, "dropped as a duplicate of a key stored without an id")
    }
}
