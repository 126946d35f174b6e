import SpoolBroker
import SpoolEmbedded
import SpoolFormat
import SpoolJobs
import SpoolLog
import SpoolSystem
import Synchronization

/// The job runtime (SpoolJobs) through power cuts: keyed jobs enqueued into an embedded broker on
/// a `SimulatedFileSystem`, run by `Worker`s of one group in `.key` order with a short retry
/// backoff, some failing a few times, some always (dead letters). At a cut armed at a seeded disk
/// operation the workers are stopped in the dead world, a broker is opened on the crash image,
/// fresh workers of the same group run until every job is settled, and `JobPowerCutModel` checks
/// what ran against what was acknowledged (docs/reliability.md, "Power cuts").
///
/// Unlike `PowerCutScenario` the work is concurrent (workers on their own tasks, backoff in real
/// milliseconds), so a seed fixes the workload and the cut's operation, not the history.
public struct JobPowerCutScenario: Sendable {
    public var seed: UInt64
    /// Power cuts in the run.
    public var cuts: Int
    /// A cut falls on one of the next this many disk operations after the previous settle.
    public var operationsBeforeCutMax = 150
    /// Jobs enqueued after each restart, at most.
    public var jobsPerCutMax = 24
    /// Workers of the group, started again after every restart.
    public var workers = 2
    /// The retry policy's attempts; a job that fails this many times is dead-lettered.
    public var maxAttempts = 3
    /// The broker's fsync policy. Anything but `always` breaks the promise the run checks.
    public var fsync: FsyncPolicy = .always

    public init(seed: UInt64, cuts: Int) {
        self.seed = seed
        self.cuts = cuts
    }

    public func run() async -> JobPowerCutOutcome {
        let run = JobPowerCutRun(scenario: self)
        await run.run()
        return run.model.outcome
    }
}

/// The payload: which job this is, how many of its attempts fail, and how long each run takes
/// (a slow job keeps its partition's commit point below the jobs after it for a while).
struct SimulatedJob: Job {
    static let topic = "jobs"
    var sequence: Int
    var failures: Int
    var runMs: Int
}

/// What a handler throws on an attempt meant to fail.
struct SimulatedJobFailure: Error {
    var attempt: Int
}

/// Workers that have returned from `run()`, counted from their tasks.
final class StoppedWorkers: Sendable {
    let count = Atomic(0)
}

/// One run's state. Used by one task at a time; the model is shared with the workers.
final class JobPowerCutRun {
    static let keys = (0..<5).map { "user\($0)" }
    static let group = "simulated-workers"
    static let partitions = 3
    /// Polls, 5 ms apart, of a wait for workers to settle or stop before the run gives up on it.
    static let waitPollsMax = 4000

    let scenario: JobPowerCutScenario
    let config: BrokerConfig
    let clock = SimulationClock()
    var random: SimulationRandom
    let model: JobPowerCutModel
    var disk: SimulatedFileSystem
    var spool: EmbeddedBroker?
    var queue: JobQueue?
    var workers: [Worker<SimulatedJob>] = []
    var stopped = StoppedWorkers()

    init(scenario: JobPowerCutScenario) {
        self.scenario = scenario
        var config = PowerCutScenario.brokerConfig(fsync: scenario.fsync)
        config.groupLimits.initialRebalanceDelayMs = 0
        self.config = config
        random = SimulationRandom(seed: scenario.seed)
        model = JobPowerCutModel(seed: scenario.seed, maxAttempts: scenario.maxAttempts, topic: SimulatedJob.topic)
        disk = SimulatedFileSystem(fileBytesMax: PowerCutScenario.fileBytesMax, clock: clock.read)
    }

    func run() async {
        guard await open() else { return }
        startWorkers()
        for _ in 0..<scenario.cuts {
            disk.armPowerCut(atOperation: Int.random(in: 1...scenario.operationsBeforeCutMax, using: &random), seed: random.next())
            await enqueueJobs()
            _ = await wait { self.disk.hasCut || self.isSettled }
            // After the cut the workers stop in the dead world. If it has not come (everything
            // settled first), they stop while the power is on, finishing and committing, and the
            // power goes after.
            await stopWorkers()
            if disk.hasCut { model.withOutcome { $0.armedCuts += 1 } }
            let image = disk.cutImage ?? disk.powerCut(&random)
            try? spool?.close()
            disk = SimulatedFileSystem(image: image, fileBytesMax: PowerCutScenario.fileBytesMax, clock: clock.read)
            model.startLife()
            guard await open() else { return }
            startWorkers()
            guard await wait({ self.isSettled }) else {
                model.withOutcome { outcome in
                    outcome.unexpected += 1
                    outcome.fail("the workers did not settle the jobs after the restart: \(settleState)")
                }
                break
            }
            model.withOutcome { $0.cuts += 1 }
            model.checkSettled(deadLetters: await deadLetters())
        }
        await stopWorkers()
        model.finish(deadLetters: await deadLetters())
        try? spool?.close()
    }

    // MARK: - Brokers and workers

    /// Opens a broker on `disk` and creates the job topics. Returns false when it does not open.
    func open() async -> Bool {
        do {
            let spool = EmbeddedBroker(broker: try Broker.open(config, fileSystem: disk, clock: clock.read))
            self.spool = spool
            let model = model
            let life = model.life
            let disk = disk
            let transport = RecordingJobTransport(
                inner: EmbeddedTransport(spool),
                sent: { topic, records in if !disk.hasCut { model.sent(topic, records, life: life) } },
                committed: { offsets in if !disk.hasCut { model.committed(offsets) } })
            let queue = JobQueue(transport: transport, partitions: Self.partitions)
            self.queue = queue
            try await queue.prepare(topic: SimulatedJob.topic)
            return true
        } catch {
            model.withOutcome { outcome in
                outcome.unexpected += 1
                outcome.fail("the broker did not open (life \(model.life)): \(error)")
            }
            return false
        }
    }

    func startWorkers() {
        guard let queue else { return }
        let model = model
        let life = model.life
        let disk = disk
        let maxAttempts = scenario.maxAttempts
        stopped = StoppedWorkers()
        let stopped = stopped
        workers = (0..<scenario.workers).map { _ in
            Worker<SimulatedJob>(queue: queue, group: Self.group, ordering: .key, concurrency: 4,
                                 retry: .exponential(maxAttempts: maxAttempts, base: .milliseconds(2), max: .milliseconds(8), jitter: false),
                                 shutdownTimeout: .milliseconds(500)) { job in
                try await Self.handle(job, model: model, disk: disk, life: life)
            }
        }
        for worker in workers {
            Task {
                try? await worker.run()
                stopped.count.add(1, ordering: .sequentiallyConsistent)
            }
        }
    }

    /// A handler: records the run unless the power is already off (a dead world's run never
    /// happened), and fails the attempts the job is meant to fail.
    static func handle(_ job: JobContext<SimulatedJob>, model: JobPowerCutModel, disk: SimulatedFileSystem, life: Int) async throws {
        guard !disk.hasCut else { throw CancellationError() }
        let sequence = job.payload.sequence
        model.begin(sequence, attempt: job.attempt, life: life, partition: job.partition, offset: job.offset)
        if job.payload.runMs > 0 {
            try? await Task.sleep(for: .milliseconds(job.payload.runMs))
        } else {
            await Task.yield()
        }
        guard !disk.hasCut else { throw CancellationError() }
        let fails = job.attempt <= job.payload.failures
        model.end(sequence, attempt: job.attempt, life: life, succeeded: !fails)
        if fails { throw SimulatedJobFailure(attempt: job.attempt) }
    }

    /// Stops the workers (in the dead world after a cut, where their calls still answer) and
    /// waits, bounded, until they have returned.
    func stopWorkers() async {
        for worker in workers { worker.stop() }
        let expected = workers.count
        if await !wait({ self.stopped.count.load(ordering: .sequentiallyConsistent) == expected }) {
            model.withOutcome { outcome in
                outcome.unexpected += 1
                outcome.fail("\(expected - stopped.count.load(ordering: .sequentiallyConsistent)) workers did not stop")
            }
        }
        workers = []
    }

    /// Polls `condition` every 5 ms, at most `waitPollsMax` times; returns whether it held.
    func wait(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<Self.waitPollsMax {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    // MARK: - Workload

    /// Enqueues a seeded number of keyed jobs, each awaited, until the cut: most succeed, some
    /// fail a few attempts first, some always fail; one in ten takes 10-50 ms a run.
    func enqueueJobs() async {
        guard let queue else { return }
        for _ in 0..<Int.random(in: 1...scenario.jobsPerCutMax, using: &random) where !disk.hasCut {
            let key = Self.keys.randomElement(using: &random) ?? "user0"
            let failures = switch Int.random(in: 0..<100, using: &random) {
            case 0..<15: scenario.maxAttempts
            case 15..<35: Int.random(in: 1..<scenario.maxAttempts, using: &random)
            default: 0
            }
            let runMs = Int.random(in: 0..<100, using: &random) < 10 ? Int.random(in: 10...50, using: &random) : 0
            let sequence = model.register(key: key, failures: failures)
            do {
                try await queue.enqueue(SimulatedJob(sequence: sequence, failures: failures, runMs: runMs), key: key,
                                        id: JobPowerCutModel.jobId(sequence))
                if disk.hasCut { return }
                model.acknowledge(sequence)
            } catch {
                if disk.hasCut { return }
                model.withOutcome { outcome in
                    outcome.unexpected += 1
                    outcome.fail("enqueue of j\(sequence) failed before the cut: \(error)")
                }
                return
            }
        }
    }

    // MARK: - Checks

    /// Every partition of the job topic committed up to its end: every job in it finished.
    var isSettled: Bool {
        guard let broker = spool?.broker else { return false }
        let partitions = (0..<Int32(Self.partitions)).map { TopicPartition(SimulatedJob.topic, $0) }
        let committed = broker.committedOffsets(group: Self.group, partitions: partitions)
        return partitions.allSatisfy { partition in
            let end = broker.logEndOffset(topic: partition.topic, partition: partition.partition) ?? 0
            return (committed[partition]?.offset ?? 0) == end
        }
    }

    /// Committed offset and end of each partition, for a failure message.
    var settleState: String {
        guard let broker = spool?.broker else { return "no broker" }
        let partitions = (0..<Int32(Self.partitions)).map { TopicPartition(SimulatedJob.topic, $0) }
        let committed = broker.committedOffsets(group: Self.group, partitions: partitions)
        return partitions.map { "\($0): committed \(committed[$0]?.offset ?? -1) end \(broker.logEndOffset(topic: $0.topic, partition: $0.partition) ?? -1)" }
            .joined(separator: ", ")
    }

    /// The dead-letter topic's copies of each job, by sequence.
    func deadLetters() async -> [Int: Int] {
        guard let spool else { return [:] }
        do {
            var copies: [Int: Int] = [:]
            for record in try await EmbeddedTransport(spool).readAll(topic: JobQueue.deadLetterTopic(of: SimulatedJob.topic)) {
                guard let sequence = JobPowerCutModel.sequence(ofJobId: record.header(SpoolHeaders.jobId)) else { continue }
                copies[sequence, default: 0] += 1
            }
            return copies
        } catch {
            model.withOutcome { outcome in
                outcome.unexpected += 1
                outcome.fail("the dead-letter topic could not be read: \(error)")
            }
            return [:]
        }
    }
}
