import Foundation
import SpoolFormat

/// A worker's report of the jobs it is running, a record in `TOPIC.running` keyed by the worker.
///
/// Running jobs are known only to the workers running them, so each worker reports its set every
/// second, with its cumulative counts (`JobMetrics`) for the broker's `/metrics`: idle workers
/// report too, so that their counts stay current. The topic keeps a minute of reports
/// (`retention.ms` 60 s, segments rolled every 10 s), unlike the control topic, whose records
/// must last; a listing takes each worker's latest report and drops workers silent for
/// `JobQueue.runningReportStaleMs` (stopped, or dead).
struct RunningReport: Codable, Sendable {
    var group: String
    /// The worker instance (a UUID per `Worker`).
    var worker: String
    var atMs: Int64
    var jobs: [JobStatus]
    /// Running jobs left out to keep the record small.
    var omitted: Int
    /// The worker's counts (absent from reports of workers older than job metrics).
    var metrics: JobMetrics?
}

extension JobQueue {
    /// Where a job topic's workers report what they run.
    public static func runningTopic(of topic: String) -> String { topic + ".running" }

    static let runningTopicConfigs = ["cleanup.policy": "delete", "retention.ms": "60000", "segment.ms": "10000"]
    static let runningReportIntervalMs: Int64 = 1_000
    /// A worker whose last report is older than this is taken as gone.
    static let runningReportStaleMs: Int64 = 3_000
    /// Jobs per report, at most.
    static let runningReportJobsMax = 500

    /// The live workers' latest running reports on `topic`: each worker's last one, less those of
    /// workers silent for `runningReportStaleMs` (stopped, or dead).
    func runningReports(of topic: String) async throws -> [RunningReport] {
        let reports = Self.runningTopic(of: topic)
        guard try await controlTransport.partitionCount(of: reports) != nil else { return [] }
        var latest: [String: RunningReport] = [:]
        for record in try await transport.readAll(topic: reports) {
            guard let value = record.value, let report = try? JSONDecoder().decode(RunningReport.self, from: Data(value)) else { continue }
            if report.atMs >= latest[report.worker]?.atMs ?? Int64.min { latest[report.worker] = report }
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return latest.values.filter { now - $0.atMs <= Self.runningReportStaleMs }
    }

    /// The running jobs in `reports` (of `group`'s workers, or all groups'), by place.
    static func runningJobs(_ reports: [RunningReport], group: String?) -> [JobStatus] {
        reports.filter { group == nil || $0.group == group }.flatMap(\.jobs).sorted { ($0.partition ?? 0, $0.offset ?? 0) < ($1.partition ?? 0, $1.offset ?? 0) }
    }
}

extension Worker {
    /// Sends this worker's running set and counts when a report is due (see `RunningReport`):
    /// every second. Failures are left for the next round.
    func reportRunningIfDue() async {
        let now = nowMs()
        let due = jobControl.state.withLock { state -> Bool in
            guard now - state.lastReportMs >= JobQueue.runningReportIntervalMs else { return false }
            state.lastReportMs = now
            return true
        }
        guard due else { return }
        let jobs = runningJobs
        var metrics = stats.metrics
        (metrics.retryingInPlace, metrics.scheduledInWorker) = book.withLock { $0.waitingCounts }
        let report = RunningReport(group: group, worker: jobControl.instance, atMs: now, jobs: Array(jobs.prefix(JobQueue.runningReportJobsMax)),
                                   omitted: max(0, jobs.count - JobQueue.runningReportJobsMax), metrics: metrics)
        guard let value = try? JSONEncoder.sorted.encode(report) else { return }
        _ = try? await queue.transport.send(topic: JobQueue.runningTopic(of: topic), records: [
            OutgoingRecord(key: Array("\(group)/\(jobControl.instance)".utf8), value: Array(value)),
        ])
    }
}
