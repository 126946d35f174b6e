import Foundation
import SpoolBroker
import SpoolFormat
import SpoolLog
import SpoolSystem
import Synchronization

/// `spool-bench broker`: in-process produce through the broker beside the same load on raw
/// partition logs, measured in the same run.
struct BrokerBenchmark {
    static let help = """
        usage: spool-bench broker [--seconds N] [--batch-records N] [--dir DIR] [--json]

        Produces 100-byte records with 1, 4 and 16 concurrent producers across 8 partitions of one
        topic, fsync=always, acks=all: each producer sends a batch to the next partition and waits
        until it is durable, then sends the next (one request in flight, as a synchronous producer).
        The same load then runs on 8 raw SpoolLog partition logs (append, then wait until durable),
        so the broker's cost is the difference.

        options:
          --seconds N        how long each run lasts (default 3)
          --batch-records N  records per batch (default 64)
          --dir DIR          where to put the data (default ./.bench-tmp); removed afterwards
          --json             print one JSON object with the figures as the last line
        """

    struct Options {
        var seconds = 3
        var batchRecords = 64
        var directory = ".bench-tmp"
        var json = false
        var help = false

        init(_ words: ArraySlice<String>) throws {
            var words = BenchWords(words)
            while let flag = try words.next() {
                switch flag {
                case "--seconds": seconds = try words.number(flag, 1...600)
                case "--batch-records": batchRecords = try words.number(flag, 1...10_000)
                default: throw UsageError("unknown option \(flag)")
                }
            }
            (directory, json, help) = (words.directory, words.json, words.help)
        }
    }

    struct Run {
        var producers: Int
        var layer: String
        var records: Int
        var seconds: Double
        var latency: LatencySummary
        var recordsPerSecond: Double { Double(records) / seconds }
    }

    let options: Options
    static let partitions = 8
    static let producerCounts = [1, 4, 16]

    func run() async throws {
        let root = options.directory + "/spool-bench-broker-\(getpid())"
        try LiveFileSystem().makeDirectories(root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let batch = RecordBatch(producing: (0..<options.batchRecords).map { index in
            ProducerRecord(key: Array("user-\(index)".utf8), value: [UInt8](repeating: UInt8(ascii: "v"), count: 100), timestamp: currentTimeMs())
        }).encoded()

        var runs: [Run] = []
        for producers in Self.producerCounts {
            runs.append(try await brokerRun(root: root + "/broker-\(producers)", producers: producers, batch: batch))
            runs.append(try await logRun(root: root + "/log-\(producers)", producers: producers, batch: batch))
        }
        print(report(runs))
        if options.json { print(json(runs)) }
    }

    private func brokerRun(root: String, producers: Int, batch: [UInt8]) async throws -> Run {
        let broker = try Broker.open(BrokerConfig(dataDirectory: root))
        defer { try? broker.close() }
        try broker.createTopic("bench", partitions: Self.partitions)
        return try await measure(layer: "broker", producers: producers) { partition in
            _ = try await broker.produce(topic: "bench", partition: Int32(partition), records: batch, acks: .all)
        }
    }

    private func logRun(root: String, producers: Int, batch: [UInt8]) async throws -> Run {
        let logs = try (0..<Self.partitions).map { try PartitionLog.open(directory: root + "/bench-\($0)") }
        defer { for log in logs { try? log.close() } }
        return try await measure(layer: "SpoolLog", producers: producers) { partition in
            let result = try logs[partition].append(batch)
            try await logs[partition].waitUntilDurable(result.lastOffset)
        }
    }

    /// Runs `producers` concurrent loops of `send` (one batch each, to the next partition) for the
    /// configured time and collects per-batch latencies.
    private func measure(layer: String, producers: Int, send: @escaping @Sendable (Int) async throws -> Void) async throws -> Run {
        let seconds = options.seconds
        let started = monotonicNanoseconds()
        let deadline = started + UInt64(seconds) * 1_000_000_000
        let perProducer = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for producer in 0..<producers {
                group.addTask {
                    var latencies: [UInt64] = []
                    var partition = producer % Self.partitions
                    while monotonicNanoseconds() < deadline {
                        let sendStarted = monotonicNanoseconds()
                        try await send(partition)
                        latencies.append(monotonicNanoseconds() - sendStarted)
                        partition = (partition + 1) % Self.partitions
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: [[UInt64]]()) { $0.append($1) }
        }
        let elapsed = Double(monotonicNanoseconds() - started) / 1e9
        let latencies = perProducer.flatMap { $0 }
        return Run(producers: producers, layer: layer, records: latencies.count * options.batchRecords, seconds: elapsed,
                   latency: LatencySummary(nanoseconds: latencies))
    }

    private func report(_ runs: [Run]) -> String {
        var lines = [
            "spool-bench broker: \(options.batchRecords) records of 100 bytes per batch, \(Self.partitions) partitions, fsync=always, acks=all, \(options.seconds) s per run",
            "",
            "producers  layer      records/s    p50 ms   p99 ms   broker vs SpoolLog",
        ]
        for producers in Self.producerCounts {
            guard let broker = runs.first(where: { $0.producers == producers && $0.layer == "broker" }),
                  let log = runs.first(where: { $0.producers == producers && $0.layer == "SpoolLog" }) else { continue }
            for run in [broker, log] {
                let ratio = run.layer == "broker" ? format(broker.recordsPerSecond / log.recordsPerSecond * 100) + " %" : ""
                lines.append(String(run.producers).padding(toLength: 10, withPad: " ", startingAt: 0) + " "
                             + run.layer.padding(toLength: 10, withPad: " ", startingAt: 0) + " "
                             + format(run.recordsPerSecond, 0).padding(toLength: 12, withPad: " ", startingAt: 0) + " "
                             + format(run.latency.p50Ms, 3).padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                             + format(run.latency.p99Ms, 3).padding(toLength: 8, withPad: " ", startingAt: 0) + " " + ratio)
            }
        }
        let overhead = overheadVsLog(runs)
        lines.append("")
        lines.append("broker overhead vs SpoolLog at 16 producers: \(format(overhead * 100)) %  (target < 20 %)")
        return lines.joined(separator: "\n")
    }

    private func overheadVsLog(_ runs: [Run]) -> Double {
        guard let broker = runs.last(where: { $0.layer == "broker" }), let log = runs.last(where: { $0.layer == "SpoolLog" }),
              log.recordsPerSecond > 0 else { return 0 }
        return 1 - broker.recordsPerSecond / log.recordsPerSecond
    }

    private func json(_ runs: [Run]) -> String {
        let broker = runs.last { $0.layer == "broker" }
        var fields = [
            "\"records_per_s\": \(format(broker?.recordsPerSecond ?? 0, 0))",
            "\"p50_ms\": \(format(broker?.latency.p50Ms ?? 0, 4))",
            "\"p99_ms\": \(format(broker?.latency.p99Ms ?? 0, 4))",
            "\"overhead_vs_log\": \(format(overheadVsLog(runs), 4))",
        ]
        let items = runs.map { run in
            "{\"producers\": \(run.producers), \"layer\": \"\(run.layer)\", \"records_per_s\": \(format(run.recordsPerSecond, 0)), "
                + "\"p50_ms\": \(format(run.latency.p50Ms, 4)), \"p99_ms\": \(format(run.latency.p99Ms, 4))}"
        }
        fields.append("\"runs\": [\(items.joined(separator: ", "))]")
        return "{" + fields.joined(separator: ", ") + "}"
    }
}
