import SpoolFormat

/// How many jobs of a job topic are in each state (`JobQueue.jobCounts(in:groups:)`): the size
/// of each listing `JobQueue.jobs(in:state:group:)` would give.
public struct JobCounts: Sendable, Equatable {
    /// What one group has left of the topic.
    public struct GroupCounts: Sendable, Equatable {
        public var group: String
        /// Jobs in the group's queued listing.
        public var queued: Int
        /// Jobs the group's workers retry in place (`.key` and `.partition` ordering): its
        /// retrying listing less the records the broker holds for a later attempt.
        public var retryingInPlace: Int
    }

    public var topic: String
    /// Per state a listing without a group serves (every state but queued), its size.
    public var counts: [JobState: Int]
    /// Per group asked for, in that order.
    public var groups: [GroupCounts]
    /// The topics read: the job topic and its priority topics that exist, high first.
    public var topics: [String]
}

extension JobQueue {
    /// How many jobs of `topic` each listing has, for the topic and for each of `groups`, from
    /// one read of the topic (and of each of its priority, dead-letter, control and
    /// running-report topics, and the broker's delay log) plus each group's committed offsets,
    /// where asking every listing reads the topic again for each.
    ///
    /// - Throws: `JobControlError.unknownTopic`.
    public func jobCounts(in topic: String, groups: [String]) async throws -> JobCounts {
        try await requireTopic(topic)
        let states = JobState.allCases.filter { $0.groupUse != .required }
        var reads = states.reduce(into: JobSources.Reads()) { $0.formUnion(.of($1, group: nil)) }
        // The group's own listings read the topic itself too.
        if let group = groups.first { reads.formUnion(Reads.of(.queued, group: group).union(.of(.retrying, group: group))) }
        var sources = try await sources(of: topic, reading: reads, group: nil)
        var counts: [JobState: Int] = [:]
        for state in states { counts[state] = sources.jobs(in: state, group: nil).count }
        var found: [JobCounts.GroupCounts] = []
        for group in groups {
            sources.committed = try await committedOffsets(group: group, of: sources.members)
            found.append(JobCounts.GroupCounts(group: group, queued: sources.jobs(in: .queued, group: group).count,
                                               retryingInPlace: sources.retryingInPlace(group: group).count))
        }
        return JobCounts(topic: topic, counts: counts, groups: found, topics: sources.members)
    }

    private typealias Reads = JobSources.Reads
}
