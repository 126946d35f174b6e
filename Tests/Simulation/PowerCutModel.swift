import SpoolBroker
import SpoolFormat

/// What the power-cut workload has done and what it may expect to find after a restart.
struct PowerCutModel {
    /// How often a record must be found in its partition at the next check.
    enum Expectation {
        /// Acknowledged: exactly once.
        case once
        /// Sent, not acknowledged before the cut: once or not at all.
        case atMostOnce
        /// A delayed record acknowledged, or found: at least once (more is a redelivery).
        case atLeastOnce
        /// Held for later and not acknowledged: any number of times until a check has drained
        /// the held records.
        case heldUnacknowledged
        /// Never (a repeated idempotency key, or a record a check found missing while it was
        /// allowed to be).
        case never
        /// A violation was counted already, or the topic went away.
        case untracked
    }

    enum Kind: Equatable {
        case plain
        /// Carries an idempotency key the topic has not accepted before.
        case freshKey(String)
        /// Carries an idempotency key the topic accepted (and acknowledged) before.
        case repeatedKey(String)
        case delayed(dueMs: Int64)
    }

    struct Record {
        var topic: String
        var incarnation: Int
        var partition: Int32
        var key: String
        var kind: Kind
        var expectation: Expectation
        /// The most times any check found it (for delayed records, 1 + redeliveries).
        var foundMax = 0
    }

    /// An idempotent producer of one partition.
    struct Producer {
        var id: Int64
        var epoch: Int16
        var nextSequence: Int32 = 0
        /// The batch sent and not acknowledged when the power went: resent after the restart.
        var inFlight: (bytes: [UInt8], records: [Int])?
    }

    struct Topic {
        var incarnation: Int
        var partitions: Int
        var producers: [Int32: Producer] = [:]
        /// Idempotency keys acknowledged on this topic (while it exists).
        var acceptedKeys: [String] = []
    }

    struct CommitKey: Hashable {
        var group: String
        var topicPartition: TopicPartition
    }

    /// A call that changes topics, under way when the power went.
    enum PendingChange {
        case create(String)
        case delete(String)
        case commit(CommitKey, Int64)
    }

    var topics: [String: Topic] = [:]
    var records: [Record] = []
    /// The last acknowledged commit of each group and partition.
    var commits: [CommitKey: Int64] = [:]
    /// The base offset of the committed-offsets log's first segment at the last check.
    var offsetsLogStart: Int64 = 0
    var pending: PendingChange?
    var nextIncarnation = 0

    /// Forgets a topic that was deleted: its records and commits are no longer expected.
    mutating func forget(topic name: String) {
        guard let topic = topics.removeValue(forKey: name) else { return }
        for index in records.indices where records[index].topic == name && records[index].incarnation == topic.incarnation {
            records[index].expectation = .untracked
        }
        commits = commits.filter { $0.key.topicPartition.topic != name }
    }

    mutating func addTopic(_ name: String, partitions: Int) {
        topics[name] = Topic(incarnation: nextIncarnation, partitions: partitions)
        nextIncarnation += 1
    }
}
