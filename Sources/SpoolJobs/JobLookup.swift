import SpoolFormat

/// One job of a job topic found by id (`JobQueue.job(id:in:groups:)`): what the listings say of
/// it, for the topic and for each worker group, and its records in the topic.
public struct JobLookup: Sendable {
    /// What the job is for one group.
    public struct GroupJob: Sendable, Equatable {
        public var group: String
        /// The job as the first of the group's listings running, retrying, dead, queued that has
        /// it shows it; else as the topic's cancelled or scheduled listing does (those are every
        /// group's). Nil when none has it: the job is done for the group (behind its committed
        /// offset, or finished above it).
        public var job: JobStatus?
    }

    public var id: String
    public var topic: String
    /// The job as each group-less listing that has it shows it (scheduled, retrying held by the
    /// broker, running in any group's workers, dead in the dead-letter topic, cancelled), in the
    /// order of `JobState.allCases`.
    public var listed: [JobStatus]
    /// Per group asked for, in that order.
    public var groups: [GroupJob]
    /// The records with the job's id in the topic and its priority topics (high first, then by
    /// partition and offset; each attempt sent back through the topic and each copy redriven is one).
    public var records: [ConsumedRecord]
    /// The topics searched: the job topic and its priority topics that exist, high first.
    public var topics: [String]
}

extension JobQueue {
    /// A group's listings that can hold a job, in the order they are asked: a job running or
    /// retrying is not queued, and one marked dead is neither.
    static let groupStates: [JobState] = [.running, .retrying, .dead, .queued]

    /// The job with this id in `topic`, and what it is for each of `groups`: what
    /// `jobs(in:state:group:)` would answer for it, from one read of the topic (and of each of its
    /// priority, dead-letter, control and running-report topics, and the broker's delay log) plus
    /// each group's committed offsets, where asking every listing reads the topic three times a
    /// group.
    ///
    /// - Throws: `JobControlError.unknownTopic`.
    public func job(id: String, in topic: String, groups: [String]) async throws -> JobLookup {
        try await requireTopic(topic)
        var sources = try await sources(of: topic, reading: .all, group: nil)
        // Which listing holds a record depends on that record alone (its place, headers and the
        // group's commit), so the others can go before any listing is derived.
        sources.records = sources.records.mapValues { $0.filter { $0.jobId == id } }
        let listed = JobState.allCases.filter { $0.groupUse != .required }.compactMap { state in
            sources.jobs(in: state, group: nil).first { $0.id == id }
        }
        let topicWide = listed.first { $0.state == .cancelled } ?? listed.first { $0.state == .scheduled }
        var found: [JobLookup.GroupJob] = []
        for group in groups {
            sources.committed = try await committedOffsets(group: group, of: sources.members)
            let job = Self.groupStates.lazy.compactMap { state in sources.jobs(in: state, group: group).first { $0.id == id } }.first
            found.append(JobLookup.GroupJob(group: group, job: job ?? topicWide))
        }
        let records = sources.members.flatMap { sources.records[$0] ?? [] }
        return JobLookup(id: id, topic: topic, listed: listed, groups: found, records: records, topics: sources.members)
    }
}
