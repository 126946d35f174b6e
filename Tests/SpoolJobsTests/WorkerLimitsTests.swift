import Foundation
import SpoolFormat
import Synchronization
import Testing
@testable import SpoolJobs

private struct Webhook: Job {
    static let topic = "webhooks"
    var customer: String
    var url: String
}

private struct Call: Job {
    static let topic = "calls"
    var customer: String
}

/// Runs per key at once, their peaks, and how many ran.
private final class KeyActivity: Sendable {
    struct State {
        var active: [String: Int] = [:]
        var peak: [String: Int] = [:]
        var total = 0
        var peakTotal = 0
        var ran: [String: Int] = [:]
    }

    let state = Mutex(State())

    func begin(_ key: String) {
        state.withLock { state in
            state.active[key, default: 0] += 1
            state.total += 1
            state.peak[key] = max(state.peak[key] ?? 0, state.active[key] ?? 0)
            state.peakTotal = max(state.peakTotal, state.total)
        }
    }

    func end(_ key: String) {
        state.withLock { state in
            state.active[key, default: 0] -= 1
            state.total -= 1
            state.ran[key, default: 0] += 1
        }
    }

    var ranCount: Int { state.withLock { $0.ran.values.reduce(0, +) } }
    var peakTotal: Int { state.withLock { $0.peakTotal } }
}

@Suite("Per-key limits in workers over the embedded broker", .serialized)
struct WorkerLimitsTests {
    @Test("per-key concurrency 2 under .none: no key ever has more than 2 runs at once while the other keys run beside it")
    func concurrencyPerKey() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 2)
        for _ in 0..<6 { for key in ["a", "b", "c"] { try await queue.enqueue(Call(customer: key), key: key) } }
        let activity = KeyActivity()
        let worker = Worker<Call>(queue: queue, group: "callers", ordering: .none, concurrency: 16, limits: .perKey(concurrency: 2)) { job in
            activity.begin(job.payload.customer)
            defer { activity.end(job.payload.customer) }
            // The first runs wait (bounded) until 6 run at once: without the limit, 16 slots would
            // put more than 2 of a key side by side; with it, only 2 per key fit.
            let deadline = Date().addingTimeInterval(2)
            while activity.peakTotal < 6 && Date() < deadline { try await Task.sleep(for: .milliseconds(1)) }
        }
        let task = Task { try await worker.run() }
        #expect(await eventually { activity.ranCount == 18 })
        worker.stop()
        try await task.value
        let state = activity.state.withLock { $0 }
        #expect(state.peak == ["a": 2, "b": 2, "c": 2])
        #expect(state.peakTotal == 6)
    }

    @Test("a key at its rate does not hold back the other keys of its partition under .key")
    func limitedKeyDoesNotHoldBackOthers() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        for _ in 0..<5 { try await queue.enqueue(Call(customer: "hot"), key: "hot") }
        for index in 0..<20 { try await queue.enqueue(Call(customer: "k\(index)"), key: "k\(index)") }
        let activity = KeyActivity()
        // One job of a key an hour: hot's second job waits its turn for an hour.
        let worker = Worker<Call>(queue: queue, group: "callers", ordering: .key, concurrency: 4,
                                  limits: .perKey(ratePerSecond: 1.0 / 3600)) { job in
            activity.begin(job.payload.customer)
            activity.end(job.payload.customer)
        }
        let task = Task { try await worker.run() }
        #expect(await eventually { activity.ranCount == 21 && worker.waitingOnLimits == 1 })
        worker.stop()
        try await task.value
        let ran = activity.state.withLock { $0.ran }
        #expect(ran["hot"] == 1)
        #expect(ran.count == 21)
    }

    @Test("two workers of one group hold each key to its concurrency and its rate together: a burst of 2 per key, then waiting")
    func limitsAcrossWorkers() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 8)
        let activity = KeyActivity()
        let limits = JobLimits.perKey(concurrency: 1, ratePerSecond: 1.0 / 3600, burst: 2)
        let workers = (0..<2).map { _ in
            Worker<Call>(queue: queue, group: "callers", ordering: .none, concurrency: 8, limits: limits) { job in
                activity.begin(job.payload.customer)
                defer { activity.end(job.payload.customer) }
                // Long enough that a key's burst of 2 would overlap without its concurrency limit.
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let tasks = workers.map { worker in Task { try await worker.run() } }
        // Both members own partitions before the jobs arrive, so no rebalance hands a key over
        // (which would start its bucket full again on the new owner).
        #expect(await eventually { workers.allSatisfy { !$0.assignment.isEmpty } && workers.reduce(0) { $0 + $1.assignment.count } == 8 })
        let keys = (0..<12).map { "customer-\($0)" }
        for _ in 0..<4 { try await queue.enqueue(keys.map { JobQueue.Enqueue(Call(customer: $0), key: $0) }) }
        #expect(await eventually { activity.ranCount == 24 && workers.reduce(0) { $0 + $1.waitingOnLimits } == 24 })
        for worker in workers { worker.stop() }
        for task in tasks { try await task.value }
        let state = activity.state.withLock { $0 }
        #expect(state.ran == Dictionary(uniqueKeysWithValues: keys.map { ($0, 2) }))
        #expect(state.peak.values.allSatisfy { $0 == 1 }, "a key ran twice at once: \(state.peak)")
        // Both workers ran jobs: the keys were split between them.
        #expect(workers.allSatisfy { $0.stats.succeeded > 0 })
    }

    @Test("docs/jobs.md's per-key limits example runs")
    func docsExample() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 2)
        let delivered = LockedValue<[String]>([])
        @Sendable func deliver(_ hook: Webhook) async throws { delivered.withLock { $0.append(hook.url) } }

        // Per customer: at most 2 deliveries at once, and 5 a second on average with bursts of up to 10.
        let worker = Worker<Webhook>(queue: queue, group: "webhooks", ordering: .none, concurrency: 64,
                                     limits: .perKey(concurrency: 2, ratePerSecond: 5, burst: 10)) { job in
            try await deliver(job.payload)
        }
        try await queue.enqueue(Webhook(customer: "acme", url: "https://acme.example/hook"), key: "acme")

        let task = Task { try await worker.run() }
        #expect(await eventually { delivered.value == ["https://acme.example/hook"] })
        worker.stop()
        try await task.value
    }
}
