import Foundation
import SpoolEmbedded
import SpoolFormat
import Testing
@testable import SpoolJobs

/// Workers with `onDeadLetter: .holdKey` over the embedded broker: parking, ordered redrive,
/// holds across restarts and crashes, and the default unchanged.
@Suite("Ordered redrive", .serialized)
struct OrderedRedriveTests {
    /// Every run of each key's jobs, in the order they started, and the handler's faults.
    final class Runs: Sendable {
        let log = LockedValue<[String: [Int]]>([:])
        /// Jobs (key-sequence) that fail while the flag is up.
        let broken = LockedValue<Set<String>>([])
        /// A job (key-sequence) whose run waits until `released` is set (bounded: 30 s).
        let gate = LockedValue<String?>(nil)
        let released = LockedValue(false)
        let waitingAtGate = LockedValue(false)
        /// Handlers check for cancellation first, as most real ones do somewhere.
        let checksCancellation = LockedValue(false)

        func handle(_ job: JobContext<Step>) async throws {
            let name = "\(job.payload.key)-\(job.payload.sequence)"
            if checksCancellation.value { try Task.checkCancellation() }
            log.withLock { $0[job.payload.key, default: []].append(job.payload.sequence) }
            if gate.value == name {
                waitingAtGate.value = true
                for _ in 0..<3_000 where !released.value { try await Task.sleep(for: .milliseconds(10)) }
            }
            if broken.value.contains(name) { throw StepError.broken(name) }
        }

        func of(_ key: String) -> [Int] { log.withLock { $0[key] ?? [] } }
    }

    enum StepError: Error { case broken(String) }

    private func worker(_ queue: JobQueue, _ runs: Runs, policy: DeadLetterPolicy = .holdKey) -> Worker<Step> {
        Worker<Step>(queue: queue, group: "steppers", ordering: .key, concurrency: 4,
                     retry: .exponential(maxAttempts: 2, base: .milliseconds(5), max: .milliseconds(20), jitter: false),
                     shutdownTimeout: .zero, onDeadLetter: policy) { job in try await runs.handle(job) }
    }

    private func enqueue(_ queue: JobQueue, _ key: String, _ sequences: ClosedRange<Int>) async throws {
        for sequence in sequences { try await queue.enqueue(Step(key: key, sequence: sequence), key: key, id: "\(key)-\(sequence)") }
    }

    /// A one-partition broker where a `.holdKey` worker has held key A (`holdA`), over a transport
    /// with the faults asked for; `body` gets the queue, the runs and that worker with its task,
    /// and returns another worker it started, if any. Both are stopped after it.
    private func withHeldKey(blindFollower: Bool = false, commitsFail: Bool = false,
                             _ body: (JobQueue, Runs, Worker<Step>, Task<Void, Never>) async throws -> (Worker<Step>, Task<Void, Never>)?,
                             _ name: String = #function) async throws {
        let broker = try JobsTestBroker(name)
        defer { broker.stop() }
        let transport = FaultyControlTransport(inner: EmbeddedTransport(broker.spool), blindFollower: blindFollower, commitsFail: commitsFail)
        let queue = JobQueue(transport: transport, partitions: 1)
        let runs = Runs()
        let (worker, task) = try await holdA(queue, runs)
        let second = try await body(queue, runs, worker, task)
        for (worker, task) in [(worker, task)] + (second.map { [$0] } ?? []) {
            worker.stop()
            await task.value
        }
    }

    /// A's job 2 of 5 dead-letters among keys B and C of the same partition.
    private func holdA(_ queue: JobQueue, _ runs: Runs) async throws -> (Worker<Step>, Task<Void, Never>) {
        runs.broken.value = ["A-2"]
        for sequence in 1...5 {
            try await enqueue(queue, "A", sequence...sequence)
            try await enqueue(queue, "B", sequence...sequence)
            try await enqueue(queue, "C", sequence...sequence)
        }
        let worker = worker(queue, runs)
        let task = Task { _ = try? await worker.run() }
        #expect(await eventually { worker.stats.parked == 3 && runs.of("B").count == 5 && runs.of("C").count == 5 })
        return (worker, task)
    }

    @Test("with .holdKey, A's jobs 3-5 are parked behind its dead job 2 while B and C run; redrive runs A 2,3,4,5 in order, once each, then a job enqueued during it")
    func holdAndRedrive() async throws {
        try await withHeldKey { queue, runs, worker, task in
            #expect(runs.of("A") == [1, 2, 2])
            #expect(runs.of("B") == [1, 2, 3, 4, 5] && runs.of("C") == [1, 2, 3, 4, 5])
            #expect(worker.stats.deadLettered == 1)

            let holds = try await queue.keyHolds(of: "steps")
            let hold = try #require(holds.first)
            #expect(holds.count == 1 && hold.key == "A" && hold.group == "steppers" && hold.deadJobId == "A-2")
            let letters = try await queue.deadLetters(of: "steps")
            #expect(letters.map(\.id) == ["A-2", "A-3", "A-4", "A-5"])
            #expect(letters.allSatisfy { $0.hold == hold.id && !$0.redriven })
            #expect(letters.map(\.parkedBehind) == [nil, "A-2", "A-2", "A-2"])
            // A job of A enqueued while A is held is parked too.
            try await enqueue(queue, "A", 6...6)
            #expect(await eventually { worker.stats.parked == 4 })

            // Redrive with the handler fixed; A-3's run waits until a job of A is enqueued meanwhile.
            runs.broken.value = []
            runs.gate.value = "A-3"
            let sent = try await queue.redrive("steps", key: "A")
            #expect(sent.map(\.id) == ["A-2", "A-3", "A-4", "A-5", "A-6"])
            #expect(await eventually { runs.waitingAtGate.value })
            try await enqueue(queue, "A", 7...7)
            runs.released.value = true
            #expect(await eventually { runs.of("A").count == 9 })
            #expect(runs.of("A") == [1, 2, 2, 2, 3, 4, 5, 6, 7])
            #expect(worker.stats.replayed == 5)
            #expect(try await queue.keyHolds(of: "steps").isEmpty)
            #expect(try await queue.deadLetters(of: "steps").allSatisfy(\.redriven))
            // Nothing runs twice later: a job enqueued now runs after everything above, and alone.
            try await enqueue(queue, "A", 8...8)
            #expect(await eventually { runs.of("A").last == 8 })
            #expect(runs.of("A") == [1, 2, 2, 2, 3, 4, 5, 6, 7, 8])
            return nil
        }
    }

    @Test("the hold survives a worker restart: a new worker (even one without .holdKey) parks A's later jobs, runs other keys, and redrive then runs A in order")
    func holdSurvivesRestart() async throws {
        try await withHeldKey { queue, runs, first, firstTask in
            first.stop()
            await firstTask.value

            try await enqueue(queue, "A", 6...6)
            try await enqueue(queue, "B", 6...6)
            let second = worker(queue, runs, policy: .releaseKey)
            let secondTask = Task { _ = try? await second.run() }
            #expect(await eventually { runs.of("B").last == 6 && second.stats.parked == 1 })
            #expect(runs.of("A") == [1, 2, 2])

            runs.broken.value = []
            try await queue.redrive("steps", ids: ["A-2"])
            // A job enqueued after the redrive runs once the replay is over and the hold released.
            try await enqueue(queue, "A", 7...7)
            #expect(await eventually { runs.of("A").count == 9 })
            #expect(runs.of("A") == [1, 2, 2, 2, 3, 4, 5, 6, 7])
            #expect(try await queue.keyHolds(of: "steps").isEmpty)
            return (second, secondTask)
        }
    }

    @Test("a hold's dead offset is an offset of the job topic: a priorities worker of the group runs a held key's jobs of steps.high, whatever their offsets")
    func holdsDoNotReachPriorityTopics() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = JobQueue(transport: EmbeddedTransport(broker.spool), partitions: 1)
        let runs = Runs()
        let (first, firstTask) = try await holdA(queue, runs)
        first.stop()
        await firstTask.value
        // A-2 died at steps[0]@3; these land at steps.high[0]@0...3.
        for sequence in 11...14 {
            try await queue.enqueue(Step(key: "A", sequence: sequence), key: "A", id: "A-\(sequence)", priority: .high)
        }
        let second = Worker<Step>(queue: queue, group: "steppers", ordering: .key, concurrency: 4, shutdownTimeout: .zero,
                                  priorities: .standard) { job in try await runs.handle(job) }
        let secondTask = Task { _ = try? await second.run() }
        #expect(await eventually { runs.of("A").count == 7 })
        #expect(runs.of("A") == [1, 2, 2, 11, 12, 13, 14])
        #expect(second.stats.deadLettered == 0)
        second.stop()
        await secondTask.value
    }

    @Test("a worker given a held key's partition in a rebalance knows the hold before it runs a later job of the key, though its control follower sees nothing")
    func holdKnownAfterRebalance() async throws {
        try await withHeldKey(blindFollower: true) { queue, runs, first, firstTask in
            // A second member joins, then the first leaves: the second is given the partition by a
            // rebalance. Its blind follower never shows it the hold; only reading the control topic
            // before it takes the partition's records in does.
            let second = worker(queue, runs)
            let secondTask = Task { _ = try? await second.run() }
            first.stop()
            await firstTask.value
            #expect(await eventually { !second.assignment.isEmpty })
            try await enqueue(queue, "A", 6...6)
            try await enqueue(queue, "B", 6...6)
            #expect(await eventually { runs.of("B").last == 6 && second.stats.parked == 1 })
            #expect(runs.of("A") == [1, 2, 2])
            return (second, secondTask)
        }
    }

    @Test("a worker that dead-lettered and parked but never committed: the next one finishes the dead job without running it, parks the rest again, and redrive runs each once")
    func holdStoredButNotCommitted() async throws {
        try await withHeldKey(commitsFail: true) { uncommitting, runs, first, firstTask in
            first.stop()
            await firstTask.value
            let inner = try #require(uncommitting.transport as? FaultyControlTransport).inner
            let queue = JobQueue(transport: FaultyControlTransport(inner: inner), partitions: 1)
            let second = worker(queue, runs)
            let secondTask = Task { _ = try? await second.run() }
            // Everything runs again from the start, but A's dead job, whose hold is stored, does not.
            #expect(await eventually { second.stats.parked == 3 && runs.of("B").count == 10 && runs.of("C").count == 10 })
            #expect(runs.of("A") == [1, 2, 2, 1])
            #expect(second.stats.deadLettered == 0 && second.stats.failedAttempts == 0)
            // Parked again, each is dropped by the dead-letter topic's dedupe window: its first
            // copy, under the same hold, is there.
            #expect(try await queue.deadLetters(of: "steps").map(\.id) == ["A-2", "A-3", "A-4", "A-5"])

            runs.broken.value = []
            try await queue.redrive("steps", key: "A")
            try await enqueue(queue, "A", 6...6)
            #expect(await eventually { runs.of("A").last == 6 })
            #expect(runs.of("A") == [1, 2, 2, 1, 2, 3, 4, 5, 6])
            #expect(try await queue.deadLetters(of: "steps").allSatisfy(\.redriven))
            return (second, secondTask)
        }
    }

    @Test("a worker killed during a replay leaves the marker uncommitted: the next one replays the rest, in order, and none out of order")
    func crashDuringReplay() async throws {
        try await withHeldKey { queue, runs, first, firstTask in
            runs.broken.value = []
            runs.gate.value = "A-4"
            try await queue.redrive("steps", key: "A")
            #expect(await eventually { runs.waitingAtGate.value })
            // Killed mid-run: the run of A-4 is cancelled and the marker stays below the commit point.
            firstTask.cancel()
            await firstTask.value
            #expect(first.stats.replayed == 2)
            runs.gate.value = nil

            let second = worker(queue, runs)
            let secondTask = Task { _ = try? await second.run() }
            try await enqueue(queue, "A", 6...6)
            #expect(await eventually { runs.of("A").last == 6 })
            #expect(runs.of("A") == [1, 2, 2, 2, 3, 4, 4, 5, 6])
            #expect(second.stats.replayed == 2)
            #expect(try await queue.keyHolds(of: "steps").isEmpty)
            return (second, secondTask)
        }
    }

    @Test("a replayed job cancelled while it runs counts as done, and the jobs parked behind it are replayed as usual")
    func replayedJobCancelled() async throws {
        try await withHeldKey { queue, runs, worker, task in
            runs.broken.value = []
            runs.checksCancellation.value = true
            runs.gate.value = "A-2"
            try await queue.redrive("steps", key: "A")
            #expect(await eventually { runs.waitingAtGate.value })
            _ = try await queue.cancel(id: "A-2", topic: "steps")
            // A-2's replay (its third run) is cancelled at the gate; 3, 4 and 5 are replayed.
            #expect(await eventually { runs.of("A").count == 7 && worker.stats.replayed == 4 })
            #expect(runs.of("A") == [1, 2, 2, 2, 3, 4, 5])
            try await enqueue(queue, "A", 6...6)
            #expect(await eventually(within: 10) { runs.of("A").last == 6 })
            #expect(runs.of("A") == [1, 2, 2, 2, 3, 4, 5, 6])
            #expect(try await queue.keyHolds(of: "steps").isEmpty)
            return nil
        }
    }

    @Test("a replayed job that dead-letters again keeps the hold and leaves the jobs after it parked")
    func replayFailsAgain() async throws {
        try await withHeldKey { queue, runs, worker, task in
            runs.broken.value = ["A-3"]
            try await queue.redrive("steps", key: "A")
            #expect(await eventually { runs.of("A").count == 6 })
            #expect(await eventually { worker.stats.deadLettered == 2 })
            #expect(runs.of("A") == [1, 2, 2, 2, 3, 3])
            let waiting = try await queue.deadLetters(of: "steps").filter { !$0.redriven }
            #expect(waiting.map(\.id) == ["A-4", "A-5", "A-3"])
            #expect(waiting.first { $0.id == "A-3" }?.error.contains("broken") == true)
            #expect(try await queue.keyHolds(of: "steps").count == 1)

            runs.broken.value = []
            try await queue.redrive("steps", key: "A")
            try await enqueue(queue, "A", 6...6)
            #expect(await eventually { runs.of("A").count == 10 })
            #expect(runs.of("A") == [1, 2, 2, 2, 3, 3, 3, 4, 5, 6])
            #expect(try await queue.keyHolds(of: "steps").isEmpty)
            return nil
        }
    }

    @Test("a redrive marker is no job to another group: its workers, .none ones included, run the key's jobs as before and pass the marker without a dead letter")
    func otherGroupsPassTheMarker() async throws {
        try await withHeldKey { queue, runs, _, _ in
            let others = Runs()
            let auditor = Worker<Step>(queue: queue, group: "auditors", ordering: .none, shutdownTimeout: .zero) { job in try await others.handle(job) }
            let auditorTask = Task { _ = try? await auditor.run() }
            runs.broken.value = []
            try await queue.redrive("steps", key: "A")
            try await enqueue(queue, "A", 6...6)
            #expect(await eventually { runs.of("A").last == 6 && others.of("A").count == 6 })
            #expect(Set(others.of("A")) == Set(1...6))
            // A run is counted once its handler has returned, after it is recorded in `others`,
            // and the other keys' jobs may still be running: wait for the count, not the records.
            #expect(await eventually { auditor.stats.succeeded == 16 })
            #expect(auditor.stats.succeeded == 16 && auditor.stats.deadLettered == 0 && auditor.stats.replayed == 0)
            #expect(try await queue.deadLetters(of: "steps").allSatisfy { $0.hold != nil })
            return (auditor, auditorTask)
        }
    }

    @Test(".holdKey over a transport without a control topic is refused when the worker starts: its holds would have nowhere to live")
    func holdKeyNeedsAControlTopic() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = JobQueue(transport: FreezableTransport(EmbeddedTransport(broker.spool), frozen: { false }), partitions: 1)
        await #expect(throws: JobControlError.unsupportedTransport) { try await worker(queue, Runs()).run() }
    }

    @Test("without .holdKey a dead letter releases its key: A's later jobs run, nothing is held, and redrive sends the job back alone")
    func defaultUnchanged() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let runs = Runs()
        runs.broken.value = ["A-2"]
        try await enqueue(queue, "A", 1...5)
        let worker = worker(queue, runs, policy: .releaseKey)
        let task = Task { _ = try? await worker.run() }
        #expect(await eventually { runs.of("A").count == 6 })
        #expect(runs.of("A") == [1, 2, 2, 3, 4, 5])
        #expect(worker.stats.parked == 0 && worker.stats.deadLettered == 1)
        #expect(try await queue.keyHolds(of: "steps").isEmpty)
        #expect(try await queue.deadLetters(of: "steps").map(\.hold) == [nil])
        #expect(try await queue.redrive("steps", key: "A").isEmpty)
        runs.broken.value = []
        #expect(try await queue.redrive("steps", ids: ["A-2"]).map(\.id) == ["A-2"])
        #expect(await eventually { runs.of("A").count == 7 })
        #expect(runs.of("A") == [1, 2, 2, 3, 4, 5, 2])
        worker.stop()
        await task.value
    }
}
