@testable import SpoolBroker
import SpoolFormat

/// The offset store alone, for tests of its log: every topic is the one with id `topicId`, and
/// stays so.
extension OffsetStore {
    static let topicId = "TOPIC-ID"

    /// Commits `changes` (nil deletes) for topics that are all current.
    func commit(_ changes: [(Key, CommittedOffset?)]) async throws(BrokerError) {
        try await commit(changes.map { key, committed in (key, committed.map { Stored(committed: $0, topicId: Self.topicId) }) }) { _ in Self.topicId }
    }

    func committed(group: String) -> [TopicPartition: CommittedOffset] { committed(group: group) { _ in Self.topicId } }

    func groups() -> Set<String> { groups { _ in Self.topicId } }
}
