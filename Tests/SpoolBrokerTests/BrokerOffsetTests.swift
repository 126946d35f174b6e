import Foundation
import SpoolBroker
import SpoolFormat
import Testing

@Suite struct BrokerOffsetTests {
    @Test func committedOffsetsAndLagSurviveARestart() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config())
        try broker.createTopic("jobs", partitions: 2)
        for _ in 0..<5 { _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("a", count: 2), acks: .all) }
        _ = try await broker.produce(topic: "jobs", partition: 1, records: batch("b", count: 4), acks: .all)
        try await broker.storeOffsets(group: "mailers", [
            TopicPartition("jobs", 0): CommittedOffset(offset: 7, metadata: "worker-1"),
            TopicPartition("jobs", 1): CommittedOffset(offset: 4),
        ])
        try await broker.storeOffsets(group: "mailers", [TopicPartition("jobs", 0): CommittedOffset(offset: 8, metadata: "worker-2")])
        try broker.close()

        broker = try Broker.open(data.config())
        let committed = broker.committedOffsets(group: "mailers")
        #expect(committed[TopicPartition("jobs", 0)]?.offset == 8)
        #expect(committed[TopicPartition("jobs", 0)]?.metadata == "worker-2")
        #expect(committed[TopicPartition("jobs", 1)]?.offset == 4)
        #expect(committed[TopicPartition("jobs", 0)].map { $0.commitTimestampMs > 0 } == true)
        let lag = broker.lag(group: "mailers")
        #expect(lag.map(\.lag) == [2, 0])
        #expect(lag.map(\.highWatermark) == [10, 4])
        #expect(broker.committedOffsets(group: "nobody").isEmpty)
        #expect(broker.groupsWithOffsets() == ["mailers"])
        try broker.close()
    }

    @Test func badCommitsAreRefusedAndStoreNothing() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        await #expect(throws: BrokerError.unknownTopicOrPartition(topic: "jobs", partition: 3)) {
            try await broker.storeOffsets(group: "g", [TopicPartition("jobs", 0): CommittedOffset(offset: 1), TopicPartition("jobs", 3): CommittedOffset(offset: 1)])
        }
        await #expect(throws: BrokerError.group(.offsetMetadataTooLarge)) {
            try await broker.storeOffsets(group: "g", [TopicPartition("jobs", 0): CommittedOffset(offset: 1, metadata: String(repeating: "m", count: 5000))])
        }
        await #expect(throws: BrokerError.group(.invalidGroupId)) {
            try await broker.storeOffsets(group: "", [TopicPartition("jobs", 0): CommittedOffset(offset: 1)])
        }
        #expect(broker.committedOffsets(group: "g").isEmpty)
    }

    @Test func offsetsOfADeletedTopicGoWithIt() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("gone")
        try broker.createTopic("kept")
        try await broker.storeOffsets(group: "g", [TopicPartition("gone", 0): CommittedOffset(offset: 0), TopicPartition("kept", 0): CommittedOffset(offset: 0)])
        try await broker.deleteTopic("gone")
        #expect(Array(broker.committedOffsets(group: "g").keys) == [TopicPartition("kept", 0)])
    }

    @Test func offsetsAheadOfTheLogAfterACrashAreBroughtBackToItsEndAndStayThere() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config(fsync: .never))
        try broker.createTopic("jobs")
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("a", count: 4), acks: .all)
        try await broker.storeOffsets(group: "g", [TopicPartition("jobs", 0): CommittedOffset(offset: 4, metadata: "m")])
        try broker.close()
        try Self.loseTail(of: "jobs-0", in: data)
        broker = try Broker.open(data.config(fsync: .never))
        let clamped = try #require(broker.committedOffsets(group: "g")[TopicPartition("jobs", 0)])
        #expect(clamped.offset == 0)
        #expect(clamped.metadata == "m")
        // The records produced after the crash take the lost offsets; the group must still read
        // them after another restart, when the log has grown past what it first committed.
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("b", count: 6), acks: .all)
        try broker.close()
        broker = try Broker.open(data.config(fsync: .never))
        #expect(broker.committedOffsets(group: "g")[TopicPartition("jobs", 0)]?.offset == 0)
        try broker.close()
    }

    @Test func underFsyncAlwaysACommitBeyondTheLogEndIsReadBackUnchanged() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config(fsync: .always))
        try broker.createTopic("jobs")
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("a", count: 4), acks: .all)
        try await broker.storeOffsets(group: "g", [TopicPartition("jobs", 0): CommittedOffset(offset: 100)])
        let committed = broker.committedOffsets(group: "g")
        try broker.close()
        broker = try Broker.open(data.config(fsync: .always))
        #expect(broker.committedOffsets(group: "g") == committed)
        try broker.close()
        // After an unclean shutdown too: under `always` nothing a consumer saw can have been lost.
        try FileManager.default.removeItem(atPath: data.path + "/jobs-0/recovery-point")
        broker = try Broker.open(data.config(fsync: .always))
        #expect(broker.committedOffsets(group: "g") == committed)
        try broker.close()
    }

    @Test func aCrashUnderARelaxedPolicyIsDetectedWhenTheRestartIsUnderAlways() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        try await Self.crashUnderNeverAfterACommitPastWhatSurvives(data)

        let broker = try Broker.open(data.config(fsync: .always))
        #expect(broker.committedOffsets(group: "g")[TopicPartition("jobs", 0)]?.offset == 0,
                "the records the group read were visible before they were on disk, and are gone")
        try broker.close()
    }

    @Test func aCrashUnderARelaxedPolicyIsStillDetectedAfterARestartThatFailedToOpen() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        try await Self.crashUnderNeverAfterACommitPastWhatSurvives(data, alsoCreating: "zz")
        // The restart under `always` recovers jobs-0 (writing its recovery point anew), then fails
        // on a damaged file of a later partition, before committed offsets are clamped.
        let damaged = data.path + "/zz-0/log-start-offset"
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: damaged))
        #expect(throws: (any Error).self) { try Broker.open(data.config(fsync: .always)) }
        try FileManager.default.removeItem(atPath: damaged)

        let broker = try Broker.open(data.config(fsync: .always))
        #expect(broker.committedOffsets(group: "g")[TopicPartition("jobs", 0)]?.offset == 0,
                "the crash under `never` still counts: the failed restart flushed nothing of its own")
        try broker.close()
    }

    /// A run under `never` that produced 4 records to jobs-0 and had group "g" commit 4, then
    /// crashed and lost them: jobs-0 is left empty with the recovery point its run wrote when it
    /// opened the partition.
    private static func crashUnderNeverAfterACommitPastWhatSurvives(_ data: TestDataDirectory, alsoCreating other: String? = nil) async throws {
        let broker = try Broker.open(data.config(fsync: .never))
        try broker.createTopic("jobs")
        if let other { try broker.createTopic(other) }
        let checkpoint = data.path + "/jobs-0/recovery-point"
        let leftByTheCrash = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("a", count: 4), acks: .all)
        try await broker.storeOffsets(group: "g", [TopicPartition("jobs", 0): CommittedOffset(offset: 4)])
        try broker.close()
        try loseTail(of: "jobs-0", in: data)
        try leftByTheCrash.write(to: URL(fileURLWithPath: checkpoint))
    }

    /// Simulates a crash that lost a partition's unflushed tail: empties its first segment and
    /// removes its recovery point, so the next open recovers as after an unclean shutdown.
    private static func loseTail(of partition: String, in data: TestDataDirectory) throws {
        let segment = data.path + "/" + partition + "/00000000000000000000.log"
        let handle = try #require(FileHandle(forWritingAtPath: segment))
        try handle.truncate(atOffset: 0)
        try handle.close()
        try FileManager.default.removeItem(atPath: data.path + "/" + partition + "/recovery-point")
    }
}
