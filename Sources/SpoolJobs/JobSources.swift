import Foundation
import SpoolFormat

/// What the listings of one job topic (`JobQueue.jobs(in:state:group:)`) are derived from, each
/// topic read once, and the derivation itself: a pure function of what was read, so that a
/// listing and the lookup of one job (`JobQueue.job(id:in:groups:)`) answer alike.
struct JobSources: Sendable {
    /// The topics a listing reads: each is a read of a whole topic from its start.
    struct Reads: OptionSet, Sendable {
        let rawValue: Int
        /// The job topic and its priority topics.
        static let records = Reads(rawValue: 1 << 0)
        /// Their dead-letter topics.
        static let letters = Reads(rawValue: 1 << 1)
        /// The broker's delay log.
        static let held = Reads(rawValue: 1 << 2)
        /// The running reports (`TOPIC.running`).
        static let reports = Reads(rawValue: 1 << 3)
        /// The control topic (`TOPIC.control`).
        static let cancellations = Reads(rawValue: 1 << 4)
        static let all: Reads = [.records, .letters, .held, .reports, .cancellations]

        /// What a listing of `state` reads, with or without a group.
        static func of(_ state: JobState, group: String?) -> Reads {
            let inPlace: Reads = group == nil ? [] : [.records, .letters, .cancellations]
            switch state {
            case .running: return .reports
            case .cancelled: return .cancellations
            case .dead: return Reads.letters.union(inPlace)
            case .scheduled, .retrying: return Reads([.held, .cancellations]).union(inPlace)
            case .queued: return [.records, .letters, .reports, .cancellations]
            }
        }
    }

    /// The job topic.
    var base: String
    /// The job topic and its priority topics that exist, high first.
    var members: [String]
    /// Per member, its records (up to its end when read).
    var records: [String: [ConsumedRecord]] = [:]
    /// Per member, its dead letters, every group's, those sent back included.
    var letters: [String: [DeadLetter]] = [:]
    /// The records the broker holds for any member.
    var held: [HeldJob] = []
    /// The live workers' latest running reports.
    var reports: [RunningReport] = []
    /// The job topic's cancellations.
    var cancellations: [String: JobCancellation] = [:]
    /// Per member, the committed offsets of the group the listing is for.
    var committed: [String: [TopicPartition: CommittedOffset]] = [:]

    /// The jobs in `state` (see `JobQueue.jobs(in:state:group:)`), from what was read.
    func jobs(in state: JobState, group: String?) -> [JobStatus] {
        switch state {
        case .running:
            return JobQueue.runningJobs(reports, group: group)
        case .cancelled:
            return cancellations.values.sorted { ($0.cancelledAtMs, $0.id) < ($1.cancelledAtMs, $1.id) }.map {
                let place = $0.seen["*"] ?? $0.seen.values.first
                return JobStatus(state: .cancelled, id: $0.id, key: $0.key, topic: place?.topic ?? base, partition: place?.partition, offset: place?.offset,
                                 attempts: 0, cancelledAt: $0.cancelledAt)
            }
        case .dead:
            return members.flatMap { topic in
                let letters = Self.letters(of: letters[topic] ?? [], sentBy: group).filter { !$0.redriven }.map {
                    JobStatus(state: .dead, id: $0.id, key: $0.key, topic: topic, partition: $0.originPartition, offset: $0.originOffset,
                              attempts: $0.attempts, lastError: $0.error)
                }
                return letters + (group.map { inPlace(topic: topic, group: $0).dead } ?? [])
            }
        case .scheduled, .retrying:
            return members.flatMap { topic in
                let held = heldJobs(of: topic, state: state, group: group)
                guard state == .retrying, let group else { return held }
                return inPlace(topic: topic, group: group).retrying + held
            }
        case .queued:
            // `listingGroup` let no queued listing through without a group.
            guard let group else { preconditionFailure("a queued listing without a group") }
            let running = JobQueue.runningJobs(reports, group: group)
            return members.flatMap { topic in
                let places = Set(running.filter { $0.topic == topic }.compactMap { job in
                    job.partition.flatMap { partition in job.offset.map { JobPosition(partition: partition, offset: $0) } }
                })
                return inPlace(topic: topic, group: group).queued.filter { job in
                    guard let partition = job.partition, let offset = job.offset else { return true }
                    return !places.contains(JobPosition(partition: partition, offset: offset))
                }
            }
        }
    }

    /// The jobs `group`'s workers retry in place (`.key`, `.partition`): its retrying listing
    /// without the records the broker holds.
    func retryingInPlace(group: String) -> [JobStatus] {
        members.flatMap { inPlace(topic: $0, group: group).retrying }
    }

    /// The dead letters `group` sent (`spool-group`; a letter without one counts for every
    /// group), or all of them without a group. Each group runs every job of the topic, so a job
    /// another group dead-lettered is still queued, done or anything else for this one.
    static func letters(of letters: [DeadLetter], sentBy group: String?) -> [DeadLetter] {
        guard let group else { return letters }
        return letters.filter { $0.record.header(SpoolHeaders.group).map { $0 == group } ?? true }
    }

    /// The held records of `topic` in `state` (scheduled: first attempt; retrying: a later one),
    /// less cancelled ones and, with `group`, other groups' retries.
    private func heldJobs(of topic: String, state: JobState, group: String?) -> [JobStatus] {
        held.filter { $0.record.header(SpoolHeaders.heldTopic) == topic && cancellations[$0.record.jobId] == nil }.compactMap { held -> JobStatus? in
            let attempt = max(1, held.record.header(SpoolHeaders.attempt).flatMap { Int($0) } ?? 1)
            guard (attempt > 1) == (state == .retrying) else { return nil }
            // Another group's retry (`spool-group`): not `group`'s to run.
            if let group, let owner = held.record.header(SpoolHeaders.group), owner != group { return nil }
            return JobStatus(state: state, id: held.record.jobId, key: held.record.keyString, topic: topic, partition: held.partition,
                             attempts: attempt - 1, nextRunAt: held.dueMs.map { Date(timeIntervalSince1970: Double($0) / 1000) },
                             lastError: held.record.header(SpoolHeaders.lastError))
        }
    }

    /// The records of `topic` at or after `group`'s committed offsets, split into queued jobs,
    /// jobs retried in place, and jobs the group marked dead whose dead letter is gone.
    private func inPlace(topic: String, group: String) -> (queued: [JobStatus], retrying: [JobStatus], dead: [JobStatus]) {
        let committed = committed[topic] ?? [:]
        let dead = Set(Self.letters(of: letters[topic] ?? [], sentBy: group).compactMap { letter -> JobPosition? in
            guard letter.originTopic == topic, let partition = letter.originPartition, let offset = letter.originOffset else { return nil }
            return JobPosition(partition: partition, offset: offset)
        })
        let stored = committed.mapValues { CommitMetadata(decoding: $0.metadata) }
        var queued: [JobStatus] = []
        var retrying: [JobStatus] = []
        var marked: [JobStatus] = []
        for record in records[topic] ?? [] {
            let point = committed[record.topicPartition]
            let metadata = stored[record.topicPartition]
            // Finished above the commit point (a job of another key in front of it was not); a
            // redrive marker is no job (see `JobQueue.redrive(_:key:group:)`), nor is another
            // group's retry (`spool-group`) for this one.
            guard record.offset >= point?.offset ?? 0, cancellations[record.jobId] == nil, record.header(SpoolHeaders.redriveHold) == nil,
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
