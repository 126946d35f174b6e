import Foundation
import SpoolEmbedded
import SpoolFormat
import SpoolJobs

/// The embedded transport, but a worker's follower of the control topic never sees a record, as
/// one far behind would: what a worker knows of the control topic then comes only from what it
/// stores itself and what it reads whole (`readAll`).
struct BlindFollowerTransport: JobControlTransport {
    let inner: EmbeddedTransport

    func ensureTopic(_ topic: String, partitions: Int) async throws { try await inner.ensureTopic(topic, partitions: partitions) }
    func ensureTopic(_ topic: String, partitions: Int, configs: [String: String]) async throws {
        try await inner.ensureTopic(topic, partitions: partitions, configs: configs)
    }
    func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)] {
        try await inner.send(topic: topic, records: records)
    }
    func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await inner.subscribe(group: group, topic: topic, hooks: hooks)
    }
    func subscribe(group: String, topic: String, session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await inner.subscribe(group: group, topic: topic, session: session, hooks: hooks)
    }
    func readAll(topic: String) async throws -> [ConsumedRecord] { try await inner.readAll(topic: topic) }
    func close() async {}
    func partitionCount(of topic: String) async throws -> Int? { try await inner.partitionCount(of: topic) }
    func follow(topic: String) async throws -> any TopicFollower { Blind() }
    func committedOffsets(group: String, topic: String) async throws -> [TopicPartition: CommittedOffset] {
        try await inner.committedOffsets(group: group, topic: topic)
    }

    struct Blind: TopicFollower {
        func poll() async throws -> [ConsumedRecord] {
            try? await Task.sleep(for: .milliseconds(20))
            return []
        }
        func close() async {}
    }
}
