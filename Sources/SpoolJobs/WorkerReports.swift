import Foundation
import Synchronization

/// One live worker's last running report with its counts, as `/metrics` exports them.
public struct WorkerReport: Sendable, Equatable {
    public var topic: String
    public var group: String
    /// The worker instance (a UUID per `Worker`).
    public var worker: String
    /// When the worker made the report (ms since the Unix epoch).
    public var atMs: Int64
    /// Jobs running in the worker then.
    public var running: Int
    public var metrics: JobMetrics
}

/// Follows job topics' running reports (`TOPIC.running`) and keeps each worker's latest one, so
/// that a metrics scrape reads only the reports made since the last scrape, never the whole
/// topic: a topic is read again at most once per `refreshIntervalMs`, and the first read of a
/// topic reads the minute of reports it keeps. A read goes up to the ends the topic's partitions
/// had when it began and does not wait for more, so a scrape of workers that report nothing new
/// asks the broker for the ends and fetches nothing.
///
/// Workers silent for `JobQueue.runningReportStaleMs` (stopped, or dead) are forgotten, as the
/// running-jobs listing forgets them. Workers that send no counts (older ones) are left out.
public final class WorkerReports: Sendable {
    /// A topic's follower and what it has read.
    private final class Followed: Sendable {
        let follower: any TopicFollower
        let state = Mutex<(latest: [String: RunningReport], readAt: ContinuousClock.Instant?)>(([:], nil))
        let lock = AsyncLock()

        init(_ follower: any TopicFollower) { self.follower = follower }
    }

    let queue: JobQueue
    /// Reads of one topic are at least this far apart; scrapes in between get the last read.
    let refreshIntervalMs: Int
    /// Polls per refresh, at most: a topic written faster than a refresh reads it is read in part.
    static let pollsPerRefreshMax = 1_000
    /// How long one poll of a refresh waits, at most, for records below the ends it reads to.
    /// They are there already (an end is the high watermark), so a poll waits only when a
    /// partition's start moved past its end meanwhile (retention) and it finds nothing.
    static let pollWaitMs: Int32 = 100
    /// Topics followed, at most; more are left out of the metrics.
    public static let topicsMax = 1_000
    private let followed = Mutex<[String: Followed]>([:])
    private let clock: @Sendable () -> Int64

    /// - Parameter clock: the wall clock reports are judged stale by (ms since the Unix epoch).
    public init(queue: JobQueue, refreshIntervalMs: Int = 1_000,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.queue = queue
        self.refreshIntervalMs = refreshIntervalMs
        self.clock = clock
    }

    /// The live workers of job topic `topic` with their counts, by group and worker; none when
    /// the topic has no running reports (no worker of this version has run it).
    public func workers(of topic: String) async throws -> [WorkerReport] {
        guard let followed = try await follow(topic) else { return [] }
        do {
            try await refresh(followed)
        } catch {
            // A topic deleted (or created again) under the follower: the next call follows anew.
            let dropped = self.followed.withLock { all in
                guard all[topic] === followed else { return false }
                all[topic] = nil
                return true
            }
            if dropped { await followed.follower.close() }
            throw error
        }
        let now = clock()
        return followed.state.withLock { state in
            state.latest = state.latest.filter { now - $0.value.atMs <= JobQueue.runningReportStaleMs }
            return state.latest.values.compactMap { report in
                report.metrics.map { WorkerReport(topic: topic, group: report.group, worker: report.worker, atMs: report.atMs,
                                                  running: report.jobs.count + report.omitted, metrics: $0) }
            }.sorted { ($0.group, $0.worker) < ($1.group, $1.worker) }
        }
    }

    /// Reads the reports made since the last read, unless that was less than `refreshIntervalMs` ago.
    private func refresh(_ followed: Followed) async throws {
        try await followed.lock.run {
            let due = followed.state.withLock { state in
                state.readAt.map { $0.duration(to: .now) >= .milliseconds(refreshIntervalMs) } ?? true
            }
            guard due else { return }
            let follower = followed.follower
            let ends = try await follower.ends()
            var read: [RunningReport] = []
            for _ in 0..<Self.pollsPerRefreshMax {
                // Behind where an end is past the position (or no position yet, where the
                // partition ever had a record).
                let positions = ends.keys.map { follower.position($0) }
                guard zip(ends.values, positions).contains(where: { end, position in end > 0 && end > (position ?? -1) }) else { break }
                let records = try await follower.poll(maxWaitMs: Self.pollWaitMs)
                // A poll that only moved positions (from 0 to a start that retention moved) went on.
                if records.isEmpty && ends.keys.map({ follower.position($0) }) == positions { break }
                read += records.compactMap { record in record.value.flatMap { try? JSONDecoder().decode(RunningReport.self, from: Data($0)) } }
            }
            followed.state.withLock { state in
                for report in read where report.atMs >= state.latest[report.worker]?.atMs ?? Int64.min { state.latest[report.worker] = report }
                state.readAt = .now
            }
        }
    }

    /// The topic's follower, started on first use; nil when it has no running-reports topic.
    private func follow(_ topic: String) async throws -> Followed? {
        if let known = followed.withLock({ $0[topic] }) { return known }
        let reports = JobQueue.runningTopic(of: topic)
        guard followed.withLock({ $0.count }) < Self.topicsMax, try await queue.controlTransport.partitionCount(of: reports) != nil,
              let transport = queue.transport as? any JobControlTransport else { return nil }
        let follower = try await transport.follow(topic: reports)
        let (kept, extra) = followed.withLock { followed -> (Followed, (any TopicFollower)?) in
            // Two first scrapes raced: the second follower is closed.
            if let known = followed[topic] { return (known, follower) }
            let new = Followed(follower)
            followed[topic] = new
            return (new, nil)
        }
        if let extra { await extra.close() }
        return kept
    }

    /// Closes every follower.
    public func close() async {
        let all = followed.withLock { followed in
            defer { followed = [:] }
            return Array(followed.values)
        }
        for topic in all { await topic.follower.close() }
    }
}
