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

    /// The dead letters of `topic` that `group` sent (`spool-group`; a letter without one counts
    /// for every group), or all of them without a group. Each group runs every job of the topic,
    /// so a job another group dead-lettered is still queued, done or anything else for this one.
    func deadLettersIfAny(of topic: String, group: String?) async throws -> [DeadLetter] {
        let letters = try await deadLettersIfAny(of: topic)
        guard let group else { return letters }
        return letters.filter { $0.record.header(SpoolHeaders.group).map { $0 == group } ?? true }
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
    ///   `deadLettersIfAny(of:group:)`), and with `group`, the jobs the group
    ///   dead-lettered above its commit point whose dead letter is no longer in that topic
    ///   (deleted, or past its retention): the group's workers will not run them, and their
    ///   attempts and error went with the dead letter, so they are listed with the record's
    ///   attempts (the runs before it) and no error.
    /// - cancelled: the control topic's cancellations.
    /// - running (of `group`, or of every group): what the workers reported last, at most a
    ///   second ago; a worker silent for 3 s (stopped, dead) is left out.
    ///
    /// Jobs of the topic's priority topics (`TOPIC.high`, `TOPIC.low`) are listed too, high
    /// first, each with its own topic. It reads the topics it needs from their start: a listing
    /// costs a read of the topic.
    /// `group` follows `JobState.listingGroup(_:)`: needed for queued, refused for scheduled and
    /// cancelled (`JobControlError`).
    public func jobs(in topic: String, state: JobState, group: String? = nil) async throws -> [JobStatus] {
        let group = try state.listingGroup(group)
        try await requireTopic(topic)
        switch state {
        case .running:
            return try await runningJobs(of: topic, group: group)
        case .cancelled:
            return try await jobs(inOne: topic, of: topic, state: state, group: group)
        default:
            var jobs: [JobStatus] = []
            for member in try await priorityTopics(of: topic) { jobs += try await self.jobs(inOne: member, of: topic, state: state, group: group) }
            return jobs
        }
    }

    /// The jobs of one topic of the job topic `base` (itself or a priority topic) in `state`;
    /// cancellations and running reports are the job topic's.
    private func jobs(inOne topic: String, of base: String, state: JobState, group: String?) async throws -> [JobStatus] {
        switch state {
        case .running:
            return try await runningJobs(of: base, group: group).filter { $0.topic == topic }
        case .dead:
            let letters = try await deadLettersIfAny(of: topic, group: group).filter { !$0.redriven }.map {
                JobStatus(state: .dead, id: $0.id, key: $0.key, topic: topic, partition: $0.originPartition, offset: $0.originOffset,
                          attempts: $0.attempts, lastError: $0.error)
            }
            guard let group else { return letters }
            return letters + (try await inPlace(topic: topic, group: group, cancelled: try await controlState(of: base).cancellations).dead)
        case .cancelled:
            return try await controlState(of: topic).cancellations.values.sorted { ($0.cancelledAtMs, $0.id) < ($1.cancelledAtMs, $1.id) }.map {
                let place = $0.seen["*"] ?? $0.seen.values.first
                return JobStatus(state: .cancelled, id: $0.id, key: $0.key, topic: place?.topic ?? topic, partition: place?.partition, offset: place?.offset,
                                 attempts: 0, cancelledAt: $0.cancelledAt)
            }
        case .scheduled, .retrying:
            let cancelled = try await controlState(of: base).cancellations
            let held = try await heldJobs(of: topic).filter { cancelled[$0.record.jobId] == nil }.compactMap { held -> JobStatus? in
                let attempt = max(1, held.record.header(SpoolHeaders.attempt).flatMap { Int($0) } ?? 1)
                guard (attempt > 1) == (state == .retrying) else { return nil }
                // Another group's retry (`spool-group`): not `group`'s to run.
                if let group, let owner = held.record.header(SpoolHeaders.group), owner != group { return nil }
                return JobStatus(state: state, id: held.record.jobId, key: held.record.keyString, topic: topic, partition: held.partition,
                                 attempts: attempt - 1, nextRunAt: held.dueMs.map { Date(timeIntervalSince1970: Double($0) / 1000) },
                                 lastError: held.record.header(SpoolHeaders.lastError))
            }
            guard state == .retrying, let group else { return held }
            return try await inPlace(topic: topic, group: group, cancelled: cancelled).retrying + held
        case .queued:
            // `listingGroup` let no queued listing through without a group.
            guard let group else { preconditionFailure("a queued listing without a group") }
            let running = Set(try await runningJobs(of: base, group: group).filter { $0.topic == topic }.compactMap { job in
                job.partition.flatMap { partition in job.offset.map { JobPosition(partition: partition, offset: $0) } }
            })
            return try await inPlace(topic: topic, group: group, cancelled: try await controlState(of: base).cancellations).queued.filter { job in
                guard let partition = job.partition, let offset = job.offset else { return true }
                return !running.contains(JobPosition(partition: partition, offset: offset))
            }
        }
    }

    /// The records of `topic` at or after `group`'s committed offsets, split into queued jobs,
    /// jobs retried in place, and jobs the group marked dead whose dead letter is gone.
    private func inPlace(topic: String, group: String, cancelled: [String: JobCancellation]) async throws
        -> (queued: [JobStatus], retrying: [JobStatus], dead: [JobStatus]) {
        let committed = try await controlTransport.committedOffsets(group: group, topic: topic)
        let dead = Set(try await deadLettersIfAny(of: topic, group: group).compactMap { letter -> JobPosition? in
            guard letter.originTopic == topic, let partition = letter.originPartition, let offset = letter.originOffset else { return nil }
            return JobPosition(partition: partition, offset: offset)
        })
        let stored = committed.mapValues { CommitMetadata(decoding: $0.metadata) }
        var queued: [JobStatus] = []
        var retrying: [JobStatus] = []
        var marked: [JobStatus] = []
        for record in try await transport.readAll(topic: topic) {
            let point = committed[record.topicPartition]
            let metadata = stored[record.topicPartition]
            // Finished above the commit point (a job of another key in front of it was not); a
            // redrive marker is no job (see `JobQueue.redrive(_:key:group:)`), nor is another
            // group's retry (`spool-group`) for this one.
            guard record.offset >= point?.offset ?? 0, cancelled[record.jobId] == nil, record.header(SpoolHeaders.redriveHold) == nil,
                  record.header(SpoolHeaders.group).map({ $0 == group }) ?? true,
                  !dead.contains(JobPosition(partition: record.partition, offset: record.offset)),
                  !(metadata?.finished.contains { $0.contains(record.offset) } ?? false) else { continue }
            let recordAttempt = max(1, record.header(SpoolHeaders.attempt).flatMap { Int($0) } ?? 1)
            // Dead-lettered above the commit point, its dead letter gone: the group's next owner
            // finishes it without running it (`DeadLetterMarks`), whatever count it also carries.
            if metadata?.dead.contains(record.offset) ?? false {
                marked.append(JobStatus(state: .dead, id: record.jobId, key: record.keyString, topic: topic, partition: record.partition,
                                        offset: record.offset, attempts: recordAttempt - 1))
                continue
            }
            let nextAttempt = metadata?.attempts[record.offset] ?? recordAttempt
            let status = JobStatus(state: nextAttempt > recordAttempt ? .retrying : .queued, id: record.jobId, key: record.keyString, topic: topic,
                                   partition: record.partition, offset: record.offset, attempts: nextAttempt - 1,
                                   lastError: record.header(SpoolHeaders.lastError))
            if nextAttempt > recordAttempt { retrying.append(status) } else { queued.append(status) }
        }
        return (queued, retrying, marked)
    }
}
