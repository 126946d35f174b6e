import Foundation
import SpoolFormat

/// What the control topic of a job topic says: the jobs cancelled, the groups paused and the keys
/// held (`KeyHold`).
///
/// The control topic (`TOPIC.control`, one partition, `cleanup.policy=compact`) holds one record
/// per cancellation, keyed `cancel/ID`, one per paused group, keyed `pause/GROUP`, and one per
/// held key, keyed `hold/…`; resuming or releasing writes a tombstone for the key. Every worker of the topic reads it from the start and
/// then follows it, so a cancellation or a pause reaches every worker of every group, survives
/// restarts of workers and broker, and takes effect for jobs a worker has fetched already. Its
/// values are JSON, readable from any Kafka client.
public struct JobControlState: Sendable, Equatable {
    /// The cancellations, by job id.
    public var cancellations: [String: JobCancellation] = [:]
    /// The paused groups, with when each was paused.
    public var pausedGroups: [String: Date] = [:]
    /// The held keys, by their control record's key (`KeyHold.recordKey`).
    public var holds: [String: KeyHold] = [:]
    /// The control offset each hold record key was last changed at, where that is at or past
    /// `holdsReadBelow` (a change this worker stored and applied before reading it back; see
    /// `applyHold`). Entries below it are dropped as it moves, so only those few are kept.
    var holdVersions: [String: Int64] = [:]
    /// The control records below this offset have been applied in order: a hold record below it
    /// is nothing new.
    var holdsReadBelow: Int64 = 0

    public init() {}

    static let cancelPrefix = "cancel/"
    static let pausePrefix = "pause/"

    /// What one control record changed.
    struct Change: Equatable {
        var cancelled: [String] = []
        var pauseChanged: [String] = []
    }

    /// Applies a control record (records of other shapes are ignored: a newer writer's).
    @discardableResult
    mutating func apply(_ record: ConsumedRecord) -> Change {
        // Records come in the control topic's order: the hold records up to this one are applied.
        defer { holdsRead(below: record.offset + 1) }
        guard let key = record.keyString else { return Change() }
        if key.hasPrefix(Self.cancelPrefix) {
            let id = String(key.dropFirst(Self.cancelPrefix.count))
            guard let value = record.value else {
                cancellations[id] = nil
                return Change()
            }
            guard let cancellation = try? JSONDecoder().decode(JobCancellation.self, from: Data(value)), cancellation.id == id else { return Change() }
            guard let known = cancellations[id] else {
                cancellations[id] = cancellation
                return Change(cancelled: [id])
            }
            // Workers update the record from what they knew when they wrote: one may not have read
            // another's update yet, which is kept rather than lost.
            cancellations[id] = known.merged(with: cancellation)
            return Change()
        }
        if key.hasPrefix(KeyHold.recordPrefix) {
            applyHold(key: key, value: record.value, version: record.offset)
            return Change()
        }
        if key.hasPrefix(Self.pausePrefix) {
            let group = String(key.dropFirst(Self.pausePrefix.count))
            let wasPaused = pausedGroups[group] != nil
            if let value = record.value, let pause = try? JSONDecoder().decode(Pause.self, from: Data(value)) {
                pausedGroups[group] = Date(timeIntervalSince1970: Double(pause.pausedAtMs) / 1000)
            } else {
                pausedGroups[group] = nil
            }
            return Change(pauseChanged: wasPaused != (pausedGroups[group] != nil) ? [group] : [])
        }
        return Change()
    }

    /// A pause record's value.
    struct Pause: Codable {
        var group: String
        var pausedAtMs: Int64
    }

    static func cancelRecord(_ cancellation: JobCancellation) throws -> OutgoingRecord {
        OutgoingRecord(key: Array((cancelPrefix + cancellation.id).utf8), value: Array(try JSONEncoder.sorted.encode(cancellation)))
    }

    static func pauseRecord(group: String, pausedAtMs: Int64?) throws -> OutgoingRecord {
        OutgoingRecord(key: Array((pausePrefix + group).utf8),
                       value: try pausedAtMs.map { Array(try JSONEncoder.sorted.encode(Pause(group: group, pausedAtMs: $0))) })
    }
}

/// A job cancelled by id: it never starts, and a run under way is cancelled.
public struct JobCancellation: Codable, Sendable, Equatable {
    public var id: String
    /// When it was cancelled (ms since the Unix epoch).
    public var cancelledAtMs: Int64
    /// The job's key, when it was known.
    public var key: String?
    /// Where the job was last seen, by group ("*": by `cancel`, for every group). A job seen
    /// somewhere is in the job topic, not only held by the broker for later, so its copies can be
    /// bounded by `ends` (see `WorkerControl`).
    public var seen: [String: JobPosition]
    /// The end of each partition of the job topic and of its priority topics (the offset its next
    /// record takes), read by a worker once the grace after the cancellation had passed and the
    /// broker held no copy of the job: every copy of the job (a retry enqueued while the
    /// cancellation was on its way included) is below them, so a group whose committed offsets
    /// have reached those of the topics it reads has finished with the job, and its workers forget
    /// the cancellation. Nil until then. Ends written before priority topics had places name the
    /// job topic's partitions only: a worker that reads a priority topic they leave out reads the
    /// ends again (`endsCover`).
    public var ends: [JobPosition]?

    public init(id: String, cancelledAtMs: Int64, key: String? = nil, seen: [String: JobPosition] = [:], ends: [JobPosition]? = nil) {
        self.id = id
        self.cancelledAtMs = cancelledAtMs
        self.key = key
        self.seen = seen
        self.ends = ends
    }

    public var cancelledAt: Date { Date(timeIntervalSince1970: Double(cancelledAtMs) / 1000) }

    /// Whether `ends` name a partition of each of `topics` (of the job topic `jobTopic`): every
    /// topic that exists has one partition at least, so ends read while it existed name it.
    func endsCover(_ topics: [String], jobTopic: String) -> Bool {
        guard let ends else { return false }
        let named = Set(ends.map { $0.topicPartition(jobTopic: jobTopic).topic })
        return topics.allSatisfy(named.contains)
    }

    /// This cancellation with what a later record of it says, keeping what that one leaves out
    /// (a place or the ends another worker stored meanwhile). Any ends recorded are as good as
    /// any other: all were read after the grace, with nothing held.
    func merged(with later: JobCancellation) -> JobCancellation {
        JobCancellation(id: id, cancelledAtMs: min(cancelledAtMs, later.cancelledAtMs), key: later.key ?? key,
                        seen: seen.merging(later.seen) { $1 }, ends: later.ends ?? ends)
    }
}

/// A record's place in a job topic or one of its priority topics.
public struct JobPosition: Codable, Sendable, Equatable, Hashable {
    public var partition: Int32
    public var offset: Int64
    /// The priority topic (`TOPIC.high`, `TOPIC.low`) the place is in; nil for the job topic
    /// itself, so that a place there is written as before priority topics had places, and one
    /// written then reads as one of the job topic.
    public var topic: String?

    public init(partition: Int32, offset: Int64, topic: String? = nil) {
        self.partition = partition
        self.offset = offset
        self.topic = topic
    }

    /// The place `offset` in `partition`, a partition of the job topic `jobTopic` or of one of its
    /// priority topics.
    init(_ partition: TopicPartition, offset: Int64, jobTopic: String) {
        self.init(partition: partition.partition, offset: offset, topic: partition.topic == jobTopic ? nil : partition.topic)
    }

    /// The partition the place is in, for the job topic `jobTopic`.
    func topicPartition(jobTopic: String) -> TopicPartition { TopicPartition(topic ?? jobTopic, partition) }
}

/// Why a cancellation, pause or job-state query failed.
public enum JobControlError: Error, Equatable, CustomStringConvertible, Sendable {
    case unknownTopic(String)
    case unknownJob(id: String, topic: String)
    case notCancellable(id: String, reason: String)
    /// A listing of this state needs a group (`JobState.listingGroup(_:)`).
    case needsGroup(JobState)
    /// A listing of this state takes no group, and was given this one (`JobState.listingGroup(_:)`).
    case takesNoGroup(JobState, group: String)
    /// A pause or resume named no group (an empty name): a pause holds one group's workers.
    case pauseNeedsGroup
    case unsupportedTransport

    public var description: String {
        switch self {
        case let .unknownTopic(topic): "there is no topic \(topic)"
        case let .unknownJob(id, topic): "no job with id \(id) is queued, scheduled or retrying in \(topic)"
        case let .notCancellable(id, reason): "job \(id) cannot be cancelled: \(reason)"
        case let .needsGroup(state): "state \(state.rawValue) needs a group: what is \(state.rawValue) depends on the group's committed offsets"
        case let .takesNoGroup(state, group):
            "state \(state.rawValue) takes no group (\(group)): \(state.rawValue) jobs are the topic's, whichever group; a group is for \(JobState.grouped)"
        case .pauseNeedsGroup: "pausing or resuming a topic needs a group: a pause holds the workers of one group"
        case .unsupportedTransport: "this transport has no control topic (use EmbeddedTransport or NetworkTransport)"
        }
    }
}

extension JSONEncoder {
    /// Keys sorted, so equal values are equal bytes.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}

extension ConsumedRecord {
    /// The job's id: its `spool-job-id`, or TOPIC/PARTITION/OFFSET for a record without one.
    var jobId: String { header(SpoolHeaders.jobId) ?? "\(topic)/\(partition)/\(offset)" }
}

extension BatchRecord {
    /// The job's id (as `ConsumedRecord.jobId`).
    var jobId: String { header(SpoolHeaders.jobId) ?? "\(topic)/\(partition)/\(offset)" }
}
