import Foundation
import SpoolEmbedded
import SpoolFormat
import SpoolJobs
import SpoolServer

/// The console's jobs: SpoolJobs' job states, dead-letter list and redrive, run in process over the
/// broker `spool serve` serves (the same code as `spool jobs list`, `spool dlq list` and `spool dlq redrive`).
struct ServeConsoleJobs: ConsoleJobs {
    let queue: JobQueue
    let reports: WorkerReports

    init(_ spool: EmbeddedBroker, reports: ((JobQueue) -> WorkerReports)? = nil) {
        queue = JobQueue.embedded(spool)
        self.reports = reports?(queue) ?? WorkerReports(queue: queue)
    }

    func workers(of topic: String) async throws -> [ConsoleWorker] {
        try await reports.workers(of: topic).map { report in
            let metrics = report.metrics
            return ConsoleWorker(topic: topic, group: report.group, worker: report.worker, started: metrics.started, succeeded: metrics.succeeded,
                                 failed: metrics.failed, retried: metrics.retried, deadLettered: metrics.deadLettered, cancelled: metrics.cancelled,
                                 handlerSeconds: Self.histogram(metrics.handlerSeconds), enqueueToStartSeconds: Self.histogram(metrics.enqueueToStartSeconds),
                                 running: report.running, retrying: metrics.retryingInPlace, scheduled: metrics.scheduledInWorker)
        }
    }

    private static func histogram(_ histogram: JobHistogram) -> ConsoleHistogram {
        ConsoleHistogram(bounds: JobHistogram.bounds, counts: histogram.counts, sum: histogram.sum)
    }

    func deadLetters(of topic: String) async throws -> [ConsoleDeadLetter] {
        try await queue.deadLetters(of: topic).map { letter in
            ConsoleDeadLetter(id: letter.id, key: letter.record.key.map(EncodedBytes.init), attempts: letter.attempts, error: letter.error,
                              originTopic: letter.originTopic, originPartition: letter.originPartition, originOffset: letter.originOffset,
                              failedAtMs: letter.failedAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) },
                              partition: letter.partition, offset: letter.offset, redriven: letter.redriven,
                              value: letter.record.value.map(EncodedBytes.init), headers: letter.record.headers.map(EncodedHeader.init),
                              hold: letter.hold, parkedBehind: letter.parkedBehind)
        }
    }

    func holds(of topic: String) async throws -> [ConsoleKeyHold] {
        try await queue.keyHolds(of: topic).map { hold in
            ConsoleKeyHold(id: hold.id, group: hold.group, key: hold.key, partition: hold.partition, deadJobId: hold.deadJobId, heldAtMs: hold.heldAtMs)
        }
    }

    func redrive(_ topic: String, ids: Set<String>?) async throws -> [String] {
        try await queue.redrive(topic, ids: ids).map(\.id)
    }

    func listingGroup(for state: ConsoleJobState, _ group: String?) throws(ConsoleRefusal) -> String? {
        do { return try Self.jobState(state).listingGroup(group) } catch { throw ConsoleRefusal(error.description) }
    }

    func jobs(in topic: String, state: ConsoleJobState, group: String?) async throws -> [ConsoleJob] {
        try await queue.jobs(in: topic, state: Self.jobState(state), group: group).map(Self.job)
    }

    func counts(of topic: String, groups: [String]) async throws -> ConsoleJobCounts {
        let counts = try await queue.jobCounts(in: topic, groups: groups)
        return ConsoleJobCounts(counts: Dictionary(uniqueKeysWithValues: counts.counts.map { (Self.consoleState($0.key), $0.value) }),
                                groups: counts.groups.map { .init(group: $0.group, queued: $0.queued, retryingInPlace: $0.retryingInPlace) })
    }

    func jobTopics(of topic: String) -> [String] { JobPriority.allCases.map { $0.topic(of: topic) } }

    func job(_ id: String, in topic: String, groups: [String]) async throws -> ConsoleJobLookup {
        let found = try await queue.job(id: id, in: topic, groups: groups)
        return ConsoleJobLookup(listed: found.listed.map(Self.job), groups: found.groups.map { .init(group: $0.group, job: $0.job.map(Self.job)) },
                                records: found.records, topics: found.topics)
    }

    private static func job(_ job: JobStatus) -> ConsoleJob {
        ConsoleJob(state: consoleState(job.state), id: job.id, key: job.key, partition: job.partition, offset: job.offset, attempts: job.attempts,
                   nextRunAtMs: job.nextRunAt.map(milliseconds), lastError: job.lastError, cancelledAtMs: job.cancelledAt.map(milliseconds))
    }

    // The two enums name the same states; a state missing from either is a bug.
    private static func jobState(_ state: ConsoleJobState) -> JobState {
        guard let jobState = JobState(rawValue: state.rawValue) else { preconditionFailure("no job state \(state.rawValue)") }
        return jobState
    }

    private static func consoleState(_ state: JobState) -> ConsoleJobState {
        guard let consoleState = ConsoleJobState(rawValue: state.rawValue) else { preconditionFailure("no console job state \(state.rawValue)") }
        return consoleState
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
