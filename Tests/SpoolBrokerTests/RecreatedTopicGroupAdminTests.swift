import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import Synchronization
import Testing

/// DeleteGroups and OffsetDelete delete a group's offsets only where unchanged since they looked
/// at the group. An offset committed meanwhile for a topic deleted and created again under the
/// same name is a change, even when its value is the one they read for the deleted topic.
@Suite struct RecreatedTopicGroupAdminTests {
    private let tp = TopicPartition("t", 0)
    /// Every commit here names its time, so that the old topic's offset and the new one's are
    /// equal in everything but the topic they were committed for.
    private let commit = CommittedOffset(offset: 3, metadata: "m", commitTimestampMs: 1_764_370_000_000)

    /// The two deletions that compare what they read with what is stored.
    enum Deletion: String, CaseIterable, CustomTestStringConvertible {
        case deleteGroups = "DeleteGroups"
        case offsetDelete = "OffsetDelete"

        var testDescription: String { rawValue }

        /// Deletes group "g" or its offset of `tp`; whether the broker answered NONE.
        func run(_ broker: Broker, _ tp: TopicPartition) async -> Bool {
            switch self {
            case .deleteGroups: await broker.deleteGroup("g") == .none
            case .offsetDelete: await broker.deleteOffsets(group: "g", partitions: [tp]) == OffsetDeleteResult(error: .none, partitions: [tp: .none])
            }
        }
    }

    /// What group "g", having committed `commit` for topic "t", has committed after `deletion`,
    /// then after a restart. With `recreating`, the deletion stops once decided and before it is
    /// stored, while "t" is deleted and created again and "g" commits `commit` for the new topic:
    /// what other connections could do in that moment.
    private func committed(after deletion: Deletion, recreating: Bool) async throws -> (now: [TopicPartition: CommittedOffset], restarted: [TopicPartition: CommittedOffset]) {
        let data = TestDataDirectory()
        defer { data.remove() }
        let opened = Mutex<Broker?>(nil)
        let ran = Mutex(!recreating)
        let broker = try Broker.open(data.config(), fileSystem: LiveFileSystem(), clock: currentTimeMs, offsetHooks: OffsetStore.Hooks(deletionDecided: { [tp, commit] in
            guard !ran.withLock({ ran in defer { ran = true }; return ran }), let broker = opened.withLock({ $0 }) else { return }
            do {
                try await broker.deleteTopic("t")
                try broker.createTopic("t", partitions: 1)
                try await broker.storeOffsets(group: "g", [tp: commit])
            } catch { Issue.record("between the decision and the deletion: \(error)") }
        }))
        opened.withLock { $0 = broker }
        try broker.createTopic("t", partitions: 1)
        try await broker.storeOffsets(group: "g", [tp: commit])

        #expect(await deletion.run(broker, tp))
        #expect(ran.withLock { $0 })
        let now = broker.committedOffsets(group: "g")
        try broker.close()
        let restarted = try Broker.open(data.config())
        defer { try? restarted.close() }
        return (now, restarted.committedOffsets(group: "g"))
    }

    @Test("an offset committed for the topic made again after the deletion looked, equal to the deleted topic's as it is, is kept",
          arguments: Deletion.allCases)
    func theRecreatedTopicsEqualOffsetIsKept(_ deletion: Deletion) async throws {
        let committed = try await committed(after: deletion, recreating: true)
        #expect(committed.now == [tp: commit], "the new topic's commit, made after the deletion looked, was deleted")
        #expect(committed.restarted == [tp: commit], "after a restart too")
    }

    @Test("an offset unchanged since the deletion looked is deleted", arguments: Deletion.allCases)
    func anUnchangedOffsetIsDeleted(_ deletion: Deletion) async throws {
        let committed = try await committed(after: deletion, recreating: false)
        #expect(committed.now == [:])
        #expect(committed.restarted == [:], "after a restart too")
    }
}
