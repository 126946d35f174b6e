import Foundation
import SpoolFormat
import SpoolJobs
import SpoolSystem
import Synchronization

/// Enqueue-to-start latency at a fixed enqueue rate: jobs are enqueued one at a time, as web
/// requests do, on a schedule (`rate` per second from 32 enqueuers), and each job's latency runs from
/// its scheduled time (so a stalled enqueue counts against Spool, not for it) to the moment a
/// worker's handler starts it. The baseline is a plain group consumer reading the same kind of
/// records: from the scheduled send to the moment the consumer has decoded it.
struct JobLatencyRun {
    struct Stamped: Job {
        static let topic = "bench-latency"
        var user: String
        /// Monotonic nanoseconds of the scheduled enqueue.
        var scheduledAt: UInt64
    }

    let transport: String
    let mode: String
    let rate: Int
    let seconds: Double
    let directory: String

    func measure() async throws -> LatencySummary {
        let bench = try BenchQueue(transport: transport, directory: directory, partitions: 8, initialRebalanceDelayMs: 100)
        let queue = bench.queue
        try await queue.prepare(topic: Stamped.topic)
        let total = Int(Double(rate) * seconds)
        let latencies = Mutex<[UInt64]>([])
        latencies.withLock { $0.reserveCapacity(total) }
        let ready = Moment()

        let reader: Task<Void, any Error>
        if mode == "consumer" {
            reader = Task {
                let subscription = try await queue.transport.subscribe(group: "latency-baseline", topic: Stamped.topic, hooks: SubscriptionHooks(
                    revoked: { _ in }, assigned: { _ in ready.markOnce() }))
                let decoder = JSONDecoder()
                while latencies.withLock({ $0.count }) < total && !Task.isCancelled {
                    for record in try await subscription.poll() {
                        let job = try decoder.decode(Stamped.self, from: Data(record.value ?? []))
                        let now = monotonicNanoseconds()
                        latencies.withLock { $0.append(now - min(now, job.scheduledAt)) }
                    }
                }
                await subscription.close()
            }
        } else {
            let worker = Worker<Stamped>(queue: queue, group: "latency", ordering: .key, concurrency: 32, retry: .never,
                                         execution: mode == "key-own" ? .ownThread : .shared) { job in
                let now = monotonicNanoseconds()
                latencies.withLock { $0.append(now - min(now, job.payload.scheduledAt)) }
            }
            reader = Task {
                let running = Task { try await worker.run() }
                while latencies.withLock({ $0.count }) < total && !Task.isCancelled {
                    if !worker.assignment.isEmpty { ready.markOnce() }
                    try await Task.sleep(for: .milliseconds(5))
                }
                worker.stop()
                try await running.value
            }
        }
        let limit = Date().addingTimeInterval(60)
        while ready.value == nil && Date() < limit { try await Task.sleep(for: .milliseconds(5)) }

        // 32 enqueuers (a web server's concurrent requests), each on its own schedule; together `rate`
        // jobs per second.
        let enqueuers = 32
        let interval = UInt64(1e9 / Double(rate) * Double(enqueuers))
        let start = monotonicNanoseconds() + 10_000_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for enqueuer in 0..<enqueuers {
                group.addTask {
                    var index = enqueuer
                    while index < total {
                        let due = start + UInt64(index / enqueuers) * interval + UInt64(enqueuer) * interval / UInt64(enqueuers)
                        let now = monotonicNanoseconds()
                        if due > now { try await Task.sleep(for: .nanoseconds(Int(due - now))) }
                        let user = "user-\(index % 1000)"
                        try await queue.enqueue(Stamped(user: user, scheduledAt: due), key: user)
                        index += enqueuers
                    }
                }
            }
            try await group.waitForAll()
        }
        let drained = Date().addingTimeInterval(60)
        while latencies.withLock({ $0.count }) < total && Date() < drained { try await Task.sleep(for: .milliseconds(5)) }
        reader.cancel()
        _ = try? await reader.value
        await bench.close()
        let samples = latencies.withLock { $0 }
        guard samples.count >= total else { throw UsageError("only \(samples.count) of \(total) jobs started within 60 s of the last enqueue") }
        return LatencySummary(nanoseconds: samples)
    }
}
