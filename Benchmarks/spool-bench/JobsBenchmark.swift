import Foundation
import SpoolFormat
import SpoolJobs
import SpoolSystem
import Synchronization

/// `spool-bench jobs`: jobs/s through the worker runtime with no-op handlers, per ordering mode,
/// beside a plain group consumer reading the same records in the same run.
struct JobsBenchmark {
    static let help = """
        usage: spool-bench jobs [--jobs N] [--keys N] [--key-rate R] [--long-ms MS] [--transport embedded|wire|process|both|all]
                                [--modes M,M] [--rounds N] [--enqueue-batch N] [--perf-control FIFO] [--dir DIR] [--json]

        Enqueues N jobs (100-byte JSON payloads, keys spread over --keys users) to a topic of 8
        partitions, fsync=always, then runs 4 workers of one group (32 jobs in flight each) with a
        handler that does nothing, once per ordering: .none, .key, .partition. Jobs/s counts from
        the moment the first worker owns partitions (the 4 start together and usually join as one
        generation) until every job has finished and its offset is committable. The baseline is 4
        plain group consumers reading the same records and committing every 200 ms, with no job
        runtime; a second baseline also decodes every payload, as a worker must, which is the
        most a worker could reach with no runtime at all; the table gives each worker run's
        share of both, taken against the baselines of its own round. --transport picks the embedded broker,
        the Kafka protocol over loopback to a server in this process (wire), the same to `spool
        serve` in a process of its own (process: the spool binary beside spool-bench; its CPU time
        is counted in), both of the first two, or all three.

        Two more .none runs have per-key limits on, beside the unlimited .none run: one with
        limits the run never reaches (1 job of a key at once, 1,000 a second per key, bursts of
        10), which shows what the bookkeeping costs, and one with a rate that binds (--key-rate
        jobs a second per key, bursts of 1), printed with its ceiling: after its first job a
        key's other jobs take at least (jobs per key - 1) / rate seconds.

        One more .key run has 5 % long jobs (every 20th job's handler sleeps --long-ms), beside
        the .key run of no-op handlers, printed with its ceiling: the long jobs' sleep spread over
        the 128 slots.

        The -own runs repeat .none, .key and .partition with each worker on a thread of its own
        (`execution: .ownThread`) instead of Swift's global executor.

        options:
          --jobs N           jobs per run (default 200000)
          --keys N           distinct keys (default 10000)
          --key-rate R       jobs a second per key in the binding-rate run (default 50)
          --long-ms MS       how long the long jobs of the 5 % run take (default 20)
          --transport T      embedded | wire | process | both | all (default both)
          --modes M,M        only these runs, of consumer, consumer-decode, none, none-limited, none-rate,
                             key, key-long, partition, none-own,
                             key-own, partition-own (default all), and no latency runs unless latency is named
                             (for profiling one run)
          --rounds N         every run N times, the runs of a round one after another (default 1): the table
                             then gives medians, with the lowest and highest in brackets, and each run's share
                             of the plain consumer is taken against the consumer run of its own round, so a
                             machine whose speed drifts between rounds moves both sides of the share alike
          --enqueue-batch N  jobs per enqueue call (default 5000), so per record batch of a partition at
                             most; 1 is a web app enqueueing a job per request, one batch per job
          --perf-control FIFO  the control FIFO of `perf record --control=fifo:FIFO -D -1`: profiling is
                             enabled while each run drains and disabled while it enqueues
          --dir DIR          where to put the data (default ./.bench-tmp); removed afterwards
          --rate N           enqueue rate of the latency runs, jobs/s (default 5000)
          --latency-seconds S  length of each latency run (default 4)
          --json             print one JSON object with the figures as the last line

        Then, per transport, enqueue-to-start latency: jobs enqueued one at a time at --rate (from
        32 enqueuers, on a schedule; latency counts from the scheduled time) and started by a .key
        worker, beside a plain group consumer's end-to-end latency for the same records (from the
        scheduled send to the decoded record), and the same .key worker on a thread of its own.
        """

    struct Options {
        var jobs = 200_000
        var keys = 10_000
        var transports = ["embedded", "wire"]
        var directory = ".bench-tmp"
        var json = false
        var help = false
        var rate = 5_000
        var latencySeconds = 4
        var keyRate = 50
        var longMs = 20
        static let allModes = ["consumer", "consumer-decode", "none", "none-limited", "none-rate", "key", "key-long", "partition",
                               "none-own", "key-own", "partition-own"]
        var modes = Options.allModes
        var latencyRuns = true
        var rounds = 1
        var enqueueBatch = 5_000
        /// A `perf record --control=fifo:PATH` control FIFO: sent `enable` when a drain starts
        /// and `disable` when it ends, so a profile holds the drains and not the enqueueing.
        var perfControl: String?

        init(_ words: ArraySlice<String>) throws {
            var words = BenchWords(words)
            while let flag = try words.next() {
                switch flag {
                case "--jobs": jobs = try words.number(flag, 1_000...100_000_000)
                case "--keys": keys = try words.number(flag, 1...10_000_000)
                case "--rate": rate = try words.number(flag, 10...100_000)
                case "--latency-seconds": latencySeconds = try words.number(flag, 1...600)
                case "--key-rate": keyRate = try words.number(flag, 1...1_000_000)
                case "--long-ms": longMs = try words.number(flag, 1...60_000)
                case "--rounds": rounds = try words.number(flag, 1...100)
                case "--enqueue-batch": enqueueBatch = try words.number(flag, 1...100_000)
                case "--perf-control": perfControl = try words.value(flag)
                case "--modes":
                    let named = try words.value(flag).split(separator: ",").map(String.init)
                    guard !named.isEmpty, named.allSatisfy({ Options.allModes.contains($0) || $0 == "latency" }) else {
                        throw UsageError("--modes takes a comma-separated list of \(Options.allModes.joined(separator: ", ")) and latency")
                    }
                    modes = Options.allModes.filter { named.contains($0) }
                    latencyRuns = named.contains("latency")
                case "--transport":
                    switch try words.value(flag) {
                    case "embedded": transports = ["embedded"]
                    case "wire": transports = ["wire"]
                    case "process": transports = ["process"]
                    case "both": transports = ["embedded", "wire"]
                    case "all": transports = ["embedded", "wire", "process"]
                    default: throw UsageError("--transport needs embedded, wire, process, both or all")
                    }
                default: throw UsageError("unknown option \(flag)")
                }
            }
            (directory, json, help) = (words.directory, words.json, words.help)
        }
    }

    struct Payload: Job {
        static let topic = "bench-jobs"
        var user: String
        var body: String
    }

    struct Result {
        var transport: String
        var mode: String
        /// Which of `--rounds` the run belongs to, from 1.
        var round = 1
        var jobsPerSecond: Double
        /// The process's CPU time (user and system) per job over the same window: steadier than
        /// jobs/s on a machine shared with other work, which takes the wall clock but not this.
        var cpuMicrosecondsPerJob: Double
    }

    static let workers = 4
    static let partitions = 8
    let options: Options

    func run() async throws {
        let scratch = try ScratchDirectory(parent: options.directory, prefix: "spool-bench-jobs")
        defer { scratch.remove() }
        var results: [Result] = []
        for round in 1...options.rounds {
            for transport in options.transports {
                for mode in options.modes {
                    var result = try await measure(transport: transport, mode: mode, directory: scratch.path + "/\(round)-\(transport)-\(mode)")
                    (result.transport, result.mode, result.round) = (transport, mode, round)
                    results.append(result)
                    let name = options.rounds == 1 ? "" : "round \(round) "
                    FileHandle.standardError.write(Data("  \(name)\(transport) \(mode): \(format(result.jobsPerSecond, 0)) jobs/s, \(format(result.cpuMicrosecondsPerJob, 2)) µs CPU per job\n".utf8))
                }
            }
        }
        var latencies: [(transport: String, mode: String, summary: LatencySummary)] = []
        for transport in options.transports where options.latencyRuns {
            for mode in ["consumer", "key", "key-own"] {
                let run = JobLatencyRun(transport: transport, mode: mode, rate: options.rate, seconds: Double(options.latencySeconds),
                                        directory: scratch.path + "/latency-\(transport)-\(mode)")
                let summary = try await run.measure()
                latencies.append((transport, mode, summary))
                FileHandle.standardError.write(Data("  latency \(transport) \(mode): p50 \(format(summary.p50Ms, 2)) ms, p99 \(format(summary.p99Ms, 2)) ms\n".utf8))
            }
        }
        print(report(results))
        if !latencies.isEmpty {
            print("")
            print(latencyReport(latencies))
        }
        if options.json { print(json(results, latencies)) }
    }

    private func latencyReport(_ runs: [(transport: String, mode: String, summary: LatencySummary)]) -> String {
        var lines = [
            "enqueue-to-start latency at \(options.rate) jobs/s, enqueued one at a time (\(options.latencySeconds) s per run)",
            "",
            "transport  reader                   p50 ms   p99 ms   p99.9 ms",
        ]
        for run in runs {
            let label = switch run.mode {
            case "consumer": "plain group consumer"
            case "key-own": "worker, .key, own thread"
            default: "worker, .key"
            }
            lines.append(run.transport.padding(toLength: 10, withPad: " ", startingAt: 0) + " "
                         + label.padding(toLength: 24, withPad: " ", startingAt: 0) + " "
                         + format(run.summary.p50Ms, 2).padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                         + format(run.summary.p99Ms, 2).padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                         + format(run.summary.p999Ms, 2))
        }
        return lines.joined(separator: "\n")
    }

    /// One run on a fresh broker: enqueue, then drain with 4 workers (or 4 plain consumers).
    private func measure(transport: String, mode: String, directory: String) async throws -> Result {
        // The 4 members start together and land in one generation (Kafka's
        // group.initial.rebalance.delay.ms), so no member drains the backlog alone first.
        let bench = try BenchQueue(transport: transport, directory: directory, partitions: Self.partitions, initialRebalanceDelayMs: 1_000)
        let queue = bench.queue
        let body = String(repeating: "x", count: 70)
        for chunk in stride(from: 0, to: options.jobs, by: options.enqueueBatch) {
            try await queue.enqueue((chunk..<min(chunk + options.enqueueBatch, options.jobs)).map { index in
                let user = "user-\(index % options.keys)"
                return JobQueue.Enqueue(Payload(user: user, body: body), key: user)
            })
        }
        let done = DoneCount(shards: Self.workers)
        let measured: Result
        if mode.hasPrefix("consumer") {
            measured = try await drainWithConsumers(queue: queue, done: done, decoding: mode == "consumer-decode", serverCPU: bench.serverCPU)
        } else {
            let ordering: JobOrdering = mode.hasPrefix("none") ? .none : mode.hasPrefix("key") ? .key : .partition
            // Every 20th job of the long-jobs run sleeps: 5 %.
            let longEvery: Int64? = mode == "key-long" ? 20 : nil
            let longMs = options.longMs
            let limits: JobLimits = switch mode {
            case "none-limited": .perKey(concurrency: 1, ratePerSecond: 1_000, burst: 10)
            case "none-rate": .perKey(ratePerSecond: Double(options.keyRate), burst: 1)
            default: .none
            }
            let firstJob = FirstWork()
            let serverCPU = bench.serverCPU
            let workers = (0..<Self.workers).map { index in
                let done = done.shards[index]
                return Worker<Payload>(queue: queue, group: "bench", ordering: ordering, concurrency: 32, retry: .never, bufferPerPartition: 5_000,
                                limits: limits, execution: mode.hasSuffix("-own") ? .ownThread : .shared) { job in
                    firstJob.mark(cpu: { Self.processCPUNanoseconds() + serverCPU() })
                    if let longEvery, job.offset % longEvery == 0 { try await Task.sleep(for: .milliseconds(longMs)) }
                    done.add(1)
                }
            }
            let tasks = workers.map { worker in Task { try await worker.run() } }
            measured = try await timeUntil(done: done, start: firstJob, serverCPU: serverCPU)
            for worker in workers { worker.stop() }
            for task in tasks { try await task.value }
        }
        await bench.close()
        return measured
    }

    /// The baseline: plain group members read every record and commit, with no job runtime;
    /// `decoding`, they also decode each payload with the queue's coding, as a worker does before
    /// its handler runs.
    private func drainWithConsumers(queue: JobQueue, done: DoneCount, decoding: Bool, serverCPU: @escaping @Sendable () -> UInt64) async throws -> Result {
        let stopped = Counter()
        // Timed from the first record read, as the workers are timed from their first job: a
        // run that drains fast can be done before a loop that polls for readiness sees it.
        let firstRecord = FirstWork()
        let tasks = (0..<Self.workers).map { index in
            let done = done.shards[index]
            return Task {
                let subscription = try await queue.transport.subscribe(group: "bench-baseline", topic: Payload.topic, hooks: SubscriptionHooks(revoked: { _ in }, assigned: { _ in }))
                var last: [TopicPartition: CommittedOffset] = [:]
                var committedAt = monotonicNanoseconds()
                while stopped.value == 0 {
                    let records = try await subscription.poll()
                    if !records.isEmpty { firstRecord.mark(cpu: { Self.processCPUNanoseconds() + serverCPU() }) }
                    for record in records { last[TopicPartition(record.topic, record.partition)] = CommittedOffset(offset: record.offset + 1) }
                    if decoding {
                        for record in records { _ = try queue.coding.decode(Payload.self, from: record.value ?? []) }
                    }
                    done.add(records.count)
                    // Commits every 200 ms, as the workers do.
                    if monotonicNanoseconds() - committedAt > 200_000_000 {
                        try? await subscription.commit(last)
                        committedAt = monotonicNanoseconds()
                    }
                }
                await subscription.close()
            }
        }
        let measured = try await timeUntil(done: done, start: firstRecord, serverCPU: serverCPU)
        stopped.add(1)
        for task in tasks { try await task.value }
        return measured
    }

    /// Jobs/s and CPU time per job (this process's, and `serverCPU()`, the broker's in a process of
    /// its own) from `start`'s first job until `done` reaches the job count (at most 10 minutes).
    private func timeUntil(done: DoneCount, start: FirstWork, serverCPU: () -> UInt64) async throws -> Result {
        let limit = Date().addingTimeInterval(600)
        while start.since() == nil && Date() < limit { try await Task.sleep(for: .milliseconds(1)) }
        try tellPerf("enable")
        defer { try? tellPerf("disable") }
        guard let (started, cpuStarted) = start.since() else { throw UsageError("no job ran in 10 minutes") }
        while done.value < options.jobs && Date() < limit { try await Task.sleep(for: .milliseconds(1)) }
        let (finished, finishedAt, cpuFinished) = (done.value, monotonicNanoseconds(), Self.processCPUNanoseconds() + serverCPU())
        guard finished >= options.jobs else { throw UsageError("only \(finished) of \(options.jobs) jobs finished in 10 minutes") }
        return Result(transport: "", mode: "", jobsPerSecond: Double(finished) / (Double(finishedAt - started) / 1e9),
                      cpuMicrosecondsPerJob: Double(cpuFinished - cpuStarted) / 1e3 / Double(finished))
    }

    /// Writes a command to `--perf-control`'s FIFO, if given.
    private func tellPerf(_ command: String) throws {
        guard let path = options.perfControl else { return }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw UsageError("--perf-control: cannot open \(path) for writing") }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data((command + "\n").utf8))
    }

    /// User and system CPU time of this process so far.
    private static func processCPUNanoseconds() -> UInt64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func nanoseconds(_ time: timeval) -> UInt64 { UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_usec) * 1_000 }
        return nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime)
    }
}

/// The first moment something happened (monotonic nanoseconds).
final class Moment: Sendable {
    private let atomic = Atomic<UInt64>(0)
    /// Marks now unless marked before; whether this call marked it.
    @discardableResult
    func markOnce() -> Bool { atomic.compareExchange(expected: 0, desired: monotonicNanoseconds(), ordering: .relaxed).exchanged }
    /// Holds `value` (a reading other than the clock's) unless it holds one already.
    func mark(_ value: UInt64) { _ = atomic.compareExchange(expected: 0, desired: max(1, value), ordering: .relaxed) }
    var value: UInt64? { let stamp = atomic.load(ordering: .relaxed); return stamp == 0 ? nil : stamp }
}

/// When the first job (or record) was run, and the CPU time then: the start of a measurement that
/// leaves out the group's join, which a run of a few thousand jobs would otherwise mostly be.
final class FirstWork: Sendable {
    private let at = Moment()
    private let cpu = Moment()

    /// Marks now and `cpu()` unless marked before; after the first call, one relaxed load.
    func mark(cpu reading: () -> UInt64) {
        guard at.value == nil, at.markOnce() else { return }
        cpu.mark(reading())
    }

    /// The moment and the CPU time then, once both are marked.
    func since() -> (at: UInt64, cpu: UInt64)? {
        guard let at = at.value, let cpu = cpu.value else { return nil }
        return (at, cpu)
    }
}

/// A count shared by tasks.
/// Jobs done, counted by each worker (or baseline consumer) in a counter of its own, so the count
/// costs the runs under test no cache line shared between cores: a shared one, added to on every
/// job by four threads, was 2-3 % of a worker's CPU time, which no real handler pays.
private final class DoneCount: Sendable {
    let shards: [Shard]

    init(shards: Int) { self.shards = (0..<shards).map { _ in Shard() } }

    var value: Int { shards.reduce(0) { $0 + $1.value } }

    /// One counter, with room after it so that two are never on one cache line.
    final class Shard: Sendable {
        private let atomic = Atomic(0)
        private let padding: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

        func add(_ amount: Int) { atomic.add(amount, ordering: .relaxed) }
        var value: Int { atomic.load(ordering: .relaxed) }
    }
}

private final class Counter: Sendable {
    private let atomic = Atomic(0)
    func add(_ amount: Int) { atomic.add(amount, ordering: .relaxed) }
    var value: Int { atomic.load(ordering: .relaxed) }
}
