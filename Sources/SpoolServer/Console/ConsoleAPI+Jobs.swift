import SpoolBroker
import SpoolFormat

/// `GET /api/v1/jobs/TOPIC`: a job topic's counts by state, or with `?state=S` a page of its
/// jobs in that state.
extension ConsoleAPI {
    /// Groups whose queued jobs one counts call counts at most: each costs a read of the topic.
    static let countedGroupsMax = 20

    struct JobCounts: Encodable {
        struct GroupCounts: Encodable {
            var group: String
            /// Jobs at or after the group's committed offsets, not running, retrying, dead or cancelled.
            var queued: Int
            /// Jobs the group's workers retry in place (`.key` and `.partition` ordering).
            var retryingInPlace: Int
            /// Jobs the group finished per second over the last minute (its commits moving on, on
            /// the topic and its priority topics).
            var finishedPerSecond: Double?
        }
        var topic: String
        /// Jobs enqueued per second over the last minute (records stored in the topic and its
        /// priority topics).
        var enqueuedPerSecond: Double?
        /// Jobs in each state that does not depend on a group: scheduled, retrying (held by the
        /// broker for a later attempt), running (every group), dead, cancelled.
        var counts: [String: Int]
        /// Per group that has committed offsets on the topic or one of its priority topics, by
        /// name (at most 20).
        var groups: [GroupCounts]
    }

    struct JobPage: Encodable {
        var topic: String
        var state: ConsoleJobState
        var group: String?
        /// Jobs in the state.
        var total: Int
        var jobs: [ConsoleJob]
        /// The `start` of the next page; nil on the last.
        var next: Int?
    }

    /// The counts without `state`; with it, `?state=S[&group=G][&start=N][&limit=N]` (limit
    /// 1...500, default 50) pages through the jobs in `S`, oldest first. `group` is required for
    /// queued, refused for scheduled and cancelled (`ConsoleJobs.listingGroup(for:_:)`, the rule of
    /// `spool jobs list --group`), and means what that does for the others.
    func jobsOfTopic(_ topic: String) async throws -> HTTPResponse {
        guard broker.partitionCount(topic) != nil else { throw APIError(404, "no topic \(topic)") }
        guard let name = request.query["state"] else { return .json(try await jobCounts(topic)) }
        guard let state = ConsoleJobState(rawValue: name) else {
            throw APIError(400, "unknown state '\(name)': expected one of \(ConsoleJobState.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // The job runtime's rule, as `spool jobs list` applies it: checked before any list is read.
        let group: String?
        do { group = try service().listingGroup(for: state, request.query["group"]) } catch let refusal as ConsoleRefusal { throw APIError(400, refusal.message) }
        let window = try pageWindow()
        let jobs = try await service().jobs(in: topic, state: state, group: group)
        let page = window.cut(jobs)
        return .json(JobPage(topic: topic, state: state, group: group, total: jobs.count, jobs: page.items, next: page.next))
    }

    func jobCounts(_ topic: String) async throws -> JobCounts {
        let jobs = try service()
        let members = jobs.jobTopics(of: topic)
        let found = try await jobs.counts(of: topic, groups: try groupsReading(topic))
        let history = handler.history
        return JobCounts(topic: topic, enqueuedPerSecond: Self.sum(members.map { history.storedPerSecond(topic: $0) }),
                         counts: Dictionary(uniqueKeysWithValues: found.counts.map { ($0.key.rawValue, $0.value) }),
                         groups: found.groups.map { counted in
                             .init(group: counted.group, queued: counted.queued, retryingInPlace: counted.retryingInPlace,
                                   finishedPerSecond: Self.sum(members.map { history.committedPerSecond(group: counted.group, topic: $0) }))
                         })
    }

    /// The rates of a job topic's topics added up; nil when none has one yet.
    private static func sum(_ rates: [Double?]) -> Double? {
        let known = rates.compactMap { $0 }
        return known.isEmpty ? nil : known.reduce(0, +)
    }

    /// The groups with committed offsets on `topic` or one of its priority topics, by name, at
    /// most `countedGroupsMax`.
    func groupsReading(_ topic: String) throws -> [String] {
        let topics = Set(try service().jobTopics(of: topic))
        let names = broker.listGroups().map(\.groupId).sorted()
        return Array(names.lazy.filter { broker.committedOffsets(group: $0).keys.contains { topics.contains($0.topic) } }.prefix(Self.countedGroupsMax))
    }
}
