import SpoolEmbedded
import SpoolFormat
import SpoolJobs

/// The embedded transport, telling the job power-cut model what the broker acknowledged: every
/// send (dead letters among them) and every commit, as the worker saw them return. The model
/// counts an acknowledgement only if the power was still on when it came.
struct RecordingJobTransport: JobTransport {
    let inner: EmbeddedTransport
    /// A send returned: the topic and what was sent.
    let sent: @Sendable (String, [OutgoingRecord]) -> Void
    /// A commit returned.
    let committed: @Sendable ([TopicPartition: CommittedOffset]) -> Void

    func ensureTopic(_ topic: String, partitions: Int) async throws {
        try await inner.ensureTopic(topic, partitions: partitions)
    }

    func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)] {
        let result = try await inner.send(topic: topic, records: records)
        sent(topic, records)
        return result
    }

    func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        RecordingJobSubscription(inner: try await inner.subscribe(group: group, topic: topic, hooks: hooks), committed: committed)
    }

    func readAll(topic: String) async throws -> [ConsumedRecord] { try await inner.readAll(topic: topic) }

    func close() async { await inner.close() }
}

/// A subscription whose commits are reported once they return.
struct RecordingJobSubscription: JobSubscription {
    let inner: any JobSubscription
    let committed: @Sendable ([TopicPartition: CommittedOffset]) -> Void

    func poll() async throws -> [ConsumedRecord] { try await inner.poll() }

    func commit(_ offsets: [TopicPartition: CommittedOffset]) async throws {
        try await inner.commit(offsets)
        committed(offsets)
    }

    func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: CommittedOffset] { try await inner.committed(partitions) }
    func pause(_ partitions: [TopicPartition]) { inner.pause(partitions) }
    func resume(_ partitions: [TopicPartition]) { inner.resume(partitions) }
    func close() async { await inner.close() }
}
