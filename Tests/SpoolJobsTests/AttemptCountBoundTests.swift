import Foundation
import SpoolFormat
import Testing
@testable import SpoolJobs

/// Attempt counts of jobs retrying in place travel in the commit's metadata, which Kafka caps at
/// 4 KB: a partition must never have more jobs started and unfinished than that can carry.
@Suite("Attempt counts within the commit metadata limit", .serialized)
struct AttemptCountBoundTests {
    private static func job(_ partition: Int32, _ offset: Int64, key: String) -> ConsumedRecord {
        ConsumedRecord(topic: "jobs", partition: partition, offset: offset, timestamp: 0, key: Array(key.utf8), value: [], headers: [])
    }

    @Test("with 13-digit offsets and 300 failing keys, every job started has its count in the commit, and other partitions flow")
    func everyStartedJobIsCarried() throws {
        var book = JobBook(ordering: .key, concurrency: 1000)
        let busy = TopicPartition("jobs", 0), quiet = TopicPartition("jobs", 1)
        book.assign(busy, committed: nil)
        book.assign(quiet, committed: nil)
        let base: Int64 = 1_000_000_000_000
        for index in 0..<300 { _ = book.add(Self.job(0, base + Int64(index), key: "key-\(index)"), now: 0) }
        var waiting: [JobTicket] = []
        var wakes: [JobWake] = []
        while let ticket = book.next() {
            waiting.append(ticket)
            wakes += book.retry(ticket, attempt: 2, atMs: 1_000).map { [$0] } ?? []
        }
        #expect(!waiting.isEmpty)
        let point = try #require(book.commitPoint(busy))
        #expect(point.offset == base)
        #expect(point.metadata.utf8.count <= 4096)
        let carried = AttemptMetadata.decode(point.metadata)
        #expect(carried.count == waiting.count, "\(waiting.count) jobs started, \(carried.count) counts in the commit")
        #expect(carried == Dictionary(uniqueKeysWithValues: waiting.map { ($0.offset, 2) }))

        // The full partition holds back only itself.
        _ = book.add(Self.job(1, 0, key: "elsewhere"), now: 0)
        let elsewhere = book.next()
        #expect(elsewhere?.partition == quiet)

        // A job that finishes makes room: the next one not started yet runs.
        book.wake(try #require(wakes.first))
        let resumed = book.next()
        let again = try #require(resumed)
        #expect(again.offset == waiting[0].offset && again.attempt == 2)
        _ = book.finish(again, now: 0)
        if waiting.count < 300 {
            let room = book.next()
            #expect(room?.offset == base + Int64(waiting.count))
        }
    }

    @Test("800 jobs of one partition all failing: after a crash the next worker resumes each at its count, and none runs more than maxAttempts")
    func countsSurviveACrashAtScale() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let jobs = 800
        let all = (0..<jobs).map { JobQueue.Enqueue(Photo(user: "u\($0)", poison: true), key: "u\($0)", id: "job-\($0)") }
        for chunk in stride(from: 0, to: jobs, by: 400) { try await queue.enqueue(Array(all[chunk..<chunk + 400])) }
        let recorder = Recorder()
        func makeWorker(backoff: Duration) -> Worker<Photo> {
            Worker<Photo>(queue: queue, group: "many-failing", ordering: .key, concurrency: 1000,
                          retry: .exponential(maxAttempts: 3, base: backoff, max: backoff, jitter: false), shutdownTimeout: .zero) { job in
                recorder.begin(key: job.payload.user, id: job.id, attempt: job.attempt)
                recorder.end(key: job.payload.user)
                throw PhotoError.corrupt
            }
        }
        // The first worker's retries wait an hour: each job it starts fails once and waits.
        let first = makeWorker(backoff: .seconds(3600))
        let firstTask = Task { try? await first.run() }
        let partition = TopicPartition(Photo.topic, 0)
        let settled = await eventually(within: 60) {
            let (buffered, running) = first.book.withLock { ($0.buffered(partition), $0.runningCount(partition)) }
            let runs = recorder.state.withLock { $0.runs.values.reduce(0, +) }
            return buffered == jobs && running == 0 && runs > 0 && first.stats.failedAttempts == runs
        }
        #expect(settled)
        // The crash: running jobs are abandoned, nothing is handed over but what was committed.
        firstTask.cancel()
        await firstTask.value
        let startedByFirst = recorder.state.withLock { $0.runs.count }

        let second = makeWorker(backoff: .milliseconds(5))
        let secondTask = Task { try? await second.run() }
        #expect(await eventually(within: 120) { second.stats.deadLettered == jobs })
        second.stop()
        await secondTask.value

        let attempts = recorder.state.withLock { $0.attempts }
        let wrong = attempts.filter { $0.value != [1, 2, 3] }
        #expect(startedByFirst > 0)
        #expect(attempts.count == jobs)
        #expect(wrong.isEmpty, "\(wrong.count) jobs ran other than [1, 2, 3]: \(wrong.sorted { $0.key < $1.key }.prefix(5))")
    }
}
