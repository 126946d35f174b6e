import Foundation
import Glibc
import SpoolFormat
import SpoolJobs
import Synchronization
import Testing

struct Crunch: Job {
    static let topic = "crunch"
    var key: String
}

/// A worker over the network whose handlers block every cooperative thread, against a real
/// `spool serve` in its own process (a server in this process would need those threads too).
@Suite(.serialized) struct WorkerHeartbeatProcessTests {
    @Test(.timeLimit(.minutes(3)))
    func heartbeatsOverTheNetworkOutliveABlockedPool() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await ServerProcess.start(data: data)
        defer { server.kill() }
        let assignments = Atomic(0)
        let network = try NetworkTransport(bootstrap: server.bootstrap)
        let queue = JobQueue(transport: AssignmentCounting(inner: network) { assignments.add(1, ordering: .relaxed) }, partitions: 1)
        // The broker's shortest session (group.min.session.timeout.ms, 6 s); handlers block for 2.5 of them.
        let session = GroupSession(sessionTimeout: .seconds(6), heartbeatInterval: .milliseconds(500), rebalanceTimeout: .seconds(20))
        let blockers = ProcessInfo.processInfo.activeProcessorCount + 1
        let runs = Mutex<[String: Int]>([:])
        let worker = Worker<Crunch>(queue: queue, group: "crunchers", ordering: .key, concurrency: blockers, session: session) { job in
            runs.withLock { $0[job.id, default: 0] += 1 }
            if job.id != "warm-up" { for _ in 0..<150 { usleep(100_000) } }
        }
        let task = Task { try? await worker.run() }
        try await queue.enqueue(Crunch(key: "warm-up"), key: "warm-up", id: "warm-up")
        let deadline = ContinuousClock.now + .seconds(60)
        while runs.withLock({ $0["warm-up"] }) == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(runs.withLock { $0["warm-up"] } == 1)
        #expect(assignments.load(ordering: .relaxed) == 1)
        try await queue.enqueue((0..<blockers).map { .init(Crunch(key: "cpu-\($0)"), key: "cpu-\($0)", id: "cpu-\($0)") })
        let finished = ContinuousClock.now + .seconds(120)
        while worker.stats.succeeded < blockers + 1 && ContinuousClock.now < finished { try await Task.sleep(for: .milliseconds(50)) }
        #expect(worker.stats.succeeded == blockers + 1)
        #expect(runs.withLock { $0 }.values.allSatisfy { $0 == 1 }, "\(runs.withLock { $0 })")
        #expect(assignments.load(ordering: .relaxed) == 1, "the group rebalanced: the session expired while the pool was busy")
        worker.stop()
        await task.value
        await queue.transport.close()
    }
}

/// A transport that counts the assignments its subscriptions receive (one per join).
struct AssignmentCounting: JobTransport {
    let inner: NetworkTransport
    let assigned: @Sendable () -> Void

    func ensureTopic(_ topic: String, partitions: Int) async throws { try await inner.ensureTopic(topic, partitions: partitions) }
    func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)] {
        try await inner.send(topic: topic, records: records)
    }
    func readAll(topic: String) async throws -> [ConsumedRecord] { try await inner.readAll(topic: topic) }
    func close() async { await inner.close() }

    func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await subscribe(group: group, topic: topic, session: GroupSession(), hooks: hooks)
    }

    func subscribe(group: String, topic: String, session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        let counted = SubscriptionHooks(revoked: hooks.revoked, assigned: { owned in
            assigned()
            await hooks.assigned(owned)
        }, lost: hooks.lost)
        return try await inner.subscribe(group: group, topic: topic, session: session, hooks: counted)
    }
}
