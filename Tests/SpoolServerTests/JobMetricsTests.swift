import Foundation
import SpoolBroker
import SpoolEmbedded
import SpoolFormat
import Testing
@testable import SpoolJobs
@testable import SpoolServer
@testable import spool

struct Chore: Job {
    static let topic = "chores"
    var name: String
}

/// The job series of /metrics, from a worker's running reports and the broker's counts, as
/// `spool serve` renders them (`PrometheusText.render` with `ServeConsoleJobs`).
@Suite(.serialized)
final class JobMetricsTests {
    let directory = NSTemporaryDirectory() + "spool-job-metrics-\(UUID().uuidString.prefix(8))"
    let spool: EmbeddedBroker
    let queue: JobQueue
    /// What the reports' staleness is judged by: the wall clock plus this many ms.
    let clockShiftMs = LockedValue<Int64>(0)
    let jobs: ServeConsoleJobs

    init() throws {
        spool = try EmbeddedBroker.open(directory: directory, fsync: .never)
        queue = JobQueue.embedded(spool, partitions: 2)
        let shift = clockShiftMs
        jobs = ServeConsoleJobs(spool, reports: { queue in
            WorkerReports(queue: queue, refreshIntervalMs: 0, clock: { Int64(Date().timeIntervalSince1970 * 1000) + shift.value })
        })
    }

    deinit {
        try? spool.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The samples of the exposition, by name with labels (`name{labels}`).
    private func scrape() async -> (text: String, samples: [String: String]) {
        let text = await PrometheusText.render(broker: spool.broker, server: PrometheusText.ServerFigures(), jobs: jobs)
        var samples: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            samples[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return (text, samples)
    }

    /// Scrapes until `condition` holds (every 50 ms, at most 200 times); the last scrape.
    private func scrape(until condition: ([String: String]) -> Bool) async -> (text: String, samples: [String: String]) {
        var last = await scrape()
        for _ in 0..<200 where !condition(last.samples) {
            try? await Task.sleep(for: .milliseconds(50))
            last = await scrape()
        }
        return last
    }

    @Test("a worker's runs reach /metrics: exact counts per outcome, histograms whose buckets, sums and counts agree")
    func countsOfEveryOutcome() async throws {
        for name in ["ok-1", "ok-2", "flaky", "doomed", "cancel-me"] { try await queue.enqueue(Chore(name: name), key: name, id: name) }
        try await queue.enqueue(Chore(name: "later"), key: "later", id: "later", runAt: Date().addingTimeInterval(3600))
        let flakyRuns = LockedValue(0)
        let worker = Worker<Chore>(queue: queue, group: "cleaners", ordering: .key, concurrency: 8,
                                   retry: .exponential(maxAttempts: 2, base: .milliseconds(10), max: .milliseconds(20))) { job in
            switch job.payload.name {
            case "flaky": if flakyRuns.withLock({ runs in runs += 1; return runs }) == 1 { throw ChoreError.failed }
            case "doomed": throw ChoreError.failed
            case "cancel-me": while true { try await Task.sleep(for: .milliseconds(5)) }
            default: break
            }
        }
        let task = Task { try? await worker.run() }
        defer { task.cancel() }
        #expect(await eventually { worker.runningJobs.map(\.id) == ["cancel-me"] && worker.stats.succeeded == 3 && worker.stats.deadLettered == 1 })
        _ = try await queue.cancel(id: "cancel-me", topic: Chore.topic)
        #expect(await eventually { worker.stats.cancelled == 1 })

        let labels = "topic=\"chores\",group=\"cleaners\",worker=\"\(worker.jobControl.instance)\""
        let expected = ["started": "7", "succeeded": "3", "failed": "3", "retried": "2", "dead_lettered": "1", "cancelled": "1"]
        let (text, samples) = await scrape { samples in
            expected.allSatisfy { samples["spool_job_\($0.key)_total{\(labels)}"] == $0.value } && samples["spool_job_running{\(labels)}"] == "0"
        }
        for (name, value) in expected { #expect(samples["spool_job_\(name)_total{\(labels)}"] == value, "spool_job_\(name)_total") }
        // Held by the broker for an hour: scheduled, not in the topic yet.
        #expect(samples["spool_job_enqueued_total{topic=\"chores\"}"] == "5")
        #expect(samples["spool_job_scheduled{topic=\"chores\"}"] == "1")
        #expect(samples["spool_job_retrying{topic=\"chores\"}"] == "0")
        #expect(samples["spool_job_retrying{\(labels)}"] == "0")
        #expect(samples["spool_job_workers{topic=\"chores\",group=\"cleaners\"}"] == "1")
        // Every run ended, so each was timed once; each job's first run waited in the queue once.
        try checkHistogram("spool_job_handler_duration_seconds", labels: labels, count: 7, in: text)
        try checkHistogram("spool_job_enqueue_to_start_seconds", labels: labels, count: 5, in: text)
        worker.stop()
        await task.value
    }

    @Test("a worker that stops reporting drops out of /metrics once its last report is 3 s old")
    func staleWorkersDropOut() async throws {
        try await queue.enqueue(Chore(name: "one"), key: "one", id: "one")
        let worker = Worker<Chore>(queue: queue, group: "cleaners") { _ in }
        let task = Task { try? await worker.run() }
        let series = "spool_job_succeeded_total{topic=\"chores\",group=\"cleaners\",worker=\"\(worker.jobControl.instance)\"}"
        #expect(await scrape { $0[series] == "1" }.samples[series] == "1")
        worker.stop()
        await task.value
        // Stopped: its last report stands until it is older than the staleness bound.
        #expect(await scrape().samples[series] == "1")
        clockShiftMs.value = JobQueue.runningReportStaleMs + 1_000
        let (text, samples) = await scrape()
        #expect(samples[series] == nil)
        #expect(!text.contains(worker.jobControl.instance))
        #expect(samples["spool_job_workers{topic=\"chores\",group=\"cleaners\"}"] == nil)
        // The broker's counts stay.
        #expect(samples["spool_job_enqueued_total{topic=\"chores\"}"] == "1")
    }

    @Test("the job series' text: HELP and TYPE before each metric's samples, cumulative buckets, +Inf equal to the count, escaped labels")
    func textFormat() async throws {
        for topic in ["mail", "mail.running"] { _ = try spool.createTopic(topic) }
        // Held by the broker: a first run (scheduled) and a later attempt (retrying).
        let due = String(Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000)
        _ = try await spool.send(topic: "mail", key: "a", value: "{}", headers: [SpoolHeaders.deliverAt: due])
        _ = try await spool.send(topic: "mail", key: "b", value: "{}", headers: [SpoolHeaders.deliverAt: due, SpoolHeaders.attempt: "2"])
        _ = try await spool.send(topic: "mail", key: "c", value: "{}")
        let bounds = [0.01, 1.0]
        let worker = ConsoleWorker(topic: "mail", group: "odd\"group\nname", worker: "w1", started: 6, succeeded: 3, failed: 2, retried: 1,
                                   deadLettered: 1, cancelled: 0,
                                   handlerSeconds: ConsoleHistogram(bounds: bounds, counts: [2, 0, 3], sum: 12.5),
                                   enqueueToStartSeconds: ConsoleHistogram(bounds: bounds, counts: [0, 4, 0], sum: 0.5),
                                   running: 1, retrying: 2, scheduled: 0)
        let text = PrometheusText.renderJobs(broker: spool.broker, topics: PrometheusText.jobTopics(spool.broker), workers: [worker])
        let lines = text.split(separator: "\n").map(String.init)
        var described: Set<String> = []
        for (index, line) in lines.enumerated() {
            if line.hasPrefix("# HELP ") {
                let name = String(line.dropFirst(7).prefix { $0 != " " })
                #expect(lines[index + 1].hasPrefix("# TYPE \(name) "))
                described.insert(name)
            } else if !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                let family = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && !described.contains($0) ? String($0.dropLast($1.count)) : $0 }
                #expect(described.contains(family), "\(line) has no HELP before it")
            }
        }
        let labels = "topic=\"mail\",group=\"odd\\\"group\\nname\",worker=\"w1\""
        #expect(lines.contains("spool_job_dead_lettered_total{\(labels)} 1"))
        #expect(lines.contains("spool_job_handler_duration_seconds_bucket{\(labels),le=\"0.01\"} 2"))
        #expect(lines.contains("spool_job_handler_duration_seconds_bucket{\(labels),le=\"1.0\"} 2"))
        #expect(lines.contains("spool_job_handler_duration_seconds_bucket{\(labels),le=\"+Inf\"} 5"))
        #expect(lines.contains("spool_job_handler_duration_seconds_count{\(labels)} 5"))
        #expect(lines.contains("spool_job_handler_duration_seconds_sum{\(labels)} 12.5"))
        #expect(lines.contains("spool_job_enqueue_to_start_seconds_bucket{\(labels),le=\"1.0\"} 4"))
        #expect(lines.contains("spool_job_enqueue_to_start_seconds_bucket{\(labels),le=\"+Inf\"} 4"))
        #expect(lines.contains("spool_job_enqueued_total{topic=\"mail\"} 1"))
        #expect(lines.contains("spool_job_scheduled{topic=\"mail\"} 1"))
        #expect(lines.contains("spool_job_retrying{topic=\"mail\"} 1"))
        #expect(lines.contains("spool_job_retrying{\(labels)} 2"))
        #expect(lines.contains("spool_job_running{\(labels)} 1"))
        // Only topics a worker runs (with a running-reports topic) are job topics.
        #expect(!text.contains("topic=\"mail.running\""))
    }

    enum ChoreError: Error { case failed }

    /// Checks one histogram series: its buckets rise with their bounds, `+Inf` equals `_count`,
    /// which is `count`, and the sum is positive when anything was counted.
    private func checkHistogram(_ name: String, labels: String, count: Int, in text: String) throws {
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("# TYPE \(name) histogram"))
        let buckets = lines.filter { $0.hasPrefix("\(name)_bucket{\(labels),le=") }
        #expect(buckets.count == JobHistogram.bounds.count + 1)
        let values = buckets.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        #expect(values == values.sorted(), "cumulative buckets never fall")
        #expect(buckets.last?.hasPrefix("\(name)_bucket{\(labels),le=\"+Inf\"}") == true)
        #expect(values.last == count)
        #expect(lines.contains("\(name)_count{\(labels)} \(count)"))
        let sum = try #require(lines.first { $0.hasPrefix("\(name)_sum{\(labels)} ") }?.split(separator: " ").last.flatMap { Double($0) })
        #expect(count == 0 ? sum == 0 : sum > 0)
    }
}
