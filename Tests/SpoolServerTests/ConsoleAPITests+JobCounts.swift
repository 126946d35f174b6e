import Foundation
import SpoolFormat
@testable import SpoolJobs
import Testing
@testable import SpoolServer
@testable import spool

/// `GET /api/v1/jobs/TOPIC` without `state`: the counts, over the jobs of `jobsInEveryState()`.
extension ConsoleAPITests {
    /// A retry `group` waits for in the broker: its third attempt, due in an hour, `spool-group` set.
    func heldRetry(_ id: String, of group: String) async throws {
        let dueMs = Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        _ = try await spool.send(topic: "jobs", records: [
            OutgoingRecord(key: Array("user-\(id)".utf8), value: Array("{}".utf8), headers: [
                RecordHeader(SpoolHeaders.jobId, id), RecordHeader(SpoolHeaders.deliverAt, "\(dueMs)"), RecordHeader(SpoolHeaders.attempt, "3"),
                RecordHeader(SpoolHeaders.group, group)], partition: 0),
        ])
    }

    /// The counts come from one read of each topic, where they were a listing each: they must
    /// still be the sizes of those listings, for the topic and for every group.
    @Test func jobCountsAreTheSizesOfTheListings() async throws {
        try await jobsInEveryState()
        try await heldRetry("others-retry", of: "others")
        let metadata = CommitMetadata(attempts: [1: 3], dead: [2], finished: [3...3]).encoded
        try await spool.broker.storeOffsets(group: "mailers", [TopicPartition("jobs", 0): CommittedOffset(offset: 1, metadata: metadata)])
        try await spool.broker.storeOffsets(group: "finishers", [TopicPartition("jobs", 0): CommittedOffset(offset: 4)])
        let service = ServeConsoleJobs(spool)
        let groups = ["finishers", "mailers", "newcomers", "others"]
        let counts = try await service.counts(of: "jobs", groups: groups)
        for state in ConsoleJobState.allCases where state != .queued {
            #expect(counts.counts[state] == (try await service.jobs(in: "jobs", state: state, group: nil).count), "\(state)")
        }
        #expect(counts.groups.map(\.group) == groups)
        for counted in counts.groups {
            #expect(counted.queued == (try await service.jobs(in: "jobs", state: .queued, group: counted.group).count), "\(counted.group)")
        }
        #expect(counts.counts[.retrying] == 2)
    }

    /// A group's retries in place are counted as such, whatever another group has the broker hold
    /// (they were counted as the group's retrying listing less every group's held retries).
    @Test func retriesInPlaceAreNotOffsetByAnotherGroupsHeldRetries() async throws {
        try await jobsInEveryState()
        try await heldRetry("others-retry", of: "others")
        // mailers retries q2 (offset 1) in place: its next attempt is the third.
        let metadata = CommitMetadata(attempts: [1: 3]).encoded
        try await spool.broker.storeOffsets(group: "mailers", [TopicPartition("jobs", 0): CommittedOffset(offset: 1, metadata: metadata)])
        try await spool.broker.storeOffsets(group: "others", [TopicPartition("jobs", 0): CommittedOffset(offset: 0)])
        let counts = await call("GET", "/api/v1/jobs/jobs")
        #expect(counts.status == 200)
        let groups = try #require(counts.json["groups"] as? [[String: Any]])
        let byGroup = Dictionary(uniqueKeysWithValues: groups.compactMap { group in (group["group"] as? String).map { ($0, group) } })
        #expect(byGroup["mailers"]?["retryingInPlace"] as? Int == 1)
        #expect(byGroup["mailers"]?["queued"] as? Int == 1)
        #expect(byGroup["others"]?["retryingInPlace"] as? Int == 0)
        #expect((counts.json["counts"] as? [String: Int])?["retrying"] == 2)
    }

    /// A group that has committed only on a priority topic reads the job topic: the counts and a
    /// job's page show it.
    @Test func aGroupCommittedOnlyOnAPriorityTopicIsShown() async throws {
        try await jobsInEveryState()
        _ = try spool.createTopic("jobs.high", partitions: 1)
        _ = try await spool.send(topic: "jobs.high", records: [
            OutgoingRecord(key: Array("user-urgent".utf8), value: Array("{}".utf8), headers: [RecordHeader(SpoolHeaders.jobId, "urgent")], partition: 0),
        ])
        try await spool.broker.storeOffsets(group: "responders", [TopicPartition("jobs.high", 0): CommittedOffset(offset: 0)])
        let counts = await call("GET", "/api/v1/jobs/jobs")
        let groups = try #require(counts.json["groups"] as? [[String: Any]])
        #expect(groups.map { $0["group"] as? String } == ["mailers", "responders"])
        // Every job of the topic is queued for responders (no commit there), and the urgent one.
        #expect(groups.last?["queued"] as? Int == 4)
        let urgent = await call("GET", "/api/v1/jobs/jobs/urgent")
        let states = (urgent.json["groups"] as? [[String: Any]])?.map { "\($0["group"] as? String ?? "?")=\($0["state"] as? String ?? "?")" }
        #expect(states == ["mailers=queued", "responders=queued"])
    }
}
