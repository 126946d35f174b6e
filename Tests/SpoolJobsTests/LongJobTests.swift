import Foundation
import SpoolBroker
import SpoolClient
import SpoolEmbedded
import SpoolFormat
import SpoolServer
import Synchronization
import Testing
@testable import SpoolJobs

struct Chore: Job {
    static let topic = "chores"
    var key: String
    var long: Bool
}

/// A broker whose groups accept sessions as short as 100 ms, so a test can outlast several.
func shortSessionBroker(_ name: String = #function) throws -> JobsTestBroker {
    try JobsTestBroker(name) { config in
        config.groupLimits.sessionTimeoutMinMs = 100
        config.groupLimits.initialRebalanceDelayMs = 50
    }
}

@Suite("Long-running jobs", .serialized)
struct LongJobTests {
    static let session = GroupSession(sessionTimeout: .milliseconds(600), heartbeatInterval: .milliseconds(100), rebalanceTimeout: .seconds(6))

    @Test("a handler that runs for five session timeouts runs once, with no rebalance, while other keys keep completing",
          arguments: TransportBehaviourTests.Kind.allCases)
    func longHandlerKeepsItsPlace(kind: TransportBehaviourTests.Kind) async throws {
        let broker = try shortSessionBroker()
        defer { broker.stop() }
        let (transport, stopTransport) = try TransportBehaviourTests.transport(kind, broker: broker)
        let queue = JobQueue(transport: transport, partitions: 1)
        let recorder = Recorder()
        let longDone = LockedValue<Date?>(nil)
        let worker = Worker<Chore>(queue: queue, group: "long-\(kind)", ordering: .key, concurrency: 4, session: Self.session) { job in
            recorder.begin(key: job.payload.key, id: job.id, attempt: job.attempt)
            defer { recorder.end(key: job.payload.key) }
            if job.payload.long {
                try await Task.sleep(for: .seconds(3))
                try await job.extendLease()
                longDone.value = Date()
            }
            recorder.succeeded(key: job.payload.key, id: job.id, sequence: 0)
        }
        let task = Task { try? await worker.run() }
        try await queue.enqueue(Chore(key: "report", long: true), key: "report", id: "long")
        #expect(await eventually { recorder.runs("long") == 1 })
        let generation = broker.spool.broker.groups.describe(groupId: "long-\(kind)").generationId
        // Fast jobs on other keys of the same partition, enqueued while the long one runs.
        for index in 0..<20 {
            try await queue.enqueue(Chore(key: "user-\(index)", long: false), key: "user-\(index)", id: "fast-\(index)")
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await eventually { recorder.succeededCount == 21 })
        let finished = try #require(longDone.value)
        for index in 0..<20 { #expect(try #require(recorder.times("fast-\(index)").first) < finished) }
        #expect(recorder.runs("long") == 1)
        #expect(broker.spool.broker.groups.describe(groupId: "long-\(kind)").generationId == generation, "the group rebalanced")
        #expect(worker.stats.failedAttempts == 0)
        worker.stop()
        await task.value
        await stopTransport()
    }

    @Test("heartbeats go on while handlers block every thread of the cooperative pool")
    func heartbeatsOutliveABlockedPool() async throws {
        let broker = try shortSessionBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let blockers = ProcessInfo.processInfo.activeProcessorCount + 2
        let recorder = Recorder()
        let worker = Worker<Chore>(queue: queue, group: "blocked", ordering: .key, concurrency: blockers, session: Self.session) { job in
            recorder.begin(key: job.payload.key, id: job.id, attempt: job.attempt)
            defer { recorder.end(key: job.payload.key) }
            // Holds its cooperative thread for four session timeouts, as CPU-bound or blocking
            // library code would.
            if job.payload.long { for _ in 0..<24 { usleep(100_000) } }
            recorder.succeeded(key: job.payload.key, id: job.id, sequence: 0)
        }
        let task = Task { try? await worker.run() }
        try await queue.enqueue(Chore(key: "warm-up", long: false), key: "warm-up", id: "warm-up")
        #expect(await eventually { recorder.succeededCount == 1 })
        let generation = broker.spool.broker.groups.describe(groupId: "blocked").generationId
        try await queue.enqueue((0..<blockers).map { .init(Chore(key: "cpu-\($0)", long: true), key: "cpu-\($0)", id: "cpu-\($0)") })
        #expect(await eventually { recorder.succeededCount == blockers + 1 })
        for index in 0..<blockers { #expect(recorder.runs("cpu-\(index)") == 1) }
        #expect(broker.spool.broker.groups.describe(groupId: "blocked").generationId == generation, "the session expired while the pool was busy")
        worker.stop()
        await task.value
    }

    @Test("a worker that dies keeps its keys for the session timeout; then another worker runs its unfinished job; back, it rejoins",
          arguments: TransportBehaviourTests.Kind.allCases)
    func deadWorkersKeysMoveOn(kind: TransportBehaviourTests.Kind) async throws {
        let broker = try shortSessionBroker()
        defer { broker.stop() }
        let session = GroupSession(sessionTimeout: .seconds(1), heartbeatInterval: .milliseconds(100), rebalanceTimeout: .seconds(6))
        let frozen = Atomic(false)
        let (transport, stopTransport) = try TransportBehaviourTests.transport(kind, broker: broker)
        let dying = JobQueue(transport: FreezableTransport(transport, frozen: { frozen.load(ordering: .relaxed) }), partitions: 2)
        let queue = JobQueue(transport: transport, partitions: 2)
        let recorder = Recorder()
        let started = LockedValue<[String: [Date]]>([:])
        func makeWorker(_ queue: JobQueue) -> Worker<Chore> {
            Worker<Chore>(queue: queue, group: "mortal", ordering: .key, concurrency: 4, shutdownTimeout: .zero, session: session) { job in
                recorder.begin(key: job.payload.key, id: job.id, attempt: job.attempt)
                defer { recorder.end(key: job.payload.key) }
                started.withLock { $0[job.id, default: []].append(Date()) }
                if job.payload.long && frozen.load(ordering: .relaxed) == false && recorder.runs(job.id) == 1 {
                    try await Task.sleep(for: .seconds(600))
                }
                recorder.succeeded(key: job.payload.key, id: job.id, sequence: 0)
            }
        }
        let first = makeWorker(dying)
        let firstTask = Task { try? await first.run() }
        try await queue.enqueue(Chore(key: "victim", long: true), key: "victim", id: "victim")
        #expect(await eventually { recorder.runs("victim") == 1 })
        // The process "dies": no heartbeat, fetch, commit or LeaveGroup reaches the broker again.
        frozen.store(true, ordering: .relaxed)
        let diedAt = Date()
        let second = makeWorker(queue)
        let secondTask = Task { try? await second.run() }
        #expect(await eventually { recorder.succeededCount == 1 })
        #expect(recorder.runs("victim") == 2)
        let rerun = try #require(started.value["victim"]?.last)
        // The broker counts the session from the last heartbeat it got, at most one interval before the freeze.
        #expect(rerun.timeIntervalSince(diedAt) >= 0.9 - 0.01, "the job moved before the dead worker's session expired")
        #expect(second.assignment.count == 2)
        // Later jobs of every key run on the survivor.
        try await queue.enqueue((0..<10).map { .init(Chore(key: "k\($0)", long: false), key: "k\($0)", id: "after-\($0)") })
        #expect(await eventually { recorder.succeededCount == 11 })
        // The cut-off worker gave the run up by itself when its session could no longer hold.
        #expect(await eventually { first.assignment.isEmpty && recorder.state.withLock { $0.active.isEmpty } })

        // Reachable again, it rejoins and takes a share of the partitions.
        frozen.store(false, ordering: .relaxed)
        #expect(await eventually { first.assignment.count == 1 && second.assignment.count == 1 })
        try await queue.enqueue((0..<10).map { .init(Chore(key: "k\($0)", long: false), key: "k\($0)", id: "back-\($0)") })
        #expect(await eventually { recorder.succeededCount == 21 })
        #expect((0..<10).allSatisfy { recorder.runs("back-\($0)") == 1 && recorder.runs("after-\($0)") == 1 })
        #expect(first.stats.succeeded > 0 || second.stats.succeeded > 11, "both workers ran jobs")
        second.stop()
        first.stop()
        await secondTask.value
        await firstTask.value
        await stopTransport()
    }

    @Test("a run past the timeout is cancelled and fails as 'timed out after …': retried, then dead-lettered")
    func timeoutFailsTheAttempt() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let recorder = Recorder()
        let cancelled = Atomic(0)
        let worker = Worker<Chore>(queue: queue, group: "timers", ordering: .key, concurrency: 2,
                                   retry: .exponential(maxAttempts: 2, base: .milliseconds(10), max: .milliseconds(20)),
                                   timeout: .milliseconds(300)) { job in
            recorder.begin(key: job.payload.key, id: job.id, attempt: job.attempt)
            defer { recorder.end(key: job.payload.key) }
            // "slow-once" is slow on its first attempt only; "stuck" always.
            if job.payload.long && (job.id == "stuck" || job.attempt == 1) {
                do { try await Task.sleep(for: .seconds(600)) } catch {
                    cancelled.add(1, ordering: .relaxed)
                    throw error
                }
            }
            recorder.succeeded(key: job.payload.key, id: job.id, sequence: 0)
        }
        let task = Task { try? await worker.run() }
        try await queue.enqueue(Chore(key: "a", long: true), key: "a", id: "slow-once")
        try await queue.enqueue(Chore(key: "b", long: true), key: "b", id: "stuck")
        try await queue.enqueue(Chore(key: "c", long: false), key: "c", id: "quick")
        #expect(await eventually { recorder.succeededCount == 2 && worker.stats.deadLettered == 1 })
        #expect(recorder.attempts("slow-once") == [1, 2])
        #expect(recorder.attempts("stuck") == [1, 2])
        #expect(cancelled.load(ordering: .relaxed) == 3)
        let letter = try #require(try await queue.deadLetters(of: Chore.topic).first)
        #expect(letter.id == "stuck" && letter.error == "timed out after 300 ms" && letter.attempts == 2)
        worker.stop()
        await task.value
    }

    @Test("a rebalance that takes a partition away cancels its long run; extendLease says the lease is lost; the runs never overlap")
    func revokedRunIsCancelled() async throws {
        let broker = try shortSessionBroker()
        defer { broker.stop() }
        let session = GroupSession(sessionTimeout: .seconds(1), heartbeatInterval: .milliseconds(100), rebalanceTimeout: .seconds(1))
        let queue = broker.queue(partitions: 2)
        let recorder = Recorder()
        let endings = LockedValue<[String]>([])
        func makeWorker() -> Worker<Chore> {
            Worker<Chore>(queue: queue, group: "leases", ordering: .key, concurrency: 4, session: session) { job in
                recorder.begin(key: job.payload.key, id: job.id, attempt: job.attempt)
                defer { recorder.end(key: job.payload.key) }
                if recorder.runs(job.id) == 1 {
                    do {
                        for _ in 0..<6_000 {
                            try await job.extendLease()
                            try await Task.sleep(for: .milliseconds(10))
                        }
                    } catch {
                        endings.withLock { $0.append(String(describing: error)) }
                        throw error
                    }
                }
                recorder.succeeded(key: job.payload.key, id: job.id, sequence: 0)
            }
        }
        let first = makeWorker()
        let firstTask = Task { try? await first.run() }
        // One long job on each partition, so whichever the second worker gets, a run is revoked.
        let keys = ["alpha", "beta", "gamma", "delta"]
        try await queue.enqueue(keys.map { .init(Chore(key: $0, long: true), key: $0, id: $0) })
        #expect(await eventually { keys.allSatisfy { recorder.runs($0) == 1 } })
        let second = makeWorker()
        let secondTask = Task { try? await second.run() }
        #expect(await eventually { recorder.succeededCount == keys.count })
        #expect(recorder.state.withLock { $0.overlaps }.isEmpty)
        #expect(!endings.value.isEmpty)
        #expect(endings.value.allSatisfy { $0 == JobLeaseError.lost.description || $0.contains("CancellationError") }, "\(endings.value)")
        #expect(first.stats.deadLettered + second.stats.deadLettered == 0)
        second.stop()
        first.stop()
        await secondTask.value
        await firstTask.value
    }

    @Test("a run that opens after its partition was taken away does not start its handler: it throws lost, with and without a timeout",
          arguments: [nil, Duration.seconds(5)])
    func runOpenedAfterThePartitionWent(timeout: Duration?) async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let started = LockedValue(0)
        let worker = Worker<Chore>(queue: broker.queue(partitions: 1), group: "late", timeout: timeout) { _ in started.withLock { $0 += 1 } }
        let partition = TopicPartition(Chore.topic, 0)
        worker.assign([partition: nil])
        let generation = try #require(worker.book.withLock { $0.partitions[partition]?.generation })
        let context = JobContext(payload: Chore(key: "k", long: false), id: "j", key: "k", attempt: 1, maxAttempts: 3, topic: Chore.topic,
                                 partition: 0, offset: 0, enqueuedAt: Date(), headers: [], lease: nil)
        let key = JobLeases.Key(generation: generation, offset: 0)
        func run() async -> (any Error)? {
            let runner = JobRunner(id: 0, cancel: {}, lease: worker.leases.makeSlot(0), metrics: worker.stats.recorder.makeShard(),
                                   leaseHolder: RunnerLeaseHolder(worker.leaseDesk))
            defer { worker.leases.dropSlot(0) }
            do {
                try await worker.runHandler(context, key, runner: runner)
                return nil
            } catch {
                return error
            }
        }
        // Owned: the handler runs.
        #expect(await run() == nil && started.value == 1)
        // Being taken away, then gone, after the runner took its ticket: the handler does not run.
        worker.book.withLock { $0.revoke(partition) }
        #expect(await run() as? JobLeaseError == .lost)
        worker.book.withLock { $0.remove(partition) }
        #expect(await run() as? JobLeaseError == .lost)
        #expect(started.value == 1)
    }
}

/// A transport (embedded or network) whose group consumer a switch makes go silent, as a process
/// that died or lost its network would: heartbeats and LeaveGroup never arrive, fetches find
/// nothing, commits and joins fail.
struct FreezableTransport: JobTransport {
    let inner: any JobTransport
    let frozen: @Sendable () -> Bool

    init(_ inner: any JobTransport, frozen: @escaping @Sendable () -> Bool) {
        self.inner = inner
        self.frozen = frozen
    }

    func ensureTopic(_ topic: String, partitions: Int) async throws { try await inner.ensureTopic(topic, partitions: partitions) }
    func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)] {
        try await inner.send(topic: topic, records: records)
    }
    func readAll(topic: String) async throws -> [ConsumedRecord] { try await inner.readAll(topic: topic) }
    func close() async {}

    func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        try await subscribe(group: group, topic: topic, session: GroupSession(), hooks: hooks)
    }

    func subscribe(group: String, topic: String, session: GroupSession, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        let consumerTransport: any ConsumerTransport = switch inner {
        case let embedded as EmbeddedTransport: EmbeddedConsumerTransport(broker: embedded.spool.broker)
        case let network as NetworkTransport: try NetworkConsumerTransport(settingsOf: network.client)
        default: throw ClientError.invalidArgument("not a transport this test knows")
        }
        let transport = FreezableConsumerTransport(inner: consumerTransport, frozen: frozen)
        return try await ConsumerSubscription.subscribe(hooks: hooks, clientId: "freezable", session: session) { options in
            try Consumer(transport: transport, group: group, topics: [topic], options: options)
        }
    }
}

struct FreezableConsumerTransport: ConsumerTransport {
    let inner: any ConsumerTransport
    let frozen: @Sendable () -> Bool
    /// Whether a `committed` request fails (timed out) instead of reaching the broker.
    var refusesCommitted: @Sendable () -> Bool = { false }
    /// How long a `committed` request takes before it goes on.
    var committedDelay: Duration = .zero
    /// A heartbeat's answer in place of the broker's (nil: the broker answers).
    var heartbeatAnswer: @Sendable () -> Int16? = { nil }
    /// Called at each JoinGroup.
    var onJoin: @Sendable () -> Void = {}

    private func silence() async throws(ClientError) {
        guard frozen() else { return }
        try? await Task.sleep(for: .milliseconds(100))
        throw .closed
    }

    func partitionCount(of topic: String) async throws(ClientError) -> Int { try await inner.partitionCount(of: topic) }
    func joinGroup(_ request: GroupJoin) async throws(ClientError) -> GroupJoined {
        onJoin()
        try await silence()
        return try await inner.joinGroup(request)
    }
    func syncGroup(_ request: GroupSync) async throws(ClientError) -> GroupSynced {
        try await silence()
        return try await inner.syncGroup(request)
    }
    func heartbeat(group: String, generation: Int32, memberId: String, timeoutMs: Int) async -> Int16? {
        if frozen() { return nil }
        let answer = await inner.heartbeat(group: group, generation: generation, memberId: memberId, timeoutMs: timeoutMs)
        return heartbeatAnswer() ?? answer
    }
    func leaveGroup(group: String, memberId: String) async {
        if !frozen() { await inner.leaveGroup(group: group, memberId: memberId) }
    }
    func fetch(_ positions: [(TopicPartition, Int64)], maxWaitMs: Int32, maxBytes: Int32) async throws(ClientError) -> FetchOutcome {
        try await silence()
        return try await inner.fetch(positions, maxWaitMs: maxWaitMs, maxBytes: maxBytes)
    }
    func listOffsets(_ partitions: [TopicPartition], timestamp: Int64) async throws(ClientError) -> [TopicPartition: Int64] {
        try await silence()
        return try await inner.listOffsets(partitions, timestamp: timestamp)
    }
    func commit(group: String, generation: Int32, memberId: String, offsets: [TopicPartition: CommittedOffset]) async throws(ClientError) {
        try await silence()
        try await inner.commit(group: group, generation: generation, memberId: memberId, offsets: offsets)
    }
    func committed(group: String, partitions: [TopicPartition]) async throws(ClientError) -> [TopicPartition: CommittedOffset] {
        try await silence()
        if committedDelay > .zero { try? await Task.sleep(for: committedDelay) }
        if refusesCommitted() { throw .timeout("OffsetFetch") }
        return try await inner.committed(group: group, partitions: partitions)
    }
    func close() async { await inner.close() }
}
