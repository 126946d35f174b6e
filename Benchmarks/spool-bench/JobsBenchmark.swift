import Foundation
import SpoolFormat
import SpoolJobs
import SpoolSystem
import Synchronization

/// `spool-bench jobs`: jobs/s through the worker runtime with no-op handlers, per ordering mode,
/// beside a plain group consumer reading the same records in the same run.
struct JobsBenchmark {
    static let help = """
        usage: spool-bench jobs [--jobs N] [--keys N] [--key-rate R] [--long-ms MS] [--transport embedded|wire|process|both|all] [--dir DIR] [--json]

        Enqueues N jobs (100-byte JSON payloads, keys spread over --keys users) to a topic of 8
        partitions, fsync=always, then runs 4 workers of one group (32 jobs in flight each) with a
        handler that does nothing, once per ordering: .none, .key, .partition. Jobs/s counts from
        the moment the first worker owns partitions (the 4 start together and usually join as one
        generation) until every job has finished and its offset is committable. The baseline is 4
        plain group consumers reading the same records and committing every 200 ms, with no job
        runtime; a second baseline also decodes every payload, as a worker must, which is the
        most a worker could reach with no runtime at all. --transport picks the embedded broker,
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

        options:
          --jobs N           jobs per run (default 200000)
          --keys N           distinct keys (default 10000)
          --key-rate R       jobs a second per key in the binding-rate run (default 50)
          --long-ms MS       how long the long jobs of the 5 % run take (default 20)
          --transport T      embedded | wire | process | both | all (default both)
          --modes M,M        only these runs, of consumer, consumer-decode, none, none-limited, none-rate,
                             key, key-long, partition (default all), and no latency runs unless latency is named
                             (for profiling one run)
          --dir DIR          where to put the data (default ./.bench-tmp); removed afterwards
          --rate N           enqueue rate of the latency runs, jobs/s (default 5000)
          --latency-seconds S  length of each latency run (default 4)
          --json             print one JSON object with the figures as the last line

        Then, per transport, enqueue-to-start latency: jobs enqueued one at a time at --rate (from
        32 enqueuers, on a schedule; latency counts from the scheduled time) and started by a .key
        worker, beside a plain group consumer's end-to-end latency for the same records (from the
        scheduled send to the decoded record).
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
        static let allModes = ["consumer", "consumer-decode", "none", "none-limited", "none-rate", "key", "key-long", "partition"]
        var modes = Options.allModes
        var latencyRuns = true

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
        for transport in options.transports {
            for mode in options.modes {
                var result = try await measure(transport: transport, mode: mode, directory: scratch.path + "/\(transport)-\(mode)")
                (result.transport, result.mode) = (transport, mode)
                results.append(result)
                FileHandle.standardError.write(Data("  \(transport) \(mode): \(format(result.jobsPerSecond, 0)) jobs/s, \(format(result.cpuMicrosecondsPerJob, 2)) µs CPU per job\n".utf8))
            }
        }
        var latencies: [(transport: String, mode: String, summary: LatencySummary)] = []
        for transport in options.transports where options.latencyRuns {
            for mode in ["consumer", "key"] {
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
            let label = run.mode == "consumer" ? "plain group consumer" : "worker, .key"
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
        for chunk in stride(from: 0, to: options.jobs, by: 5_000) {
            try await queue.enqueue((chunk..<min(chunk + 5_000, options.jobs)).map { index in
                let user = "user-\(index % options.keys)"
                return JobQueue.Enqueue(Payload(user: user, body: body), key: user)
            })
        }
        let done = Counter()
        let measured: Result
        if mode.hasPrefix("consumer") {
            measured = try await drainWithConsumers(queue: queue, done: done, decoding: mode == "consumer-decode",
                                                    serverCPU: { bench.serverCPUNanoseconds })
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
            let workers = (0..<Self.workers).map { _ in
                Worker<Payload>(queue: queue, group: "bench", ordering: ordering, concurrency: 32, retry: .never, bufferPerPartition: 5_000,
                                limits: limits) { job in
                    if let longEvery, job.offset % longEvery == 0 { try await Task.sleep(for: .milliseconds(longMs)) }
                    done.add(1)
                }
            }
            let tasks = workers.map { worker in Task { try await worker.run() } }
            measured = try await timeUntil(done: done, serverCPU: { bench.serverCPUNanoseconds }) {
                workers.contains { !$0.assignment.isEmpty }
            }
            for worker in workers { worker.stop() }
            for task in tasks { try await task.value }
        }
        await bench.close()
        return measured
    }

    /// The baseline: plain group members read every record and commit, with no job runtime;
    /// `decoding`, they also decode each payload with the queue's coding, as a worker does before
    /// its handler runs.
    private func drainWithConsumers(queue: JobQueue, done: Counter, decoding: Bool, serverCPU: () -> UInt64) async throws -> Result {
        let stopped = Counter()
        let subscriptions = Counter()
        // When the first member was assigned, taken in the hook: a baseline that drains fast can be
        // done before a loop that polls for readiness sees it.
        let firstAssigned = Moment()
        let tasks = (0..<Self.workers).map { _ in
            Task {
                // Ready once assigned: over the wire a consumer joins on its first poll, not when created.
                let assignedOnce = Counter()
                let subscription = try await queue.transport.subscribe(group: "bench-baseline", topic: Payload.topic, hooks: SubscriptionHooks(
                    revoked: { _ in },
                    assigned: { _ in
                        assignedOnce.add(1)
                        if assignedOnce.value == 1 { subscriptions.add(1) }
                        firstAssigned.markOnce()
                    }))
                var last: [TopicPartition: CommittedOffset] = [:]
                var committedAt = monotonicNanoseconds()
                while stopped.value == 0 {
                    let records = try await subscription.poll()
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
        let measured = try await timeUntil(done: done, since: { firstAssigned.value }, serverCPU: serverCPU) { subscriptions.value >= 1 }
        stopped.add(1)
        for task in tasks { try await task.value }
        return measured
    }

    /// Jobs/s from when `ready()` first holds (or from `since()`, when it knows the moment) until
    /// `done` reaches the job count (at most 10 minutes), and CPU time per job from when `ready()`
    /// was seen (this process's, and `serverCPU()`, the broker's in a process of its own).
    private func timeUntil(done: Counter, since: () -> UInt64? = { nil }, serverCPU: () -> UInt64,
                           ready: () -> Bool) async throws -> Result {
        let limit = Date().addingTimeInterval(600)
        while !ready() && Date() < limit { try await Task.sleep(for: .milliseconds(1)) }
        let (cpuStarted, cpuStartCount) = (processCPUNanoseconds() + serverCPU(), done.value)
        let known = since()
        let startCount = known == nil ? cpuStartCount : 0
        let started = known ?? monotonicNanoseconds()
        while done.value < options.jobs && Date() < limit { try await Task.sleep(for: .milliseconds(1)) }
        let (finished, finishedAt, cpuFinished) = (done.value, monotonicNanoseconds(), processCPUNanoseconds() + serverCPU())
        guard finished >= options.jobs else { throw UsageError("only \(finished) of \(options.jobs) jobs finished in 10 minutes") }
        return Result(transport: "", mode: "", jobsPerSecond: Double(finished - startCount) / (Double(finishedAt - started) / 1e9),
                      cpuMicrosecondsPerJob: Double(cpuFinished - cpuStarted) / 1e3 / Double(max(1, finished - cpuStartCount)))
    }

    /// User and system CPU time of this process so far.
    private func processCPUNanoseconds() -> UInt64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func nanoseconds(_ time: timeval) -> UInt64 { UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_usec) * 1_000 }
        return nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime)
    }

    private func report(_ results: [Result]) -> String {
        var lines = [
            "spool-bench jobs: \(options.jobs) jobs, \(options.keys) keys, \(Self.partitions) partitions, \(Self.workers) workers × 32 in flight, "
                + "no-op handlers, fsync=always",
            "",
            "transport  ordering                                 jobs/s      vs plain consumer   CPU µs per job",
        ]
        for result in results {
            let baseline = results.first { $0.transport == result.transport && $0.mode == "consumer" }?.jobsPerSecond ?? 0
            lines.append(result.transport.padding(toLength: 10, withPad: " ", startingAt: 0) + " "
                         + label(result.mode).padding(toLength: 40, withPad: " ", startingAt: 0) + " "
                         + format(result.jobsPerSecond, 0).padding(toLength: 11, withPad: " ", startingAt: 0) + " "
                         + (result.mode == "consumer" || baseline == 0 ? "" : format(result.jobsPerSecond / baseline * 100) + " %")
                            .padding(toLength: 19, withPad: " ", startingAt: 0) + " " + format(result.cpuMicrosecondsPerJob, 2))
        }
        lines.append("")
        let perKey = Double(options.jobs) / Double(min(options.keys, options.jobs))
        let rateRun = results.first { $0.mode == "none-rate" }
        if let rateRun, perKey > 1 {
            // Each key starts one burst at once, then one job per 1/rate: the run lasts at least
            // (jobs per key - 1) / rate seconds.
            let ceiling = Double(options.jobs) / ((perKey - 1) / Double(options.keyRate))
            lines.append("binding rate: \(options.keyRate) jobs/s per key × \(options.keys) keys, \(format(perKey, 0)) jobs per key: "
                         + "ceiling \(format(ceiling, 0)) jobs/s, measured \(format(rateRun.jobsPerSecond, 0))")
        }
        if let longRun = results.first(where: { $0.mode == "key-long" }) {
            // The long jobs' sleep over every slot of every worker, with the rest taking no time.
            let sleeping = Double(options.jobs) / 20 * Double(options.longMs) / 1000 / Double(Self.workers * 32)
            lines.append("5 % long jobs: \(options.jobs / 20) jobs of \(options.longMs) ms over \(Self.workers * 32) slots: ceiling "
                         + "\(format(Double(options.jobs) / sleeping, 0)) jobs/s, measured \(format(longRun.jobsPerSecond, 0))")
        }
        lines.append("published figures for reference (other hardware): River 46,000 jobs/s (8 cores), Sidekiq 23,500 jobs/s")
        return lines.joined(separator: "\n")
    }

    private func label(_ mode: String) -> String {
        switch mode {
        case "consumer": "(plain group consumer)"
        case "consumer-decode": "(plain consumer, decoding payloads)"
        case "none-limited": ".none, limits not reached (1, 1000/s)"
        case "none-rate": ".none, binding rate (\(options.keyRate)/s per key)"
        case "key-long": ".key, 5 % long jobs (\(options.longMs) ms)"
        default: "." + mode
        }
    }

    private func json(_ results: [Result], _ latencies: [(transport: String, mode: String, summary: LatencySummary)]) -> String {
        "{\"runs\": [" + results.map {
            "{\"transport\": \"\($0.transport)\", \"ordering\": \"\($0.mode)\", \"jobs_per_s\": \(format($0.jobsPerSecond, 0)), \"cpu_us_per_job\": \(format($0.cpuMicrosecondsPerJob, 3))}"
        }.joined(separator: ", ") + "], \"latency\": [" + latencies.map {
            "{\"transport\": \"\($0.transport)\", \"reader\": \"\($0.mode)\", \"rate\": \(options.rate), \"p50_ms\": \(format($0.summary.p50Ms, 3)), "
                + "\"p99_ms\": \(format($0.summary.p99Ms, 3)), \"p999_ms\": \(format($0.summary.p999Ms, 3))}"
        }.joined(separator: ", ") + "]}"
    }
}

/// The first moment something happened (monotonic nanoseconds).
final class Moment: Sendable {
    private let atomic = Atomic<UInt64>(0)
    func markOnce() { _ = atomic.compareExchange(expected: 0, desired: monotonicNanoseconds(), ordering: .relaxed) }
    var value: UInt64? { let stamp = atomic.load(ordering: .relaxed); return stamp == 0 ? nil : stamp }
}

/// A count shared by tasks.
private final class Counter: Sendable {
    private let atomic = Atomic(0)
    func add(_ amount: Int) { atomic.add(amount, ordering: .relaxed) }
    var value: Int { atomic.load(ordering: .relaxed) }
}
