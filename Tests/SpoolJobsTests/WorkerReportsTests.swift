import Foundation
import SpoolEmbedded
import SpoolFormat
import Testing
@testable import SpoolJobs

/// What a metrics scrape reads of the workers' running reports: up to the ends the report topic
/// had when the scrape began, without waiting for more.
@Suite("Worker reports for /metrics")
struct WorkerReportsTests {
    @Test("a scrape reads the reports made since the last one, and with none made it fetches nothing")
    func aScrapeReadsToTheEndsItSaw() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let count = FaultyControlTransport.PollCount()
        let queue = JobQueue(transport: FaultyControlTransport(inner: EmbeddedTransport(broker.spool), followerPolls: count), partitions: 1)
        let reports = WorkerReports(queue: queue, refreshIntervalMs: 0)
        #expect(try await reports.workers(of: Step.topic).isEmpty, "no worker has reported")
        #expect(count.value == 0, "no report topic, so nothing followed")

        try await queue.enqueue(Step(key: "a", sequence: 1), key: "a", id: "first")
        let done = Recorder()
        func worker() -> Worker<Step> {
            Worker<Step>(queue: queue, group: "steppers", ordering: .key, concurrency: 1) { job in
                done.succeeded(key: job.payload.key, id: job.id, sequence: job.payload.sequence)
            }
        }
        let first = worker()
        let firstTask = Task { try? await first.run() }
        var seen: [WorkerReport] = []
        for _ in 0..<300 where seen.first?.metrics.succeeded != 1 {
            seen = try await reports.workers(of: Step.topic)
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(seen.map(\.worker) == [first.jobControl.instance] && seen.first?.metrics.succeeded == 1)
        first.stop()
        await firstTask.value

        // Read to the end once more (the worker's last report), then nothing is appended: a
        // scrape asks for the ends and polls nothing, so it does not wait for reports to come.
        _ = try await reports.workers(of: Step.topic)
        let polls = count.value
        for _ in 0..<3 { _ = try await reports.workers(of: Step.topic) }
        #expect(count.value == polls, "scrapes with no report made since polled \(count.value - polls) times")

        // A report made after that is read by the next scrape.
        let second = worker()
        let secondTask = Task { try? await second.run() }
        defer { second.stop() }
        for _ in 0..<300 where !seen.map(\.worker).contains(second.jobControl.instance) {
            seen = try await reports.workers(of: Step.topic)
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(seen.map(\.worker).contains(second.jobControl.instance))
        #expect(count.value > polls)
        second.stop()
        await secondTask.value
        await reports.close()
    }
}
