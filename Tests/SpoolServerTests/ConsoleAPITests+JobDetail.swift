import Foundation
import SpoolFormat
@testable import SpoolJobs
import Testing
@testable import SpoolServer
@testable import spool

/// `GET /api/v1/jobs/TOPIC/ID`: one job, its records, and what it is for each group, over the
/// jobs of `jobsInEveryState()`.
extension ConsoleAPITests {
    @Test func aJobShowsEachGroupsStateOfItDeadWhereTheGroupMarkedIt() async throws {
        try await jobsInEveryState()
        // mailers dead-lettered q3 (offset 2) above its commit point and its dead letter is gone;
        // finishers committed past every job stored.
        try await spool.broker.storeOffsets(group: "mailers", [TopicPartition("jobs", 0): CommittedOffset(offset: 1, metadata: CommitMetadata(dead: [2]).encoded)])
        try await spool.broker.storeOffsets(group: "finishers", [TopicPartition("jobs", 0): CommittedOffset(offset: 4)])
        func states(_ id: String) async -> [String: String] {
            let groups = await call("GET", "/api/v1/jobs/jobs/\(id)").json["groups"] as? [[String: Any]] ?? []
            return Dictionary(uniqueKeysWithValues: groups.compactMap { group in (group["group"] as? String).map { ($0, group["state"] as? String ?? "?") } })
        }
        let q3 = await call("GET", "/api/v1/jobs/jobs/q3")
        #expect(q3.status == 200 && q3.json["id"] as? String == "q3" && q3.json["states"] as? [String] == [])
        #expect(await states("q3") == ["finishers": "done", "mailers": "dead"])
        let marked = try #require((q3.json["groups"] as? [[String: Any]])?.first { $0["group"] as? String == "mailers" }?["job"] as? [String: Any])
        #expect(marked["offset"] as? Int == 2 && marked["attempts"] as? Int == 0 && marked["lastError"] == nil)
        #expect(await states("q2") == ["finishers": "done", "mailers": "queued"])
        // The topic's states are every group's: a dead letter, a scheduled and a cancelled job.
        #expect(await call("GET", "/api/v1/jobs/jobs/d1").json["states"] as? [String] == ["dead"])
        #expect(await states("d1") == ["finishers": "dead", "mailers": "dead"])
        #expect(await states("later") == ["finishers": "scheduled", "mailers": "scheduled"])
        #expect(await states("gone") == ["finishers": "cancelled", "mailers": "cancelled"])
        // No listing has q1 (every group is past it): done for both, its record in the topic; an id
        // never enqueued is not found, and an id is one segment.
        #expect(await states("q1") == ["finishers": "done", "mailers": "done"])
        #expect(await call("GET", "/api/v1/jobs/jobs/ghost").errorStatus == 404)
        #expect(await call("GET", "/api/v1/jobs/nothing/q1").errorStatus == 404)
        #expect(await call("POST", "/api/v1/jobs/jobs/q3").errorStatus == 405)
    }

    @Test func aJobEveryGroupFinishedIsDoneWithItsRecord() async throws {
        try await jobsInEveryState()
        // Both groups are past q1 (offset 0): no listing has it, and its record is in the topic.
        try await spool.broker.storeOffsets(group: "finishers", [TopicPartition("jobs", 0): CommittedOffset(offset: 4)])
        let q1 = await call("GET", "/api/v1/jobs/jobs/q1")
        #expect(q1.status == 200 && q1.json["id"] as? String == "q1" && q1.json["states"] as? [String] == [])
        let groups = try #require(q1.json["groups"] as? [[String: Any]])
        #expect(groups.map { $0["group"] as? String } == ["finishers", "mailers"])
        #expect(groups.allSatisfy { $0["state"] as? String == "done" && $0["job"] == nil })
        let records = try #require(q1.json["records"] as? [[String: Any]])
        #expect(records.count == 1)
        let record = try #require(records.first)
        #expect(record["topic"] as? String == "jobs" && record["partition"] as? Int == 0 && record["offset"] as? Int == 0)
        #expect(record["attempt"] as? Int == 1)
        #expect((record["enqueuedAtMs"] as? Int ?? 0) > 1_700_000_000_000)
        #expect((record["key"] as? [String: Any])?["text"] as? String == "user-q1")
        #expect((record["value"] as? [String: Any])?["text"] as? String == "{}")
        #expect((record["headers"] as? [[String: Any]])?.map { $0["key"] as? String } == [SpoolHeaders.jobId])
        // A job a group has not reached is queued for it, done for the one past it, with its record.
        let q2 = await call("GET", "/api/v1/jobs/jobs/q2")
        #expect((q2.json["groups"] as? [[String: Any]])?.map { $0["state"] as? String } == ["done", "queued"])
        #expect((q2.json["records"] as? [[String: Any]])?.map { $0["offset"] as? Int } == [1])
    }

    @Test func anIdNeverEnqueuedIsNotFoundAndSaysSo() async throws {
        try await jobsInEveryState()
        let reply = await call("GET", "/api/v1/jobs/jobs/ghost")
        #expect(reply.errorStatus == 404)
        let message = (reply.json["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message == "no job ghost in jobs: never enqueued (no record of the topic has that id, none was ever removed, and no listing has it)")
    }

    @Test func aJobRemovedByDeleteRecordsIsNotFoundAndSaysSo() async throws {
        try await jobsInEveryState()
        // q1 and q2 (offsets 0 and 1) are deleted; mailers had q2 queued, and now nothing has it.
        #expect(try await spool.broker.deleteRecords(topic: "jobs", partition: 0, before: 2) == 2)
        for id in ["q1", "q2"] {
            let reply = await call("GET", "/api/v1/jobs/jobs/\(id)")
            #expect(reply.errorStatus == 404, "\(id)")
            let message = (reply.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message == "no job \(id) in jobs: no record of the topic has that id and no listing has it: never enqueued, or removed by " +
                "retention or DeleteRecords (jobs[0] starts at offset 2)", "\(id)")
        }
        #expect((await call("GET", "/api/v1/jobs/jobs/q3").json["groups"] as? [[String: Any]])?.map { $0["state"] as? String } == ["queued"])
    }

    /// The lookup of one job reads each topic once, where asking every listing read the topic three
    /// times a group: it must still answer what those listings answer, for every job and group.
    @Test func aJobsLookupAnswersAsTheListingsDo() async throws {
        try await jobsInEveryState()
        // mailers: q2 retried in place (next attempt 3), q3 marked dead, gone finished above its
        // commit point; finishers past every job; newcomers (not asked by the console) at none.
        let metadata = CommitMetadata(attempts: [1: 3], dead: [2], finished: [3...3]).encoded
        try await spool.broker.storeOffsets(group: "mailers", [TopicPartition("jobs", 0): CommittedOffset(offset: 1, metadata: metadata)])
        try await spool.broker.storeOffsets(group: "finishers", [TopicPartition("jobs", 0): CommittedOffset(offset: 4)])
        try await spool.broker.storeOffsets(group: "newcomers", [TopicPartition("jobs", 0): CommittedOffset(offset: 0)])
        let service = ServeConsoleJobs(spool)
        let groups = ["finishers", "mailers", "newcomers"]
        for id in ["q1", "q2", "q3", "gone", "later", "again", "d1", "d2", "ghost"] {
            let found = try await service.job(id, in: "jobs", groups: groups)
            var listed: [ConsoleJob] = []
            for state in ConsoleJobState.allCases where state != .queued {
                listed += try await service.jobs(in: "jobs", state: state, group: nil).filter { $0.id == id }.prefix(1)
            }
            #expect(found.listed == listed, "\(id)")
            for group in groups {
                var job: ConsoleJob?
                for state in [ConsoleJobState.running, .retrying, .dead, .queued] where job == nil {
                    job = try await service.jobs(in: "jobs", state: state, group: group).first { $0.id == id }
                }
                job = job ?? listed.first { $0.state == .cancelled } ?? listed.first { $0.state == .scheduled }
                #expect(found.groups.first { $0.group == group }?.job == job, "\(id) for \(group)")
            }
        }
        let q2 = try await service.job("q2", in: "jobs", groups: groups).groups.map { $0.job?.state.rawValue ?? "done" }
        #expect(q2 == ["done", "retrying", "queued"])
    }

    /// A job's page is read every 10 s: what it reads must not grow with the groups it shows (it
    /// read the topic three times a group when it asked every listing).
    @Test func aJobsPageReadsAsMuchWhateverTheGroups() async throws {
        try await jobsInEveryState()
        func recordsRead(_ id: String) async -> UInt64 {
            let before = spool.broker.metrics.recordsOut.load(ordering: .relaxed)
            #expect(await call("GET", "/api/v1/jobs/jobs/\(id)").status == 200)
            return spool.broker.metrics.recordsOut.load(ordering: .relaxed) - before
        }
        let oneGroup = await recordsRead("q2")
        #expect(oneGroup > 0)
        for group in ["finishers", "newcomers", "others"] {
            try await spool.broker.storeOffsets(group: group, [TopicPartition("jobs", 0): CommittedOffset(offset: 0)])
        }
        #expect(await recordsRead("q2") == oneGroup)
    }

    @Test func aJobsRecordsAreBoundedToTheLastOnes() async throws {
        try await jobsInEveryState()
        // The same id stored 25 times more (as a job retried through the topic would be).
        _ = try await spool.send(topic: "jobs", records: (2...26).map { attempt in
            OutgoingRecord(key: Array("user-q1".utf8), value: Array("{}".utf8), headers: [
                RecordHeader(SpoolHeaders.jobId, "q1"), RecordHeader(SpoolHeaders.attempt, "\(attempt)")], partition: 0)
        })
        let reply = await call("GET", "/api/v1/jobs/jobs/q1")
        let records = try #require(reply.json["records"] as? [[String: Any]])
        #expect(records.map { $0["attempt"] as? Int } == (7...26).map { $0 })
        #expect(reply.json["recordsOmitted"] as? Int == 6)
    }
}
