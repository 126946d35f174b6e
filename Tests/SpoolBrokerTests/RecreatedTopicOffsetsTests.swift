import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import Synchronization
import Testing

/// A topic deleted and created again under its name is another topic: what groups committed for
/// the deleted one must not be where they resume the new one, whatever a commit or a crash was
/// doing while the deletion ran.
@Suite struct RecreatedTopicOffsetsTests {
    private let tp = TopicPartition("t", 0)

    /// A broker whose offset store runs `meanwhile` once, at the hook `hooks` picks, for the first
    /// commit of group "g": what another connection could do in that moment.
    private func open(_ data: TestDataDirectory, at hooks: (@escaping @Sendable ([OffsetStore.Key]) async -> Void) -> OffsetStore.Hooks,
                      meanwhile: @escaping @Sendable (Broker) async throws -> Void) throws -> Broker {
        let opened = Mutex<Broker?>(nil)
        let ran = Mutex(false)
        let broker = try Broker.open(data.config(), fileSystem: LiveFileSystem(), clock: currentTimeMs, offsetHooks: hooks { keys in
            guard keys.contains(where: { $0.group == "g" }), !ran.withLock({ ran in defer { ran = true }; return ran }),
                  let broker = opened.withLock({ $0 }) else { return }
            do { try await meanwhile(broker) } catch { Issue.record("meanwhile: \(error)") }
        })
        opened.withLock { $0 = broker }
        return broker
    }

    /// What group `group` committed as a broker opened again on `data` reads it, `broker` closed first.
    private static func afterARestart(_ broker: Broker, _ data: TestDataDirectory, group: String = "g") throws -> [TopicPartition: Int64] {
        try broker.close()
        let restarted = try Broker.open(data.config())
        defer { try? restarted.close() }
        return restarted.committedOffsets(group: group).mapValues(\.offset)
    }

    private static func deleteAndCreateAgain(_ broker: Broker) async throws {
        try await broker.deleteTopic("t")
        try broker.createTopic("t", partitions: 1)
    }

    @Test("a group's first commit, waiting for the disk while its topic is deleted, is not where the group resumes the topic made again")
    func aCommitWaitingForTheDiskDoesNotOutliveTheDeletion() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try open(data, at: { OffsetStore.Hooks(commitDurable: $0) }, meanwhile: Self.deleteAndCreateAgain)
        try broker.createTopic("t", partitions: 1)
        _ = try await broker.produce(topic: "t", partition: 0, records: batch("a", count: 4), acks: .all)
        try await broker.storeOffsets(group: "g", [tp: CommittedOffset(offset: 3)])
        #expect(broker.committedOffsets(group: "g") == [:], "the new topic would be resumed at the deleted one's offset")
        #expect(broker.lag(group: "g").isEmpty)
        #expect(try Self.afterARestart(broker, data) == [:], "after a restart too")
    }

    @Test("a commit checked before its topic was deleted and stored after is refused, and the topic made again starts without it")
    func aCommitCheckedBeforeTheDeletionIsRefused() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try open(data, at: { OffsetStore.Hooks(commitAppending: $0) }, meanwhile: Self.deleteAndCreateAgain)
        try broker.createTopic("t", partitions: 1)
        await #expect(throws: BrokerError.unknownTopicOrPartition(topic: "t", partition: 0)) {
            try await broker.storeOffsets(group: "g", [tp: CommittedOffset(offset: 3)])
        }
        #expect(broker.committedOffsets(group: "g") == [:])
        #expect(broker.groupsWithOffsets().isEmpty)
        #expect(try Self.afterARestart(broker, data) == [:], "after a restart too")
    }

    @Test("a commit for the topic made again while the deleted one's offsets are being forgotten is kept")
    func theDeletionForgetsOnlyTheDeletedTopicsOffsets() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        try broker.createTopic("t", partitions: 1)
        try await broker.storeOffsets(group: "old", [tp: CommittedOffset(offset: 3)])
        broker.afterTopicDeletionIsWritten.withLock { hook in
            hook = { [broker, tp] _ in
                do {
                    try broker.createTopic("t", partitions: 1)
                    try await broker.storeOffsets(group: "new", [tp: CommittedOffset(offset: 1)])
                } catch { Issue.record("meanwhile: \(error)") }
            }
        }
        try await broker.deleteTopic("t")
        #expect(broker.committedOffsets(group: "old") == [:])
        #expect(broker.committedOffsets(group: "new").mapValues(\.offset) == [tp: 1], "the new topic's commit went with the deleted topic's")
        #expect(try Self.afterARestart(broker, data, group: "new") == [tp: 1])
    }

    @Test("a power cut after a deletion is on disk and before its offsets are forgotten, the topic auto-created again meanwhile, brings back none")
    func offsetsOfADeletedTopicDoNotComeBackAfterAPowerCut() async throws {
        let disk = PowerCutImage()
        defer { disk.remove() }
        let broker = try Broker.open(disk.directory.config())
        defer { try? broker.close() }
        try broker.createTopic("t", partitions: 1)
        _ = try await broker.produce(topic: "t", partition: 0, records: batch("a", count: 4), acks: .all)
        try await broker.storeOffsets(group: "g", [tp: CommittedOffset(offset: 3)])
        broker.afterTopicDeletionIsWritten.withLock { hook in
            hook = { [broker] _ in
                do { _ = try await broker.ensuringTopic("t") } catch { Issue.record("auto-creating: \(error)") }
                disk.cutPower()
            }
        }
        try await broker.deleteTopic("t")
        try #require(disk.wasCut)

        let restarted = try Broker.open(disk.image.config())
        defer { try? restarted.close() }
        #expect(restarted.partitionCount("t") == 1, "the topic auto-created again is there")
        #expect(restarted.committedOffsets(group: "g") == [:], "the new topic would be resumed at the deleted one's offset")
        #expect(restarted.groupsWithOffsets().isEmpty)
    }

    @Test("an offset stored before offsets named their topic is read for the topic of its name, and goes with its deletion")
    func anOffsetWithoutATopicIdCountsForTheTopicOfItsName() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config())
        try broker.createTopic("t", partitions: 1)
        try broker.close()
        // The topic and a commit as the previous version wrote them (a topic created since does
        // not own offsets without an id: `EntriesWithoutIdTests`).
        try EntriesWithoutId.rewriteTopicAsBeforeIds(data, topic: "t")
        try EntriesWithoutId.appendOffset(data, group: "g", tp, offset: 7)

        broker = try Broker.open(data.config())
        #expect(broker.committedOffsets(group: "g") == [tp: CommittedOffset(offset: 7, metadata: "m", commitTimestampMs: 1_764_370_000_000)])
        try await broker.deleteTopic("t")
        try broker.createTopic("t", partitions: 1)
        #expect(broker.committedOffsets(group: "g") == [:])
        #expect(try Self.afterARestart(broker, data) == [:])
    }
}
