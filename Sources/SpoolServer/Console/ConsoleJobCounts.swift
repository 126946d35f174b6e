/// How many jobs of a job topic are in each state, as the console shows them (SpoolJobs'
/// `JobCounts`): the size of each listing `ConsoleJobs.jobs(in:state:group:)` would give.
public struct ConsoleJobCounts: Sendable, Equatable {
    /// What one group has left of the topic.
    public struct GroupCounts: Sendable, Equatable {
        public var group: String
        /// Jobs in the group's queued listing.
        public var queued: Int
        /// Jobs the group's workers retry in place: its retrying listing less the broker's held retries.
        public var retryingInPlace: Int

        public init(group: String, queued: Int, retryingInPlace: Int) {
            self.group = group
            self.queued = queued
            self.retryingInPlace = retryingInPlace
        }
    }

    /// Per state but queued, the size of its group-less listing.
    public var counts: [ConsoleJobState: Int]
    /// Per group asked for, in that order.
    public var groups: [GroupCounts]

    public init(counts: [ConsoleJobState: Int], groups: [GroupCounts]) {
        self.counts = counts
        self.groups = groups
    }
}
