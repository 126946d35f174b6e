import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolFuzzSupport
import SpoolSystem
import SpoolWire
import Synchronization
import Testing

/// OffsetFetch for a topic deleted (DeleteTopics) and created again (CreateTopics) under its name:
/// the group committed nothing for the new topic, so it answers -1, as Kafka does, even when the
/// group's commit was still waiting for the disk while the deletion ran.
@Suite struct RecreatedTopicOffsetFetchTests {
    @Test("OffsetFetch answers -1 for a topic made again while a commit for the deleted one was waiting for the disk")
    func offsetFetchAfterDeleteTopicsAndCreateTopicsAnswersMinusOne() async throws {
        let directory = NSTemporaryDirectory() + "spool-served-\(UUID().uuidString)"
        let served = Mutex<Served?>(nil)
        let ran = Mutex(false)
        let broker = try Broker.open(Served.config(directory), fileSystem: LiveFileSystem(), clock: currentTimeMs, offsetHooks: OffsetStore.Hooks(
            commitDurable: { keys in
                guard keys.contains(where: { $0.group == "g" }), !ran.withLock({ ran in defer { ran = true }; return ran }),
                      let setup = served.withLock({ $0 }) else { return }
                do {
                    let deleted = try await setup.call(DeleteTopicsRequest(topicNames: ["jobs"], timeoutMs: 1000), version: 4)
                    #expect(deleted.responses.first?.errorCode == 0)
                    let created = try await setup.call(CreateTopicsRequest(topics: [.init(name: "jobs", numPartitions: 1, replicationFactor: 1)],
                                                                           timeoutMs: 1000), version: 4)
                    #expect(created.topics.first?.errorCode == 0)
                } catch { Issue.record("DeleteTopics and CreateTopics: \(error)") }
            }))
        let setup = Served(directory: directory, broker: broker)
        defer { setup.remove() }
        try broker.createTopic("jobs", partitions: 1)
        served.withLock { $0 = setup }

        let committed = try await setup.call(OffsetCommitRequest(groupId: "g", generationIdOrMemberEpoch: -1, memberId: "", topics: [
            .init(name: "jobs", partitions: [.init(partitionIndex: 0, committedOffset: 5)]),
        ]), version: 8)
        #expect(committed.topics.first?.partitions.first?.errorCode == 0)
        try #require(ran.withLock { $0 })

        let fetched = try await setup.call(OffsetFetchRequest(groupId: "g", topics: [.init(name: "jobs", partitionIndexes: [0])]), version: 7)
        #expect(fetched.topics.first?.partitions.first?.committedOffset == -1, "the new topic would be resumed at the deleted one's offset")
        let all = try await setup.call(OffsetFetchRequest(groups: [.init(groupId: "g", topics: nil)]), version: 8)
        #expect(all.groups.first?.topics.isEmpty == true)
    }
}
