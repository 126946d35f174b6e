import Foundation
import SpoolEmbedded
import SpoolFormat
import SpoolJobs
import Synchronization

/// The embedded transport with two faults a worker must survive. A blind follower of the control
/// topic never sees a record, as one far behind would: what the worker knows of the control topic
/// then comes only from what it stores itself and what it reads whole (`readAll`). Failing
/// commits leave the group's offsets where they were, as a worker killed before its commit would.
struct FaultyControlTransport: JobControlTransport {
    let inner: EmbeddedTransport
    var blindFollower = false
    var commitsFail = false
    /// Counts the polls of the followers it makes (a metrics scrape's reads of running reports).
    var followerPolls: PollCount?
    /// Logs what each poll of a group membership it makes returned.
    var memberPolls: PollLog?

    final class PollCount: Sendable {
        let polls = Atomic(0)
        var value: Int { polls.load(ordering: .relaxed) }
    }

    /// Each poll's record count, beside what `handled` (a test's handler counts there) was when
    /// the poll returned.
    final class PollLog: Sendable {
        let handled = Atomic(0)
        let polls = Mutex<[(records: Int, handled: Int)]>([])
        var value: [(records: Int, handled: Int)] { polls.withLock { $0 } }
    }

    func ensureTopic(_ topic: String, partitions: Int) async throws { try await inner.ensureTopic(topic, partitions: partitions) }
    func ensureTopic(_ topic: String, partitions: Int, configs: [String: String]) async throws {
        try await inner.ensureTopic(topic, partitions: partitions, configs: configs)
    }
    func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)] {
        try await inner.send(topic: topic, records: records)
    }
    func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await subscribe(group: group, topic: topic, session: GroupSession(), hooks: hooks)
    }
    func subscribe(group: String, topic: String, session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        let subscription = try await inner.subscribe(group: group, topic: topic, session: session, hooks: hooks)
        return commitsFail || memberPolls != nil ? Member(inner: subscription, commitsFail: commitsFail, log: memberPolls) : subscription
    }
    func readAll(topic: String) async throws -> [ConsumedRecord] { try await inner.readAll(topic: topic) }
    func close() async {}
    func partitionCount(of topic: String) async throws -> Int? { try await inner.partitionCount(of: topic) }
    func follow(topic: String) async throws -> any TopicFollower {
        if blindFollower { return Blind() }
        let follower = try await inner.follow(topic: topic)
        return followerPolls.map { Counting(inner: follower, count: $0) } ?? follower
    }

    struct Counting: TopicFollower {
        let inner: any TopicFollower
        let count: PollCount

        func poll(maxWaitMs: Int32) async throws -> [ConsumedRecord] {
            count.polls.add(1, ordering: .relaxed)
            return try await inner.poll(maxWaitMs: maxWaitMs)
        }
        func position(_ partition: TopicPartition) -> Int64? { inner.position(partition) }
        func ends() async throws -> [TopicPartition: Int64] { try await inner.ends() }
        func close() async { await inner.close() }
    }
    func committedOffsets(group: String, topic: String) async throws -> [TopicPartition: CommittedOffset] {
        try await inner.committedOffsets(group: group, topic: topic)
    }

    struct Blind: TopicFollower {
        func poll(maxWaitMs: Int32) async throws -> [ConsumedRecord] {
            try? await Task.sleep(for: .milliseconds(min(20, Int(maxWaitMs))))
            return []
        }
        func position(_ partition: TopicPartition) -> Int64? { nil }
        func ends() async throws -> [TopicPartition: Int64] { [:] }
        func close() async {}
    }

    struct CommitRefused: Error {}

    /// A group membership whose commits all fail (`commitsFail`), or whose polls are logged.
    struct Member: JobSubscription {
        let inner: any JobSubscription
        let commitsFail: Bool
        let log: PollLog?

        func poll() async throws -> [ConsumedRecord] {
            let records = try await inner.poll()
            if let log {
                let handled = log.handled.load(ordering: .acquiring)
                log.polls.withLock { $0.append((records.count, handled)) }
            }
            return records
        }
        func commit(_ offsets: [TopicPartition: CommittedOffset]) async throws {
            if commitsFail { throw CommitRefused() }
            try await inner.commit(offsets)
        }
        func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: CommittedOffset] { try await inner.committed(partitions) }
        func pause(_ partitions: [TopicPartition]) { inner.pause(partitions) }
        func resume(_ partitions: [TopicPartition]) { inner.resume(partitions) }
        func position(_ partition: TopicPartition) -> Int64? { inner.position(partition) }
        func heartbeat() async -> Bool? { await inner.heartbeat() }
        func close() async { await inner.close() }
    }
}
