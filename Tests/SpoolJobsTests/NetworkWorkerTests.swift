import Foundation
import SpoolBroker
import SpoolFormat
import SpoolServer
import Testing
@testable import SpoolJobs

@Suite("Workers over the Kafka protocol", .serialized)
struct NetworkWorkerTests {
    /// A Kafka-protocol server in this process over the test broker, and a queue connected to it.
    private static func served(_ jobs: JobsTestBroker, partitions: Int) throws -> (Server, JobQueue) {
        var serverConfig = ServerConfig()
        serverConfig.port = 0
        let server = try Server(config: serverConfig, broker: jobs.spool.broker)
        return (server, try JobQueue.connect(to: "127.0.0.1:\(server.port)", partitions: partitions))
    }

    @Test("the same worker code runs against a Kafka-protocol server: ordered per key, retried, dead-lettered, redriven")
    func overTheWire() async throws {
        let jobs = try JobsTestBroker()
        defer { jobs.stop() }
        let (server, queue) = try Self.served(jobs, partitions: 4)
        defer { server.stop() }
        defer { Task { await queue.transport.close() } }

        var batch: [JobQueue.Enqueue<Photo>] = []
        for round in 0..<5 { for user in 0..<40 { batch.append(.init(Photo(user: "u\(user)", poison: user == 7 && round == 0), key: "u\(user)", id: "p\(user)-\(round)")) } }
        let enqueued = try await queue.enqueue(batch)
        #expect(enqueued.allSatisfy { $0.offset != nil })
        let recorder = Recorder()
        let order = LockedValue<[String: [String]]>([:])
        let worker = Worker<Photo>(queue: queue, group: "wire-resizers", ordering: .key, concurrency: 8,
                                   retry: .exponential(maxAttempts: 2, base: .milliseconds(50), max: .milliseconds(100))) { job in
            recorder.begin(key: job.payload.user, id: job.id, attempt: job.attempt)
            defer { recorder.end(key: job.payload.user) }
            let redriven = job.headers.contains { $0.key == SpoolHeaders.idempotencyKey && ($0.value ?? []).starts(with: Array("redrive:".utf8)) }
            if job.payload.poison && !redriven { throw PhotoError.corrupt }
            order.withLock { $0[job.payload.user, default: []].append(job.id) }
            recorder.succeeded(key: job.payload.user, id: job.id, sequence: 0)
        }
        let task = Task { try? await worker.run() }
        #expect(await eventually { recorder.succeededCount == 199 && worker.stats.deadLettered == 1 })
        #expect(recorder.state.withLock { $0.overlaps }.isEmpty)
        #expect(order.value["u3"] == (0..<5).map { "p3-\($0)" })
        #expect(recorder.attempts("p7-0") == [1, 2])
        let letters = try await queue.deadLetters(of: "photos")
        #expect(letters.map(\.id) == ["p7-0"])
        #expect(try await queue.redrive("photos", ids: ["p7-0"]).count == 1)
        #expect(await eventually { recorder.succeededCount == 200 })
        worker.stop()
        await task.value
    }

    @Test("the empty place a duplicate enqueue leaves at the end of a partition is committed past: the group's lag reaches 0")
    func emptyPlacesAreCommittedPast() async throws {
        let jobs = try JobsTestBroker()
        defer { jobs.stop() }
        let (server, queue) = try Self.served(jobs, partitions: 1)
        defer { server.stop() }
        defer { Task { await queue.transport.close() } }
        _ = try await queue.enqueue(Photo(user: "u1", poison: false), key: "u1", id: "once")
        _ = try await queue.enqueue(Photo(user: "u1", poison: false), key: "u1", id: "once")
        let end = try #require(jobs.spool.broker.logEndOffset(topic: "photos", partition: 0))
        #expect(end == 2, "the duplicate kept an empty place for the producer's sequence")
        let ran = LockedValue(0)
        let worker = Worker<Photo>(queue: queue, group: "tidy", ordering: .key) { _ in ran.withLock { $0 += 1 } }
        let task = Task { try? await worker.run() }
        #expect(await eventually { jobs.spool.broker.committedOffsets(group: "tidy")[TopicPartition("photos", 0)]?.offset == end },
                "committed \(String(describing: jobs.spool.broker.committedOffsets(group: "tidy"))), log end \(end)")
        #expect(ran.value == 1)
        worker.stop()
        await task.value
    }
}

@Suite("ProcessedJobs")
struct ProcessedJobsTests {
    private func path() -> String { NSTemporaryDirectory() + "spool-processed-\(UUID().uuidString.prefix(8))" }

    @Test("ids marked done survive reopening; once() skips them; a torn last line is ignored")
    func durable() async throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        var store: ProcessedJobs? = try ProcessedJobs(path: file)
        try store!.markDone("job-1")
        var effects = 0
        #expect(try await store!.once("job-2") { effects += 1 })
        #expect(try await store!.once("job-2") { effects += 1 } == false)
        #expect(effects == 1)
        store = nil
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data("job-3\t17".utf8.prefix(6)))
        try handle.close()
        let reopened = try ProcessedJobs(path: file)
        #expect(reopened.contains("job-1") && reopened.contains("job-2"))
        #expect(!reopened.contains("job-3"))
        #expect(throws: ProcessedJobs.Failure.self) { try reopened.markDone("bad\tid") }
    }

    @Test("two stores on one file (two worker processes) see each other's ids")
    func shared() throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let first = try ProcessedJobs(path: file)
        let second = try ProcessedJobs(path: file)
        try first.markDone("from-first")
        #expect(second.contains("from-first"))
        try second.markDone("from-second")
        #expect(first.contains("from-second"))
        #expect(!first.contains("neither"))
        #expect(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count == 2)
    }

    @Test("ids older than the retention are forgotten, and the file is rewritten without them")
    func retention() throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let old = Int64(Date().timeIntervalSince1970 * 1000) - 10_000
        try Data((0..<10).map { "old-\($0)\t\(old)\n" }.joined().utf8).write(to: URL(fileURLWithPath: file))
        let store = try ProcessedJobs(path: file, retention: .seconds(5))
        try store.markDone("new")
        #expect(store.count == 1)
        #expect(!store.contains("old-1") && store.contains("new"))
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!text.contains("old-"))
    }
}
