import Foundation
import SpoolFormat
import Synchronization
import Testing
@testable import SpoolJobs

/// What a handler sees of its job's record headers, read in place from the fetched batch until
/// the handler asks for them.
@Suite("Job headers in handlers", .serialized)
struct WorkerHeadersTests {
    private static let sent = [
        RecordHeader(SpoolHeaders.jobType, "Step"), RecordHeader("trace", "a"), RecordHeader(key: "empty", value: nil),
        RecordHeader("trace", "b"), RecordHeader(key: "blank", value: []),
    ]

    private func send(_ queue: JobQueue, key: String, sequence: Int, headers: [RecordHeader] = sent) async throws {
        let value = Array("{\"key\":\"\(key)\",\"sequence\":\(sequence)}".utf8)
        _ = try await queue.transport.send(topic: Step.topic, records: [OutgoingRecord(key: Array(key.utf8), value: value, headers: headers)])
    }

    @Test("a handler reads the record's headers in order (repeated names, null and empty values kept) and can set them",
          arguments: [JobOrdering.none, .key])
    func readAndSet(ordering: JobOrdering) async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 2)
        for sequence in 0..<4 { try await send(queue, key: "k\(sequence)", sequence: sequence) }
        let seen = Mutex<[(read: [RecordHeader], set: [RecordHeader], key: String?, sequence: Int)]>([])
        let worker = Worker<Step>(queue: queue, group: "g", ordering: ordering, concurrency: 4) { job in
            var job = job
            let read = job.headers
            job.headers = [RecordHeader("set", "1")]
            job.headers.append(RecordHeader(key: "more", value: nil))
            let set = job.headers
            seen.withLock { $0.append((read, set, job.key, job.payload.sequence)) }
        }
        let task = Task { try? await worker.run() }
        #expect(await eventually { seen.withLock { $0.count } == 4 })
        worker.stop()
        await task.value
        let runs = seen.withLock { $0 }.sorted { $0.sequence < $1.sequence }
        #expect(runs.map(\.sequence) == [0, 1, 2, 3])
        for run in runs {
            #expect(run.read == Self.sent)
            #expect(run.set == [RecordHeader("set", "1"), RecordHeader(key: "more", value: nil)])
            #expect(run.key == "k\(run.sequence)")
        }
    }

    @Test("a retried job (.none: sent again) and a dead letter keep the record's own headers, the first of each Spool name counting")
    func retriesAndDeadLettersKeepHeaders() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        // A repeated spool-attempt: the first counts, so this job is at attempt 2 of 3.
        let headers = Self.sent + [RecordHeader(SpoolHeaders.attempt, "2"), RecordHeader(SpoolHeaders.attempt, "9")]
        try await send(queue, key: "k", sequence: 7, headers: headers)
        let attempts = Mutex<[(attempt: Int, traces: [String?])]>([])
        let worker = Worker<Step>(queue: queue, group: "g", ordering: .none, concurrency: 1,
                                  retry: .exponential(maxAttempts: 3, base: .milliseconds(1), max: .milliseconds(2), jitter: false)) { job in
            attempts.withLock { $0.append((job.attempt, job.headers.filter { $0.key == "trace" }.map { $0.value.map { String(decoding: $0, as: UTF8.self) } })) }
            throw PhotoError.corrupt
        }
        let task = Task { try? await worker.run() }
        #expect(await eventually { worker.stats.deadLettered == 1 })
        worker.stop()
        await task.value
        let runs = attempts.withLock { $0 }
        #expect(runs.map(\.attempt) == [2, 3])
        #expect(runs.allSatisfy { $0.traces == ["a", "b"] })
        let letter = try #require(try await queue.deadLetters(of: Step.topic).first)
        #expect(letter.record.headers.filter { $0.key == "trace" || $0.key == "empty" || $0.key == "blank" } == Array(Self.sent.dropFirst()))
        #expect(letter.record.value == Array("{\"key\":\"k\",\"sequence\":7}".utf8))
        #expect(letter.record.keyString == "k")
    }
}
