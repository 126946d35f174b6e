import Foundation
import Glibc
import Testing
@testable import SpoolJobs

struct Errand: Job {
    static let topic = "errands"
    var name: String
}

/// `spool jobs cancel|pause|resume|list`: the real binary against a real `spool serve`, and a
/// worker over the Kafka protocol that obeys what it wrote, across a restart of the server.
@Suite(.serialized) struct JobsCommandTests {
    static func spool(_ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
        try await run(ServerProcess.spoolPath, arguments, timeout: 60)
    }

    @Test func usageErrorsExitWith64() async throws {
        let cases: [([String], String)] = [
            (["jobs"], "unknown subcommand ''"),
            (["jobs", "stop", "errands"], "unknown subcommand 'stop'"),
            (["jobs", "cancel", "errands"], "expected TOPIC and ID"),
            (["jobs", "cancel", "errands", "id", "--group", "g"], "cancel takes no --group"),
            (["jobs", "pause", "errands"], "pause needs --group G"),
            (["jobs", "resume", "errands", "--group", ""], "resume needs --group G"),
            (["jobs", "list", "errands"], "list needs --state STATE"),
            (["jobs", "list", "errands", "--state", "sleeping"], "unknown state 'sleeping' (expected queued, scheduled, running, retrying, dead, cancelled)"),
            (["jobs", "list", "errands", "--state", "queued"], "state queued needs a group: what is queued depends on the group's committed offsets"),
            (["jobs", "pause", "errands", "--group", "g", "--state", "dead"], "--state is for list"),
            // A group that does not change the listing is refused rather than ignored.
            (["jobs", "list", "errands", "--state", "cancelled", "--group", "g"], "state cancelled takes no group (g): cancelled jobs are the topic's, whichever group; a group is for queued, retrying, running or dead"),
            (["jobs", "list", "errands", "--state", "scheduled", "--group", "g"], "state scheduled takes no group (g): scheduled jobs are the topic's, whichever group; a group is for queued, retrying, running or dead"),
        ]
        for (arguments, message) in cases {
            let outcome = try await Self.spool(arguments)
            #expect(outcome.status == 64, "\(arguments)")
            #expect(outcome.errors.contains(message), "\(arguments): \(outcome.errors)")
        }
        let help = try await Self.spool(["jobs", "--help"])
        #expect(help.status == 0 && help.output.contains("usage: spool jobs cancel TOPIC ID"))
    }

    @Test(.timeLimit(.minutes(3)))
    func cancelPauseListAndRestart() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        var server = try await ServerProcess.start(data: data)
        defer { server.kill() }
        var broker = ["--broker", server.bootstrap]

        // Failure paths: no such topic, no such job.
        let unknownTopic = try await Self.spool(["jobs", "cancel", "nowhere", "x"] + broker)
        #expect(unknownTopic.status == 1)
        #expect(unknownTopic.errors == "spool jobs cancel: there is no topic nowhere\n")
        #expect(try await Self.spool(["jobs", "pause", "nowhere", "--group", "g"] + broker).errors == "spool jobs pause: there is no topic nowhere\n")
        #expect(try await Self.spool(["jobs", "list", "nowhere", "--state", "dead"] + broker).status == 1)

        var queue = try JobQueue.connect(to: server.bootstrap, partitions: 1)
        for id in ["e1", "e2", "e3"] { try await queue.enqueue(Errand(name: id), key: "k", id: id) }
        try await queue.enqueue(Errand(name: "tomorrow"), key: "t", id: "tomorrow", runAt: Date().addingTimeInterval(86_400))
        let unknownId = try await Self.spool(["jobs", "cancel", "errands", "ghost"] + broker)
        #expect(unknownId.status == 1)
        #expect(unknownId.errors == "spool jobs cancel: no job with id ghost is queued, scheduled or retrying in errands\n")

        let queued = try await Self.spool(["jobs", "list", "errands", "--state", "queued", "--group", "runners"] + broker)
        #expect(queued.status == 0, "\(queued.errors)")
        #expect(queued.output.split(separator: "\n").dropFirst().map { String($0.split(separator: " ")[0]) } == ["e1", "e2", "e3"])
        let scheduled = try await Self.spool(["jobs", "list", "errands", "--state", "scheduled", "--json"] + broker)
        let jobs = try JSONDecoder.iso8601.decode([JobStatus].self, from: Data(scheduled.output.utf8))
        #expect(jobs.map(\.id) == ["tomorrow"] && jobs.first?.state == .scheduled && jobs.first?.key == "t")
        #expect(jobs.first?.nextRunAt.map { $0 > Date().addingTimeInterval(80_000) } == true)

        #expect(try await Self.spool(["jobs", "cancel", "errands", "e2"] + broker).output == "cancelled e2 in errands\n")
        #expect(try await Self.spool(["jobs", "cancel", "errands", "tomorrow"] + broker).status == 0)
        #expect(try await Self.spool(["jobs", "cancel", "errands", "e2"] + broker).output.hasPrefix("e2 was cancelled already, at "))
        #expect(try await Self.spool(["jobs", "pause", "errands", "--group", "runners"] + broker).output == "paused errands for group runners\n")
        let cancelled = try await Self.spool(["jobs", "list", "errands", "--state", "cancelled"] + broker)
        #expect(cancelled.output.contains("e2  ") && cancelled.output.contains("tomorrow  "))
        #expect(try await Self.spool(["jobs", "list", "errands", "--state", "scheduled"] + broker).errors == "spool jobs list: 0 scheduled jobs in errands\n")

        // A clean stop and a start on the same data: both the cancellations and the pause hold.
        await queue.transport.close()
        #expect(await server.stop() == 0)
        server = try await ServerProcess.start(data: data)
        broker = ["--broker", server.bootstrap]
        queue = try JobQueue.connect(to: server.bootstrap, partitions: 1)
        defer { Task { [queue] in await queue.transport.close() } }
        let started = LockedValue<[String]>([])
        let released = LockedValue(false)
        let worker = Worker<Errand>(queue: queue, group: "runners", ordering: .key, concurrency: 2, retry: .never) { job in
            started.withLock { $0.append(job.id) }
            if job.id == "bad" { throw ErrandError.refused }
            if job.id == "slow" { while !released.value { try await Task.sleep(for: .milliseconds(5)) } }
        }
        let task = Task { try? await worker.run() }
        #expect(await eventually(within: 30) { worker.jobControl.holdsStarts && worker.book.withLock { book in book.assigned.reduce(0) { $0 + book.buffered($1) } } == 3 })
        #expect(started.value.isEmpty)
        let resumed = try await Self.spool(["jobs", "resume", "errands", "--group", "runners"] + broker)
        #expect(resumed.output == "resumed errands for group runners\n")
        #expect(await eventually(within: 30) { worker.stats.succeeded == 2 && worker.stats.cancelled == 1 })
        #expect(started.value == ["e1", "e3"])
        #expect(try await Self.spool(["jobs", "resume", "errands", "--group", "runners"] + broker).output == "errands was not paused for group runners\n")

        // A running job, as its worker reports it.
        try await queue.enqueue(Errand(name: "slow"), key: "s", id: "slow")
        var running: [JobStatus] = []
        // Reports are up to a second old: wait for the one that has it.
        for _ in 0..<100 where !running.contains(where: { $0.id == "slow" }) {
            let listed = try await Self.spool(["jobs", "list", "errands", "--state", "running", "--group", "runners", "--json"] + broker)
            #expect(listed.status == 0, "\(listed.errors)")
            running = try JSONDecoder.iso8601.decode([JobStatus].self, from: Data(listed.output.utf8))
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(running.map(\.id) == ["slow"] && running.first?.key == "s" && running.first?.attempts == 0, "\(running)")
        released.value = true
        #expect(await eventually(within: 30) { worker.stats.succeeded == 3 })

        // A job that fails its only attempt is listed as dead, with its error.
        try await queue.enqueue(Errand(name: "bad"), key: "b", id: "bad")
        #expect(await eventually(within: 30) { worker.stats.deadLettered == 1 })
        let dead = try await Self.spool(["jobs", "list", "errands", "--state", "dead"] + broker)
        #expect(dead.status == 0 && dead.errors == "spool jobs list: 1 dead job in errands\n")
        #expect(dead.output.contains("bad  b    1         errands[0]@") && dead.output.contains("refused"), "\(dead.output)")
        let groupsDead = try await Self.spool(["jobs", "list", "errands", "--state", "dead", "--group", "runners"] + broker)
        #expect(groupsDead.status == 0 && groupsDead.output == dead.output, "its dead letter is there: listed once, from it")
        worker.stop()
        await task.value
        let left = try await Self.spool(["jobs", "list", "errands", "--state", "queued", "--group", "runners"] + broker)
        #expect(left.status == 0 && left.errors == "spool jobs list: 0 queued jobs in errands\n")
        #expect(await server.stop() == 0)
    }
}

enum ErrandError: Error { case refused }

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

