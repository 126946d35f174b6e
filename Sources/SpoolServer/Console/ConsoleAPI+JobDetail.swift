/// `GET /api/v1/jobs/TOPIC/ID`: one job and, per group that has committed offsets on the topic,
/// what that job is for the group, from the same listings as `?state=S&group=G`.
extension ConsoleAPI {
    struct JobDetail: Encodable {
        struct GroupState: Encodable {
            var group: String
            /// `queued`, `running`, `retrying` or `dead` when the group's listing of that state has
            /// the job; `scheduled` or `cancelled` when the topic's has it; else `done`: behind the
            /// group's commit point, or finished above it.
            var state: String
            /// The job as the group's listing shows it (absent when done).
            var job: ConsoleJob?
        }
        var topic: String
        var id: String
        /// The states whose group-less listings have the job: `scheduled`, `retrying` (held by the
        /// broker), `running` (in any group's workers), `dead` (in the dead-letter topic), `cancelled`.
        var states: [ConsoleJobState]
        /// Per group with committed offsets on the topic, by name (at most 20).
        var groups: [GroupState]
    }

    /// The listings of a group that can hold a job, in the order they are asked: a job running
    /// or retrying is not queued, and one marked dead is neither.
    private static let groupStates: [ConsoleJobState] = [.running, .retrying, .dead, .queued]

    /// 404 when no listing has the job: an id never enqueued, or a job every group has done.
    func jobOfTopic(_ topic: String, id: String) async throws -> JobDetail {
        guard broker.partitionCount(topic) != nil else { throw APIError(404, "no topic \(topic)") }
        let service = try service()
        var topicWide: [ConsoleJobState: ConsoleJob] = [:]
        for state in ConsoleJobState.allCases where state != .queued {
            if let job = try await service.jobs(in: topic, state: state, group: nil).first(where: { $0.id == id }) { topicWide[state] = job }
        }
        var groups: [JobDetail.GroupState] = []
        for group in groupsReading(topic) {
            var found: JobDetail.GroupState?
            for state in Self.groupStates where found == nil {
                if let job = try await service.jobs(in: topic, state: state, group: group).first(where: { $0.id == id }) {
                    found = .init(group: group, state: state.rawValue, job: job)
                }
            }
            // Scheduled and cancelled jobs are the topic's: every group's, whatever its offsets.
            if found == nil, let state = [ConsoleJobState.cancelled, .scheduled].first(where: { topicWide[$0] != nil }) {
                found = .init(group: group, state: state.rawValue, job: topicWide[state])
            }
            groups.append(found ?? .init(group: group, state: "done", job: nil))
        }
        guard !topicWide.isEmpty || groups.contains(where: { $0.job != nil }) else {
            throw APIError(404, "no job \(id) in \(topic): no listing has it (never enqueued, or every group has done it)")
        }
        return JobDetail(topic: topic, id: id, states: ConsoleJobState.allCases.filter { topicWide[$0] != nil }, groups: groups)
    }
}
