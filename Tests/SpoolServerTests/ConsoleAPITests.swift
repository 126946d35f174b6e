import Foundation
import SpoolBroker
import SpoolEmbedded
import SpoolFormat
@testable import SpoolJobs
import Testing
@testable import SpoolServer
@testable import spool

/// The JSON API under /api/v1/ against a real broker, over real HTTP: every endpoint, its 4xx
/// answers and its page bounds.
@Suite(.serialized)
final class ConsoleAPITests {
    let directory = NSTemporaryDirectory() + "spool-console-api-\(UUID().uuidString.prefix(8))"
    let spool: EmbeddedBroker
    let handler: ConsoleHandler
    let http: HTTPServer

    init() throws {
        spool = try EmbeddedBroker.open(directory: directory, fsync: .never)
        handler = ConsoleHandler(broker: spool.broker, server: nil, jobs: ServeConsoleJobs(spool))
        var config = HTTPConfig()
        config.port = 0
        http = try HTTPServer(config: config, handler: handler)
    }

    deinit {
        http.stop()
        handler.stop()
        try? spool.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func call(_ method: String, _ path: String, body: String? = nil) async -> HTTPReply {
        let port = http.port
        return await blocking { httpRequest(port: port, method, path, body: body) } ?? HTTPReply(status: 0, headers: [:], body: [])
    }

    /// Stores `count` records `value-N` (key `key-N`) in partition 0 of `topic`.
    private func produce(_ topic: String, _ count: Int, partitions: Int = 1) async throws {
        if spool.broker.partitionCount(topic) == nil { _ = try spool.createTopic(topic, partitions: partitions) }
        _ = try await spool.send(topic: topic, records: (0..<count).map {
            OutgoingRecord(key: Array("key-\($0)".utf8), value: Array("value-\($0)".utf8), headers: [RecordHeader("h", "\($0)")], partition: 0)
        })
    }

    @Test func overviewListsTopicsBytesAndGroupsWithLag() async throws {
        try await produce("emails", 5)
        try await spool.broker.storeOffsets(group: "mailers", [TopicPartition("emails", 0): CommittedOffset(offset: 2)])
        let reply = await call("GET", "/api/v1/overview")
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "application/json")
        let topics = try #require(reply.json["topics"] as? [[String: Any]])
        let emails = try #require(topics.first { $0["name"] as? String == "emails" })
        #expect(emails["records"] as? Int == 5)
        #expect((emails["bytes"] as? Int ?? 0) > 0)
        #expect((reply.json["bytesOnDisk"] as? Int ?? 0) >= emails["bytes"] as? Int ?? 0)
        let groups = try #require(reply.json["groups"] as? [[String: Any]])
        #expect(groups.count == 1)
        #expect(groups.first?["group"] as? String == "mailers")
        #expect(groups.first?["state"] as? String == "Empty")
        #expect(groups.first?["totalLag"] as? Int == 3)
        let fsync = try #require(reply.json["fsync"] as? [String: Any])
        #expect(fsync["count"] is Int)
        #expect((reply.json["traffic"] as? [String: Any])?["recordsIn"] as? Int == 5)
    }

    @Test func historyHoldsOneSampleASecondWithRates() async throws {
        handler.history.sample()
        try await produce("emails", 10)
        handler.history.sample()
        let samples = try #require(await call("GET", "/api/v1/history").json["samples"] as? [[String: Any]])
        #expect(samples.count >= 1)
        #expect((samples.last?["recordsInPerSecond"] as? Double ?? 0) > 0)
        #expect(samples.last?["time"] is Int)
    }

    @Test func topicDetailShowsPartitionsRetentionAndConfigs() async throws {
        _ = try spool.createTopic("orders", partitions: 2, configs: ["retention.ms": "3600000"])
        try await produce("orders", 3)
        let reply = await call("GET", "/api/v1/topics/orders")
        #expect(reply.status == 200)
        let partitions = try #require(reply.json["partitions"] as? [[String: Any]])
        #expect(partitions.map { $0["partition"] as? Int } == [0, 1])
        #expect(partitions.map { $0["endOffset"] as? Int } == [3, 0])
        #expect(partitions.map { $0["startOffset"] as? Int } == [0, 0])
        #expect(reply.json["retentionMs"] as? String == "3600000")
        let configs = try #require(reply.json["configs"] as? [[String: Any]])
        #expect(configs.contains { $0["name"] as? String == "cleanup.policy" })
        #expect(await call("GET", "/api/v1/topics/nope").errorStatus == 404)
    }

    @Test func recordsArePagedByOffsetAndTimeWithTextAndBase64() async throws {
        try await produce("events", 12)
        _ = try await spool.send(topic: "events", records: [
            OutgoingRecord(key: nil, value: [0xFF, 0x00, 0xC3], headers: [], partition: 0),
            OutgoingRecord(key: Array("<b>k</b>".utf8), value: Array("<script>alert(1)</script>".utf8), headers: [RecordHeader("x", "<i>")], partition: 0),
        ])
        let first = await call("GET", "/api/v1/topics/events/records?partition=0&offset=0&limit=5")
        #expect(first.status == 200)
        let records = try #require(first.json["records"] as? [[String: Any]])
        #expect(records.map { $0["offset"] as? Int } == [0, 1, 2, 3, 4])
        #expect((records[1]["value"] as? [String: Any])?["text"] as? String == "value-1")
        #expect((records[1]["key"] as? [String: Any])?["base64"] as? String == Data("key-1".utf8).base64EncodedString())
        #expect(((records[1]["headers"] as? [[String: Any]])?.first?["value"] as? [String: Any])?["text"] as? String == "1")
        #expect(first.json["next"] as? Int == 5)
        let last = await call("GET", "/api/v1/topics/events/records?offset=12&limit=500")
        let tail = try #require(last.json["records"] as? [[String: Any]])
        #expect(tail.count == 2)
        let binary = try #require(tail[0]["value"] as? [String: Any])
        #expect(binary["text"] == nil)
        #expect(binary["base64"] as? String == Data([0xFF, 0x00, 0xC3]).base64EncodedString())
        #expect(tail[0]["key"] == nil)
        #expect((tail[1]["value"] as? [String: Any])?["text"] as? String == "<script>alert(1)</script>")
        #expect(last.json["next"] == nil)
        // By time: everything was stored just now, so a time in the past starts at the beginning
        // and one in the future finds nothing.
        let byTime = await call("GET", "/api/v1/topics/events/records?timestamp=0&limit=1")
        #expect((byTime.json["records"] as? [[String: Any]])?.first?["offset"] as? Int == 0)
        let future = await call("GET", "/api/v1/topics/events/records?timestamp=\(Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000)")
        #expect((future.json["records"] as? [[String: Any]])?.isEmpty == true)
    }

    @Test func recordsRefuseBadInputWith4xx() async throws {
        try await produce("events", 1)
        for (query, status) in [("limit=0", 400), ("limit=501", 400), ("limit=x", 400), ("offset=-1", 400), ("offset=1&timestamp=1", 400),
                                ("partition=7", 404), ("partition=-1", 400), ("offset=99999999999999999999", 400)] {
            #expect(await call("GET", "/api/v1/topics/events/records?\(query)").errorStatus == status, "\(query)")
        }
        #expect(await call("GET", "/api/v1/topics/missing/records").errorStatus == 404)
        // Past the end is an empty page, not an error.
        #expect((await call("GET", "/api/v1/topics/events/records?offset=50").json["records"] as? [Any])?.isEmpty == true)
    }

    @Test func groupDetailShowsCommittedEndAndLagPerPartition() async throws {
        try await produce("emails", 4)
        try await spool.broker.storeOffsets(group: "g1", [TopicPartition("emails", 0): CommittedOffset(offset: 1)])
        handler.history.sample()
        let reply = await call("GET", "/api/v1/groups/g1")
        #expect(reply.status == 200)
        #expect(reply.json["state"] as? String == "Empty")
        let partitions = try #require(reply.json["partitions"] as? [[String: Any]])
        #expect(partitions.count == 1)
        #expect(partitions.first?["committed"] as? Int == 1)
        #expect(partitions.first?["endOffset"] as? Int == 4)
        #expect(partitions.first?["lag"] as? Int == 3)
        #expect(reply.json["totalLag"] as? Int == 3)
        #expect((reply.json["lagHistory"] as? [[String: Any]])?.last?["lag"] as? Int == 3)
        #expect(await call("GET", "/api/v1/groups/nobody").errorStatus == 404)
    }

    @Test func resetMovesAnEmptyGroupsOffsets() async throws {
        try await produce("emails", 10)
        try await spool.broker.storeOffsets(group: "g", [TopicPartition("emails", 0): CommittedOffset(offset: 7)])
        func committed() -> Int64? { spool.broker.committedOffsets(group: "g")[TopicPartition("emails", 0)]?.offset }
        let earliest = await call("POST", "/api/v1/groups/g/reset", body: #"{"to":"earliest"}"#)
        #expect(earliest.status == 200)
        #expect((earliest.json["partitions"] as? [[String: Any]])?.first?["previous"] as? Int == 7)
        #expect(committed() == 0)
        #expect(await call("POST", "/api/v1/groups/g/reset", body: #"{"to":"latest"}"#).status == 200)
        #expect(committed() == 10)
        #expect(await call("POST", "/api/v1/groups/g/reset", body: #"{"to":"offset","offset":4}"#).status == 200)
        #expect(committed() == 4)
        // Clamped to the partition's records.
        #expect(await call("POST", "/api/v1/groups/g/reset", body: #"{"to":"offset","offset":999}"#).status == 200)
        #expect(committed() == 10)
        #expect(await call("POST", "/api/v1/groups/g/reset", body: #"{"to":"timestamp","timestamp":0}"#).status == 200)
        #expect(committed() == 0)
        // A group that committed nothing resets on a named topic.
        #expect(await call("POST", "/api/v1/groups/fresh/reset", body: #"{"to":"latest","topic":"emails"}"#).status == 200)
        #expect(spool.broker.committedOffsets(group: "fresh")[TopicPartition("emails", 0)]?.offset == 10)
        for body in [#"{}"#, #"{"to":"sideways"}"#, #"{"to":"offset"}"#, #"{"to":"offset","offset":-3}"#, #"{"to":"timestamp","timestamp":"x"}"#, "not json", #"[1]"#,
                     #"{"to":"latest","topic":7}"#] {
            #expect(await call("POST", "/api/v1/groups/g/reset", body: body).errorStatus == 400, "\(body)")
        }
        #expect(await call("POST", "/api/v1/groups/g/reset", body: #"{"to":"latest","topic":"missing"}"#).errorStatus == 404)
        #expect(committed() == 0)
    }

    @Test func resetRefusesAnUnknownGroupWithoutATopicAndUnknownFields() async throws {
        try await produce("emails", 10, partitions: 2)
        try await spool.broker.storeOffsets(group: "g", [TopicPartition("emails", 0): CommittedOffset(offset: 7), TopicPartition("emails", 1): CommittedOffset(offset: 3)])
        // Nothing to reset, and nothing is created.
        let unknown = await call("POST", "/api/v1/groups/none/reset", body: #"{"to":"latest"}"#)
        #expect(unknown.errorStatus == 404)
        #expect((unknown.json["error"] as? [String: Any])?["message"] as? String == "no group none; name a \"topic\" to start it on")
        #expect(!spool.broker.listGroups().contains { $0.groupId == "none" })
        #expect(spool.broker.committedOffsets(group: "none").isEmpty)
        // A field the call does not take is refused, not ignored: this one would have reset both partitions.
        let partition = await call("POST", "/api/v1/groups/g/reset", body: #"{"to":"earliest","topic":"emails","partition":0}"#)
        #expect(partition.errorStatus == 400)
        #expect((partition.json["error"] as? [String: Any])?["message"] as? String == "unknown field \"partition\": the reset takes to, topic, offset and timestamp")
        #expect(spool.broker.committedOffsets(group: "g").mapValues(\.offset) == [TopicPartition("emails", 0): 7, TopicPartition("emails", 1): 3])
    }

    @Test(.timeLimit(.minutes(1)))
    func resetRefusesAGroupWithMembers() async throws {
        try await produce("emails", 3)
        let consumer = try await spool.consumer(group: "busy", topics: ["emails"])
        let reply = await call("POST", "/api/v1/groups/busy/reset", body: #"{"to":"earliest","topic":"emails"}"#)
        #expect(reply.errorStatus == 409)
        #expect((reply.json["error"] as? [String: Any])?["message"] as? String ?? "" != "")
        await consumer.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func heldKeysAreShownAndTheirRedriveReplaysInOrder() async throws {
        _ = try spool.createTopic("ledger", partitions: 1)
        let queue = ServeConsoleJobs(spool).queue
        let ledger = HeldKeyCommandTests.Ledger()
        let worker = Worker<HeldKeyCommandTests.Entry>(queue: queue, group: "ledgers", retry: .exponential(maxAttempts: 1),
                                                       onDeadLetter: .holdKey) { job in try ledger.run(job.payload.step) }
        let running = Task { try await worker.run() }
        for step in 1...3 { try await queue.enqueue(HeldKeyCommandTests.Entry(step: step), key: "acct", id: "L-\(step)") }
        let deadline = Date().addingTimeInterval(30)
        while worker.stats.parked < 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }

        let page = await call("GET", "/api/v1/dead-letters/ledger")
        let holds = try #require(page.json["holds"] as? [[String: Any]])
        #expect(holds.map { $0["key"] as? String } == ["acct"])
        #expect(holds.first?["group"] as? String == "ledgers" && holds.first?["deadJobId"] as? String == "L-2")
        let letters = try #require(page.json["letters"] as? [[String: Any]])
        #expect(letters.map { $0["id"] as? String } == ["L-2", "L-3"])
        #expect(letters.map { $0["hold"] as? String } == ["ledgers/0:1", "ledgers/0:1"])
        #expect(letters.map { $0["parkedBehind"] as? String } == [nil, "L-2"])

        ledger.state.withLock { $0.fixed = true }
        let redriven = await call("POST", "/api/v1/dead-letters/ledger/redrive", body: #"{"ids":["L-3"]}"#)
        #expect(redriven.json["redriven"] as? [String] == ["L-2", "L-3"])
        try await queue.enqueue(HeldKeyCommandTests.Entry(step: 4), key: "acct", id: "L-4")
        while ledger.ran.count < 5 && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(ledger.ran == [1, 2, 2, 3, 4])
        #expect((await call("GET", "/api/v1/dead-letters/ledger").json["holds"] as? [Any])?.isEmpty == true)
        worker.stop()
        try await running.value
    }

    /// Stores `ids` as dead letters of `jobs`, as a worker writes them.
    func deadLetter(_ ids: [String], originOffsetBase: Int = 0) async throws {
        if spool.broker.partitionCount("jobs") == nil { _ = try spool.createTopic("jobs", partitions: 1) }
        if spool.broker.partitionCount("jobs.dlq") == nil { _ = try spool.createTopic("jobs.dlq", partitions: 1) }
        _ = try await spool.send(topic: "jobs.dlq", records: ids.enumerated().map { index, id in
            OutgoingRecord(key: Array("user-\(index)".utf8), value: Array("{\"n\":\(index)}".utf8), headers: [
                RecordHeader(SpoolHeaders.jobId, id), RecordHeader(SpoolHeaders.attempt, "3"), RecordHeader(SpoolHeaders.error, "SMTP 550 <refused>"),
                RecordHeader(SpoolHeaders.originTopic, "jobs"), RecordHeader(SpoolHeaders.originPartition, "0"),
                RecordHeader(SpoolHeaders.originOffset, "\(originOffsetBase + index)"), RecordHeader(SpoolHeaders.failedAt, "1700000000000"),
            ], partition: 0)
        })
    }

    @Test func deadLettersAreListedPagedRedrivenAndPurged() async throws {
        try await deadLetter(["a", "b", "c", "d"])
        let jobs = await call("GET", "/api/v1/jobs").jsonArray
        #expect(jobs.map { $0["topic"] as? String } == ["jobs"])
        #expect(jobs.first?["deadLetters"] as? Int == 4)
        let page = await call("GET", "/api/v1/dead-letters/jobs?limit=3")
        #expect(page.json["total"] as? Int == 4)
        #expect(page.json["next"] as? Int == 3)
        let letters = try #require(page.json["letters"] as? [[String: Any]])
        #expect(letters.map { $0["id"] as? String } == ["a", "b", "c"])
        #expect(letters.first?["error"] as? String == "SMTP 550 <refused>")
        #expect(letters.first?["attempts"] as? Int == 3)
        #expect(letters.first?["failedAtMs"] as? Int == 1_700_000_000_000)
        #expect(await call("GET", "/api/v1/dead-letters/jobs.dlq?start=3").json["letters"].map { ($0 as? [Any])?.count } == 1)

        let one = await call("POST", "/api/v1/dead-letters/jobs/redrive", body: #"{"ids":["b","zz"]}"#)
        #expect(one.status == 200)
        #expect(one.json["redriven"] as? [String] == ["b"])
        #expect(one.json["missing"] as? [String] == ["zz"])
        #expect((await call("GET", "/api/v1/dead-letters/jobs").json["letters"] as? [[String: Any]])?.map { $0["id"] as? String } == ["a", "c", "d"])
        #expect((await call("GET", "/api/v1/dead-letters/jobs?all=true").json["total"] as? Int) == 4)
        // The job is back in its topic with its attempt count reset.
        let back = await call("GET", "/api/v1/topics/jobs/records").json["records"] as? [[String: Any]]
        #expect(back?.count == 1)
        let headers = back?.first?["headers"] as? [[String: Any]] ?? []
        #expect(headers.contains { $0["key"] as? String == SpoolHeaders.attempt && ($0["value"] as? [String: Any])?["text"] as? String == "1" })

        let all = await call("POST", "/api/v1/dead-letters/jobs/redrive", body: #"{"all":true}"#)
        #expect(all.json["redriven"] as? [String] == ["a", "c", "d"])
        #expect(await call("GET", "/api/v1/dead-letters/jobs").json["total"] as? Int == 0)

        try await deadLetter(["e"])
        let purged = await call("POST", "/api/v1/dead-letters/jobs/purge")
        #expect(purged.status == 200)
        #expect(purged.json["purged"] as? Int == 9)
        #expect(await call("GET", "/api/v1/dead-letters/jobs?all=true").json["total"] as? Int == 0)
    }

    /// Stores jobs of `jobs` as a producer and workers leave them: `q1`…`q3` in the topic (group
    /// `mailers` has finished `q1`), `later` scheduled and `again` held for its third attempt,
    /// `gone` cancelled, and dead letters `d1`, `d2`.
    func jobsInEveryState() async throws {
        // Their origins are past the jobs stored here, so that none of those is taken as dead.
        try await deadLetter(["d1", "d2"], originOffsetBase: 100)
        let dueMs = Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        _ = try await spool.send(topic: "jobs", records: ["q1", "q2", "q3", "gone"].map { id in
            OutgoingRecord(key: Array("user-\(id)".utf8), value: Array("{}".utf8), headers: [RecordHeader(SpoolHeaders.jobId, id)], partition: 0)
        } + [
            OutgoingRecord(key: Array("user-later".utf8), value: Array("{}".utf8), headers: [
                RecordHeader(SpoolHeaders.jobId, "later"), RecordHeader(SpoolHeaders.deliverAt, "\(dueMs)")], partition: 0),
            OutgoingRecord(key: Array("<img src=x onerror=alert(1)>".utf8), value: Array("{}".utf8), headers: [
                RecordHeader(SpoolHeaders.jobId, "again"), RecordHeader(SpoolHeaders.deliverAt, "\(dueMs)"), RecordHeader(SpoolHeaders.attempt, "3"),
                RecordHeader(SpoolHeaders.lastError, "SMTP 421 <try later>")], partition: 0),
        ])
        try await spool.broker.storeOffsets(group: "mailers", [TopicPartition("jobs", 0): CommittedOffset(offset: 1)])
        _ = try await ServeConsoleJobs(spool).queue.cancel(id: "gone", topic: "jobs")
    }

    @Test func jobsAreCountedByStateAndListedWithAttemptsAndLastError() async throws {
        try await jobsInEveryState()
        let counts = await call("GET", "/api/v1/jobs/jobs")
        #expect(counts.status == 200)
        #expect(counts.json["counts"] as? [String: Int] == ["scheduled": 1, "retrying": 1, "running": 0, "dead": 2, "cancelled": 1])
        let groups = try #require(counts.json["groups"] as? [[String: Any]])
        #expect(groups.map { $0["group"] as? String } == ["mailers"])
        #expect(groups.first?["queued"] as? Int == 2)
        #expect(groups.first?["retryingInPlace"] as? Int == 0)

        let retrying = await call("GET", "/api/v1/jobs/jobs?state=retrying")
        #expect(retrying.json["total"] as? Int == 1)
        let job = try #require((retrying.json["jobs"] as? [[String: Any]])?.first)
        #expect(job["id"] as? String == "again")
        #expect(job["key"] as? String == "<img src=x onerror=alert(1)>")
        #expect(job["attempts"] as? Int == 2)
        #expect(job["lastError"] as? String == "SMTP 421 <try later>")
        #expect((job["nextRunAtMs"] as? Int ?? 0) > Int(Date().timeIntervalSince1970 * 1000))
        #expect((await call("GET", "/api/v1/jobs/jobs?state=scheduled").json["jobs"] as? [[String: Any]])?.map { $0["id"] as? String } == ["later"])
        #expect((await call("GET", "/api/v1/jobs/jobs?state=dead").json["jobs"] as? [[String: Any]])?.first?["lastError"] as? String == "SMTP 550 <refused>")
        #expect((await call("GET", "/api/v1/jobs/jobs?state=cancelled").json["jobs"] as? [[String: Any]])?.first?["cancelledAtMs"] is Int)
        #expect(await call("GET", "/api/v1/jobs/jobs?state=running").json["total"] as? Int == 0)

        // Queued for the group that finished q1, paged; a group with no commits has all of them.
        let first = await call("GET", "/api/v1/jobs/jobs?state=queued&group=mailers&limit=1")
        #expect(first.json["total"] as? Int == 2)
        #expect(first.json["next"] as? Int == 1)
        #expect((first.json["jobs"] as? [[String: Any]])?.map { $0["id"] as? String } == ["q2"])
        let second = await call("GET", "/api/v1/jobs/jobs?state=queued&group=mailers&start=1&limit=1")
        #expect((second.json["jobs"] as? [[String: Any]])?.map { $0["id"] as? String } == ["q3"])
        #expect(second.json["next"] == nil)
        #expect(await call("GET", "/api/v1/jobs/jobs?state=queued&group=newcomers").json["total"] as? Int == 3)
    }

    @Test func deadJobsOfAGroupAddTheOnesItMarkedDeadWhoseDeadLetterIsGone() async throws {
        try await jobsInEveryState()
        // mailers dead-lettered q3 (offset 2) above its commit point, and its dead letter is gone
        // from jobs.dlq: the mark in its commit's metadata is all that is left.
        try await spool.broker.storeOffsets(group: "mailers", [TopicPartition("jobs", 0): CommittedOffset(offset: 1, metadata: CommitMetadata(dead: [2]).encoded)])
        let page = await call("GET", "/api/v1/jobs/jobs?state=dead&group=mailers")
        #expect(page.status == 200)
        #expect(page.json["group"] as? String == "mailers")
        #expect(page.json["total"] as? Int == 3)
        let jobs = try #require(page.json["jobs"] as? [[String: Any]])
        #expect(jobs.map { $0["id"] as? String } == ["d1", "d2", "q3"])
        let marked = try #require(jobs.last)
        #expect(marked["state"] as? String == "dead" && marked["key"] as? String == "user-q3")
        #expect(marked["partition"] as? Int == 0 && marked["offset"] as? Int == 2)
        #expect(marked["attempts"] as? Int == 0 && marked["lastError"] == nil, "its attempts and error went with its dead letter")
        // Paged like any listing; the topic's dead letters alone without the group, and a group
        // that marked nothing (refused before) has those only.
        let last = await call("GET", "/api/v1/jobs/jobs?state=dead&group=mailers&start=2&limit=1")
        #expect((last.json["jobs"] as? [[String: Any]])?.map { $0["id"] as? String } == ["q3"] && last.json["next"] == nil)
        #expect(await call("GET", "/api/v1/jobs/jobs?state=dead").json["total"] as? Int == 2)
        let other = await call("GET", "/api/v1/jobs/jobs?state=dead&group=newcomers")
        #expect(other.status == 200)
        #expect((other.json["jobs"] as? [[String: Any]])?.map { $0["id"] as? String } == ["d1", "d2"])
        #expect((await call("GET", "/api/v1/jobs/jobs?state=queued&group=mailers").json["jobs"] as? [[String: Any]])?.map { $0["id"] as? String } == ["q2"])
    }

    @Test func jobCallsRefuseBadInput() async throws {
        try await jobsInEveryState()
        func message(_ path: String) async -> (Int?, String) {
            let reply = await call("GET", path)
            return (reply.errorStatus, (reply.json["error"] as? [String: Any])?["message"] as? String ?? "")
        }
        let unknownState = await message("/api/v1/jobs/jobs?state=stuck")
        #expect(unknownState.0 == 400)
        #expect(unknownState.1.contains("queued, scheduled, running, retrying, dead, cancelled"))
        let noGroup = await message("/api/v1/jobs/jobs?state=queued")
        #expect(noGroup.0 == 400)
        #expect(noGroup.1.contains("group"))
        #expect(await message("/api/v1/jobs/jobs?state=queued&group=").0 == 400)
        for state in ["scheduled", "cancelled"] {
            let grouped = await message("/api/v1/jobs/jobs?state=\(state)&group=newcomers")
            #expect(grouped.0 == 400, "state \(state) with a group")
            #expect(grouped.1.contains("takes no group") && grouped.1.contains("queued, retrying, running or dead"), "\(grouped.1)")
        }
        #expect(await message("/api/v1/jobs/jobs?state=dead&group=newcomers&limit=0").0 == 400)
        #expect(await message("/api/v1/jobs/jobs?state=dead&group=newcomers&start=-1").0 == 400)
        #expect(await message("/api/v1/jobs/nothing?state=dead&group=newcomers").0 == 404)
        let oversize = await message("/api/v1/jobs/jobs?state=dead&limit=501")
        #expect(oversize.0 == 400)
        #expect(oversize.1.contains("1...500"))
        #expect(await message("/api/v1/jobs/jobs?state=dead&limit=0").0 == 400)
        #expect(await message("/api/v1/jobs/jobs?state=dead&start=-1").0 == 400)
        #expect(await message("/api/v1/jobs/nothing").0 == 404)
        #expect(await message("/api/v1/jobs/nothing?state=dead").0 == 404)
        #expect(await call("POST", "/api/v1/jobs/jobs").errorStatus == 405)
        #expect(await call("GET", "/api/v1/jobs/jobs?state=dead&limit=500").json["total"] as? Int == 2)
    }

    @Test func deadLetterCallsRefuseBadInput() async throws {
        try await deadLetter(["a"])
        #expect(await call("GET", "/api/v1/dead-letters/nothing").errorStatus == 404)
        #expect(await call("POST", "/api/v1/dead-letters/nothing/purge").errorStatus == 404)
        for body in [#"{}"#, #"{"ids":[],"all":true}"#, #"{"ids":"a"}"#, #"{"ids":[]}"#, #"{"ids":[1]}"#, "{"] {
            #expect(await call("POST", "/api/v1/dead-letters/jobs/redrive", body: body).errorStatus == 400, "\(body)")
        }
        #expect(await call("GET", "/api/v1/dead-letters/jobs?limit=1000").errorStatus == 400)
        #expect(await call("GET", "/api/v1/dead-letters/jobs?start=-1").errorStatus == 400)
        // `all` is true or false: anything else is refused, not read as false.
        for value in ["yes", "1", "TRUE", ""] {
            let reply = await call("GET", "/api/v1/dead-letters/jobs?all=\(value)")
            #expect(reply.errorStatus == 400, "all=\(value)")
            #expect((reply.json["error"] as? [String: Any])?["message"] as? String == "all must be true or false, not '\(value)'")
        }
        #expect(await call("GET", "/api/v1/dead-letters/jobs?all=false").json["total"] as? Int == 1)
        #expect(await call("GET", "/api/v1/dead-letters/jobs").json["total"] as? Int == 1)
    }

    @Test func topicAndGroupListsAndHeadRequests() async throws {
        try await produce("emails", 3)
        try await spool.broker.storeOffsets(group: "g", [TopicPartition("emails", 0): CommittedOffset(offset: 3)])
        #expect(await call("GET", "/api/v1/topics").jsonArray.map { $0["name"] as? String } == ["emails"])
        #expect(await call("GET", "/api/v1/groups").jsonArray.map { $0["totalLag"] as? Int } == [0])
        let head = await blocking { [port = http.port] () -> (Int?, String?, Int) in
            guard let client = try? HTTPTestClient(port: Int(port)) else { return (nil, nil, -1) }
            client.send("HEAD /api/v1/overview HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            // A HEAD answer has a Content-Length but no body: the next answer follows at once.
            let first = client.raw.readAll(until: "ok\n")
            let status = Int(first.split(separator: " ").dropFirst().first ?? "")
            return (status, first.components(separatedBy: "\r\n").first { $0.hasPrefix("Content-Length") }, first.components(separatedBy: "HTTP/1.1 ").count - 1)
        }
        #expect(head.0 == 200)
        #expect(head.1 != nil && head.1 != "Content-Length: 0")
        #expect(head.2 == 2)
    }

    @Test func unknownEndpointsAndWrongMethodsAreRefused() async throws {
        #expect(await call("GET", "/api/v1/nothing").errorStatus == 404)
        #expect(await call("GET", "/api/v2/overview").errorStatus == 404)
        #expect(await call("DELETE", "/api/v1/overview").errorStatus == 405)
        #expect(await call("GET", "/api/v1/groups/g/reset").errorStatus == 405)
        #expect(await call("POST", "/api/v1/topics/x").errorStatus == 405)
        #expect(await call("POST", "/healthz").errorStatus == 405)
        #expect(await call("GET", "/nothing").errorStatus == 404)
        let page = await call("GET", "/")
        #expect(page.status == 200)
        #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
        #expect(await call("GET", "/console.js").headers["content-type"]?.hasPrefix("text/javascript") == true)
    }
}

extension ConsoleAPITests {
    @Test func metricsEscapeLabelValuesSoAGroupIdCannotForgeSamples() async throws {
        try await produce("emails", 2)
        let group = "evil\"} 1\r\nspool_forged_total 9\n\\"
        try await spool.broker.storeOffsets(group: group, [TopicPartition("emails", 0): CommittedOffset(offset: 1)])
        let metrics = await call("GET", "/metrics").text
        // Lines as a scraper reads them: split at every LF byte ("\r\n" is one Character in Swift).
        let lines = metrics.utf8.split(separator: 10, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        #expect(!lines.contains { $0.hasPrefix("spool_forged_total") })
        #expect(lines.contains("spool_group_lag{group=\"evil\\\"} 1\r\\nspool_forged_total 9\\n\\\\\",topic=\"emails\",partition=\"0\"} 1"))
    }
}

extension ConsoleAPITests {
    @Test func aRecordPageIsBoundedInBytesToo() async throws {
        _ = try spool.createTopic("large", partitions: 1)
        for index in 0..<10 {
            _ = try await spool.send(topic: "large", records: [OutgoingRecord(key: nil, value: [UInt8](repeating: UInt8(65 + index), count: 600 << 10), partition: 0)])
        }
        let first = await call("GET", "/api/v1/topics/large/records?limit=500")
        let records = try #require(first.json["records"] as? [[String: Any]])
        #expect(records.count == 7)
        #expect(first.json["next"] as? Int == 7)
        let rest = await call("GET", "/api/v1/topics/large/records?offset=7&limit=500")
        #expect((rest.json["records"] as? [[String: Any]])?.map { $0["offset"] as? Int } == [7, 8, 9])
    }

    @Test func theJobsListCountsDeadLettersAgainOnlyWhenTheyChange() async throws {
        try await deadLetter(["a", "b"])
        #expect(await call("GET", "/api/v1/jobs").jsonArray.first?["deadLetters"] as? Int == 2)
        #expect(await call("POST", "/api/v1/dead-letters/jobs/redrive", body: #"{"ids":["a"]}"#).status == 200)
        #expect(await call("GET", "/api/v1/jobs").jsonArray.first?["deadLetters"] as? Int == 1)
        try await deadLetter(["c"])
        #expect(await call("GET", "/api/v1/jobs").jsonArray.first?["deadLetters"] as? Int == 2)
    }
}

extension ConsoleAPITests {
    @Test func topicConfigsAreChangedWhereKafkaAllowsIt() async throws {
        _ = try spool.createTopic("orders", partitions: 1)
        let changed = await call("POST", "/api/v1/topics/orders/configs", body: #"{"set":{"retention.ms":"600000","retention.bytes":"1048576"}}"#)
        #expect(changed.status == 200)
        #expect(changed.json["retentionMs"] as? String == "600000")
        #expect(try spool.broker.describeTopic("orders").configs["retention.ms"] == "600000")
        let reset = await call("POST", "/api/v1/topics/orders/configs", body: #"{"delete":["retention.bytes"]}"#)
        #expect(reset.status == 200)
        #expect(try spool.broker.describeTopic("orders").configs["retention.bytes"] == nil)
        for body in [#"{"set":{"retention.ms":"soon"}}"#, #"{"set":{"no.such.config":"1"}}"#, #"{"set":{"retention.ms":5}}"#, #"{"delete":"x"}"#, #"{}"#, #"{"other":1}"#] {
            #expect(await call("POST", "/api/v1/topics/orders/configs", body: body).errorStatus == 400, "\(body)")
        }
        #expect(try spool.broker.describeTopic("orders").configs["retention.ms"] == "600000")
        #expect(await call("POST", "/api/v1/topics/missing/configs", body: #"{"set":{"retention.ms":"1"}}"#).errorStatus == 404)
        #expect(await call("GET", "/api/v1/topics/orders/configs").errorStatus == 405)
    }
}
