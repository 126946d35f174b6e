import Foundation
import SpoolFormat

/// Where a job is in its life, as `JobQueue.jobs(in:state:group:)` lists it.
public enum JobState: String, Codable, Sendable, CaseIterable {
    /// In the topic after the group's committed offset, not finished, cancelled or retrying.
    case queued
    /// Held by the broker until its `spool-deliver-at`, first attempt.
    case scheduled
    /// Running in a worker, as the workers report it (`RunningReport`).
    case running
    /// Failed and waiting for its next attempt.
    case retrying
    /// In the dead-letter topic, not sent back; or, for a group, dead-lettered by it above its
    /// commit point (`DeadLetterMarks`) with its dead letter gone from that topic.
    case dead
    /// Cancelled by id.
    case cancelled
}

extension JobState {
    /// What a listing of the state makes of a worker group.
    public enum GroupUse: Sendable {
        /// Needs one: what is queued depends on the group's committed offsets.
        case required
        /// Lists more (retrying, dead) or less (running) with one.
        case optional
        /// Takes none: the jobs are the topic's, whichever group, and a group would be ignored
        /// while the listing read as that group's.
        case refused
    }

    public var groupUse: GroupUse {
        switch self {
        case .queued: .required
        case .retrying, .running, .dead: .optional
        case .scheduled, .cancelled: .refused
        }
    }

    /// The group a listing of the state uses, from the one asked for (an empty name is none):
    /// the one rule of `jobs(in:state:group:)`, `spool jobs list` and the console's
    /// `/api/v1/jobs/TOPIC?state=S&group=G`, so that all three answer alike.
    public func listingGroup(_ group: String?) throws(JobControlError) -> String? {
        let group = group.flatMap { $0.isEmpty ? nil : $0 }
        switch (groupUse, group) {
        case (.required, nil): throw .needsGroup(self)
        case let (.refused, group?): throw .takesNoGroup(self, group: group)
        default: return group
        }
    }

    /// The states that take a group, as text: "queued, retrying, running or dead" (in the order
    /// the docs and `spool jobs --help` name them).
    static var grouped: String {
        let names = [JobState.queued, .retrying, .running, .dead, .scheduled, .cancelled].filter { $0.groupUse != .refused }.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + (names.count > 1 ? " or " : "") + (names.last ?? "")
    }
}

/// One job as a listing shows it: a plain value, Codable for a JSON API.
public struct JobStatus: Codable, Sendable, Equatable {
    public var state: JobState
    public var id: String
    public var key: String?
    public var topic: String
    /// Where its record is in the topic (nil while the broker holds it).
    public var partition: Int32?
    public var offset: Int64?
    /// Runs made so far (0 for a job that has not run).
    public var attempts: Int
    /// When it runs next, when that is known: the due time of a held record.
    public var nextRunAt: Date?
    /// Why its last run failed, when that is stored (dead letters, retries through the broker).
    public var lastError: String?
    /// When it was cancelled (cancelled jobs).
    public var cancelledAt: Date?

    public init(state: JobState, id: String, key: String? = nil, topic: String, partition: Int32? = nil, offset: Int64? = nil, attempts: Int,
                nextRunAt: Date? = nil, lastError: String? = nil, cancelledAt: Date? = nil) {
        self.state = state
        self.id = id
        self.key = key
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.attempts = attempts
        self.nextRunAt = nextRunAt
        self.lastError = lastError
        self.cancelledAt = cancelledAt
    }
}

extension JobQueue {
    /// The dead letters of a job topic; none when it has no dead-letter topic (a topic that
    /// other clients created and no worker has run yet).
    func deadLettersIfAny(of topic: String) async throws -> [DeadLetter] {
        guard try await controlTransport.partitionCount(of: Self.deadLetterTopic(of: topic)) != nil else { return [] }
        return try await deadLetters(of: topic)
    }

    /// The jobs of `topic` in `state`, oldest first, derived from what the broker stores:
    /// - queued (needs `group`): records at or after the group's committed offset, less those
    ///   cancelled, dead-lettered (in the dead-letter topic, or marked dead in the commit's
    ///   metadata), retrying in place (their counts are in the commit's metadata), or reported
    ///   running by the group's workers.
    ///   A job that finished above an unfinished one stays listed until the commit point passes it.
    /// - scheduled: records the broker holds for later whose `spool-attempt` is 1.
    /// - retrying: records held for a later attempt (`.none` ordering), and with `group`, jobs
    ///   retried in place (`.key`, `.partition`): those have no next run time or error here, as
    ///   only the worker holding them knows them.
    /// - dead: the dead-letter topic's jobs not sent back (with `group`, the ones that group sent:
    ///   `JobSources.letters(of:sentBy:)`), and with `group`, the jobs the group
    ///   dead-lettered above its commit point whose dead letter is no longer in that topic
    ///   (deleted, or past its retention): the group's workers will not run them, and their
    ///   attempts and error went with the dead letter, so they are listed with the record's
    ///   attempts (the runs before it) and no error.
    /// - cancelled: the control topic's cancellations.
    /// - running (of `group`, or of every group): what the workers reported last, at most a
    ///   second ago; a worker silent for 3 s (stopped, dead) is left out.
    ///
    /// Jobs of the topic's priority topics (`TOPIC.high`, `TOPIC.low`) are listed too, high
    /// first, each with its own topic. It reads the topics it needs from their start
    /// (`JobSources.Reads.of(_:group:)`): a listing costs a read of the topic.
    /// `group` follows `JobState.listingGroup(_:)`: needed for queued, refused for scheduled and
    /// cancelled (`JobControlError`).
    public func jobs(in topic: String, state: JobState, group: String? = nil) async throws -> [JobStatus] {
        let group = try state.listingGroup(group)
        try await requireTopic(topic)
        let sources = try await sources(of: topic, reading: .of(state, group: group), group: group)
        return sources.jobs(in: state, group: group)
    }

    /// Reads what the listings of job topic `base` derive from, as much as `reads` asks for,
    /// each topic once; with `group`, that group's committed offsets too.
    func sources(of base: String, reading reads: JobSources.Reads, group: String?) async throws -> JobSources {
        var sources = JobSources(base: base, members: try await priorityTopics(of: base))
        if reads.contains(.cancellations) { sources.cancellations = try await controlState(of: base).cancellations }
        if reads.contains(.reports) { sources.reports = try await runningReports(of: base) }
        if reads.contains(.held) { sources.held = try await heldJobs(ofAny: Set(sources.members)) }
        for member in sources.members {
            if reads.contains(.records) { sources.records[member] = try await transport.readAll(topic: member) }
            if reads.contains(.letters) { sources.letters[member] = try await deadLettersIfAny(of: member) }
        }
        if let group { sources.committed = try await committedOffsets(group: group, of: sources.members) }
        return sources
    }

    /// `group`'s committed offsets on each of `topics` (no read of the topics themselves).
    func committedOffsets(group: String, of topics: [String]) async throws -> [String: [TopicPartition: CommittedOffset]] {
        var committed: [String: [TopicPartition: CommittedOffset]] = [:]
        for topic in topics { committed[topic] = try await controlTransport.committedOffsets(group: group, topic: topic) }
        return committed
    }
}
