import SpoolFormat

/// One job of a job topic found by id, as the console shows it (SpoolJobs' `JobLookup`): what
/// the listings say of it, for the topic and for each worker group, and its records.
public struct ConsoleJobLookup: Sendable {
    /// What the job is for one group.
    public struct GroupJob: Sendable, Equatable {
        public var group: String
        /// The job as the first of the group's listings (running, retrying, dead, queued) that has
        /// it shows it, else as the topic's cancelled or scheduled listing does; nil when none
        /// has it: done for the group.
        public var job: ConsoleJob?

        public init(group: String, job: ConsoleJob?) {
            self.group = group
            self.job = job
        }
    }

    /// The job as each group-less listing that has it shows it (scheduled, retrying held by the
    /// broker, running, dead in the dead-letter topic, cancelled).
    public var listed: [ConsoleJob]
    public var groups: [GroupJob]
    /// The records with the job's id in the topic and its priority topics.
    public var records: [ConsumedRecord]
    /// The topics searched: the job topic and its priority topics that exist.
    public var topics: [String]

    public init(listed: [ConsoleJob], groups: [GroupJob], records: [ConsumedRecord], topics: [String]) {
        self.listed = listed
        self.groups = groups
        self.records = records
        self.topics = topics
    }

    /// No listing and no record has the job: an id never enqueued, or one whose records are gone
    /// (retention, DeleteRecords) and that no listing holds any more.
    public var isUnknown: Bool { listed.isEmpty && records.isEmpty && groups.allSatisfy { $0.job == nil } }
}
