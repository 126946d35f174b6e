import Dispatch
import Foundation
import Glibc
import SpoolClient
import SpoolFormat
import SpoolSystem
import Synchronization

/// `spool bench`: a load generator against a broker, over the Kafka protocol.
enum BenchCommand {
    static let help = """
        usage: spool bench produce|consume|e2e [--records N] [--size B] [--partitions P] [--producers K]
                                               [--acks all|1|0] [--rate R] [--linger-ms L] [--topic T] [--json]
                                               [--broker HOST:PORT]

          produce  K producers send N records of B bytes (idempotent unless --acks 0)
          consume  one consumer reads N records of the topic from its beginning
          e2e      produce and consume at once; latency is from send to receipt (the producer starts
                   once the consumer's first poll is back)

        Ends with records/s, MB/s and latency p50/p95/p99/p99.9 (produce: send to acknowledgement;
        consume: per poll; e2e: send to receipt). On a terminal a progress line runs on stderr.

        options:
          --records N        records (default 1000000)
          --size B           value bytes (default 100)
          --partitions P     partitions when the topic is created (default 8)
          --producers K      concurrent producers, each with its own connection (default 4)
          --acks all|1|0     (default all)
          --rate R           produce at most R records/s in all, spread over the producers (default 0: as fast as possible)
          --linger-ms L      how long a producer waits to fill a batch (default 5)
          --topic T          (default spool-bench)
          --json             one JSON object on the last line: records_per_s, mb_per_s, p50_ms, p95_ms, p99_ms, p999_ms
        \(ClientCommands.brokerHelp)
        """

    struct Settings: Sendable {
        var mode: String
        var records: Int
        var size: Int
        var partitions: Int
        var producers: Int
        var acks: Int16
        /// Records per second over all producers; 0 sends as fast as the window allows.
        var rate: Int
        var lingerMs: Int
        var topic: String
        var json: Bool
        var broker: String
    }

    static func run(_ words: ArraySlice<String>) async -> Int32 {
        let settings: Settings
        do {
            let arguments = try Arguments(words, valued: ["records", "size", "partitions", "producers", "acks", "rate", "linger-ms", "topic", "broker"], flags: ["json"])
            if arguments.wantsHelp {
                print(help)
                return ExitCode.success
            }
            guard arguments.positional.count == 1, ["produce", "consume", "e2e"].contains(arguments.positional[0]) else {
                throw Arguments.UsageError(description: "expected produce, consume or e2e")
            }
            let acks: Int16
            switch arguments.options["acks"] ?? "all" {
            case "all", "-1": acks = -1
            case "1": acks = 1
            case "0": acks = 0
            case let other: throw Arguments.UsageError(description: "--acks must be all, 1 or 0, not '\(other)'")
            }
            settings = Settings(
                mode: arguments.positional[0], records: try arguments.integer("records", default: 1_000_000, range: 1...1_000_000_000),
                size: try arguments.integer("size", default: 100, range: 1...1_000_000),
                partitions: try arguments.integer("partitions", default: 8, range: 1...10_000),
                producers: try arguments.integer("producers", default: 4, range: 1...256), acks: acks,
                rate: try arguments.integer("rate", default: 0, range: 0...100_000_000),
                lingerMs: try arguments.integer("linger-ms", default: 5, range: 0...10_000),
                topic: arguments.options["topic"] ?? "spool-bench", json: arguments.switches.contains("json"),
                broker: arguments.options["broker"] ?? "127.0.0.1:9092")
        } catch {
            printError("spool bench: \(error)\n\n" + help)
            return ExitCode.usage
        }
        do {
            let result = try await measure(settings)
            report(result, settings)
            return ExitCode.success
        } catch {
            printError("spool bench: \(error)")
            return ExitCode.failure
        }
    }

    struct Result: Sendable {
        var records: Int
        var bytes: Int
        var seconds: Double
        var latenciesNs: [UInt64]
    }

    static func measure(_ settings: Settings) async throws -> Result {
        let admin = try SpoolClient(bootstrap: settings.broker, clientId: "spool-bench")
        defer { admin.close() }
        if (try? await admin.partitions(of: settings.topic)) == nil {
            try await admin.createTopic(settings.topic, partitions: Int32(settings.partitions))
        }
        switch settings.mode {
        case "produce": return try await produce(settings, stamp: false)
        case "consume": return try await consume(settings, measureEndToEnd: false)
        default:
            // The producer starts once the consumer has its position (its first poll is back), as
            // a job topic's workers are running before a web request enqueues: the consumer's
            // start is not part of any record's latency.
            let ready = AsyncStream<Void>.makeStream()
            async let consumed = consume(settings, measureEndToEnd: true) { ready.continuation.finish() }
            for await _ in ready.stream {}
            _ = try await produce(settings, stamp: true)
            return try await consumed
        }
    }

    /// Sends `records` over `producers` producers, each with a window of sends in flight and, under
    /// `--rate`, each paced to its share of the rate: a record is not sent before its due time
    /// (start + index × interval), so a producer that falls behind catches up but never runs ahead.
    static func produce(_ settings: Settings, stamp: Bool) async throws -> Result {
        let progress = Progress(label: "produced", total: settings.records)
        let shared = SendResults()
        let started = monotonicNanoseconds()
        let intervalNs = settings.rate > 0 ? 1e9 * Double(settings.producers) / Double(settings.rate) : 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<settings.producers {
                let count = settings.records / settings.producers + (index < settings.records % settings.producers ? 1 : 0)
                group.addTask {
                    let client = try SpoolClient(bootstrap: settings.broker, clientId: "spool-bench-\(index)")
                    defer { client.close() }
                    var options = Producer.Options()
                    options.acks = settings.acks
                    options.idempotent = settings.acks == -1
                    options.lingerMs = settings.lingerMs
                    options.createTopics = false
                    let producer = Producer(client: client, options: options)
                    try await producer.prepare(topic: settings.topic)
                    let window = AsyncWindow(slots: 5_000)
                    var value = [UInt8](repeating: UInt8(ascii: "v"), count: settings.size)
                    for sentCount in 0..<count {
                        if shared.failure.withLock({ $0 }) != nil { break }
                        if intervalNs > 0 {
                            // Sleeping only when over a millisecond ahead keeps the pace without a
                            // timer per record.
                            let due = started + UInt64(Double(sentCount) * intervalNs)
                            let now = monotonicNanoseconds()
                            if due > now + 1_000_000 { try await Task.sleep(nanoseconds: due - now) }
                        }
                        await window.acquire()
                        let sent = monotonicNanoseconds()
                        if stamp && value.count >= 8 { withUnsafeBytes(of: sent) { value.replaceSubrange(0..<8, with: $0) } }
                        producer.send(topic: settings.topic, key: nil, value: value) { result in
                            let elapsed = monotonicNanoseconds() - sent
                            if case let .failure(error) = result { shared.failure.withLock { $0 = $0 ?? error } }
                            shared.latencies.withLock { $0.append(elapsed) }
                            progress.add(1)
                            window.release()
                        }
                    }
                    await producer.flush()
                    await window.drain()
                    await producer.close()
                }
            }
            try await group.waitForAll()
        }
        progress.finish()
        if let error = shared.failure.withLock({ $0 }) { throw error }
        let seconds = Double(monotonicNanoseconds() - started) / 1e9
        return Result(records: settings.records, bytes: settings.records * settings.size, seconds: seconds, latenciesNs: shared.latencies.withLock { $0 })
    }

    /// Reads `records` from the topic's beginning with one consumer.
    /// `ready` is called once the first poll is back.
    static func consume(_ settings: Settings, measureEndToEnd: Bool, ready: (@Sendable () -> Void)? = nil) async throws -> Result {
        let client = try SpoolClient(bootstrap: settings.broker, clientId: "spool-bench-consumer")
        defer { client.close() }
        var options = Consumer.Options()
        options.offsetReset = measureEndToEnd ? .latest : .earliest
        options.pollWaitMs = 200
        let consumer = try Consumer(client: client, group: nil, topics: [settings.topic], options: options)
        let progress = Progress(label: "consumed", total: settings.records)
        var latencies: [UInt64] = []
        var count = 0
        var bytes = 0
        var started = monotonicNanoseconds()
        var idle = 0
        var first = true
        while count < settings.records && idle < 50 {
            let polled = monotonicNanoseconds()
            let records: [ConsumedRecord]
            do { records = try await consumer.poll() } catch {
                ready?()
                throw error
            }
            if first {
                first = false
                // End to end, the rate counts from the first send, which this call lets go.
                if measureEndToEnd && records.isEmpty { started = monotonicNanoseconds() }
                ready?()
            }
            idle = records.isEmpty ? idle + 1 : 0
            let now = monotonicNanoseconds()
            if measureEndToEnd {
                for record in records {
                    guard let value = record.value, value.count >= 8 else { continue }
                    let sent = value.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    if sent <= now { latencies.append(now - sent) }
                }
            } else if !records.isEmpty {
                latencies.append(now - polled)
            }
            count += records.count
            bytes += records.reduce(0) { $0 + ($1.value?.count ?? 0) }
            progress.add(records.count)
        }
        progress.finish()
        await consumer.close()
        guard count >= settings.records else {
            throw ClientError.timeout("the topic held \(count) records, fewer than --records \(settings.records)")
        }
        return Result(records: count, bytes: bytes, seconds: Double(monotonicNanoseconds() - started) / 1e9, latenciesNs: latencies)
    }

    static func report(_ result: Result, _ settings: Settings) {
        let sorted = result.latenciesNs.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return Double(sorted[min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))]) / 1e6
        }
        let rate = Double(result.records) / result.seconds
        let megabytes = Double(result.bytes) / 1_048_576 / result.seconds
        let (p50, p95, p99, p999) = (percentile(0.5), percentile(0.95), percentile(0.99), percentile(0.999))
        print("spool bench \(settings.mode): \(result.records) records of \(settings.size) bytes, topic \(settings.topic), "
              + "acks=\(settings.acks == -1 ? "all" : String(settings.acks)), \(settings.producers) producer\(settings.producers == 1 ? "" : "s")"
              + (settings.rate > 0 ? ", rate \(settings.rate) records/s" : ""))
        print(String(format: "%.0f records/s, %.1f MB/s; latency ms p50 %.3f, p95 %.3f, p99 %.3f, p99.9 %.3f", rate, megabytes, p50, p95, p99, p999))
        if settings.json {
            print(String(format: "{\"mode\": \"%@\", \"records\": %d, \"records_per_s\": %.0f, \"mb_per_s\": %.2f, \"p50_ms\": %.4f, \"p95_ms\": %.4f, \"p99_ms\": %.4f, \"p999_ms\": %.4f}",
                         settings.mode, result.records, rate, megabytes, p50, p95, p99, p999))
        }
    }
}

/// A bounded number of sends in flight, waited for by suspending the task (never by blocking a
/// thread, which would starve the few threads completions run on).
final class AsyncWindow: Sendable {
    private let state: Mutex<(available: Int, waiters: [CheckedContinuation<Void, Never>])>
    private let slots: Int

    init(slots: Int) {
        self.slots = slots
        state = Mutex((slots, []))
    }

    func acquire() async {
        let taken = state.withLock { state -> Bool in
            guard state.available > 0 else { return false }
            state.available -= 1
            return true
        }
        if taken { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.available += 1
            return nil
        }
        waiter?.resume()
    }

    /// Waits until every slot is back (everything sent has completed).
    func drain() async {
        for _ in 0..<slots { await acquire() }
        for _ in 0..<slots { release() }
    }
}

/// What the producers' completion callbacks record.
final class SendResults: Sendable {
    let latencies = Mutex([UInt64]())
    let failure = Mutex<ClientError?>(nil)
}

/// A progress line on stderr, redrawn at most twice a second, only when stderr is a terminal.
final class Progress: Sendable {
    private let label: String
    private let total: Int
    private let state = Mutex((done: 0, lastDraw: UInt64(0)))
    private let enabled = isatty(2) == 1
    private let started = monotonicNanoseconds()

    init(label: String, total: Int) {
        self.label = label
        self.total = total
    }

    func add(_ count: Int) {
        guard enabled else { return }
        let now = monotonicNanoseconds()
        let draw: Int? = state.withLock { state in
            state.done += count
            guard now - state.lastDraw > 500_000_000 else { return nil }
            state.lastDraw = now
            return state.done
        }
        if let draw {
            let rate = Double(draw) / (Double(now - started) / 1e9)
            let line = "\r  \(label) \(draw)/\(total) (\(Int(rate)) records/s)   "
            _ = line.withCString { write(2, $0, strlen($0)) }
        }
    }

    func finish() {
        guard enabled else { return }
        _ = "\r\u{1B}[K".withCString { write(2, $0, strlen($0)) }
    }
}
