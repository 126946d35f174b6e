import Foundation
import SpoolBroker
import SpoolEmbedded
import SpoolFormat
import SpoolJobs
import SpoolSystem

/// `spool-bench delay`: how late records held with `spool-deliver-at` become visible, and how late
/// a cron schedule's tick becomes a visible job, beside how long a plain record takes from produce
/// to visible, in the same run.
struct DelayBenchmark {
    static let help = """
        usage: spool-bench delay [--records N] [--ticks N] [--dir DIR] [--json]

        Produces N records (default 300), one every 10 ms, each held with spool-deliver-at 200 to
        1,200 ms ahead, to a broker with fsync=always, while a long-polling fetch records when each
        becomes visible. Lateness is visible time minus due time. The baseline is N plain records:
        produce to visible.

        Then cron ticks: a Scheduler (what workers given schedules: run) fires a "* * * * *"
        schedule; its clock is the system clock shifted so that a minute starts 0.5 to 1 s after
        the scheduler starts, so each tick is a real wait on the real timer. Lateness is when the
        tick's job became visible minus the tick's time. One scheduler per tick, after one that is
        not counted.

        options:
          --records N        held records (default 300)
          --ticks N          cron ticks (default 20)
          --dir DIR          where to put the data (default ./.bench-tmp); removed afterwards
          --json             print one JSON object with the figures as the last line
        """

    struct Options {
        var records = 300
        var ticks = 20
        var directory = ".bench-tmp"
        var json = false
        var help = false

        init(_ words: ArraySlice<String>) throws {
            var words = BenchWords(words)
            while let flag = try words.next() {
                switch flag {
                case "--records": records = try words.number(flag, 10...100_000)
                case "--ticks": ticks = try words.number(flag, 1...1_000)
                default: throw UsageError("unknown option \(flag)")
                }
            }
            (directory, json, help) = (words.directory, words.json, words.help)
        }
    }

    let options: Options

    func run() async throws {
        let scratch = try ScratchDirectory(parent: options.directory, prefix: "spool-bench-delay")
        defer { scratch.remove() }
        let broker = try Broker.open(BrokerConfig(dataDirectory: scratch.path))
        defer { try? broker.close() }
        try broker.createTopic("held", partitions: 1)
        try broker.createTopic("plain", partitions: 1)
        let held = try await lateness(broker, topic: "held", delayed: true)
        let plain = try await lateness(broker, topic: "plain", delayed: false)
        let ticks = try await tickLateness(broker)
        print("spool-bench delay: \(options.records) records, one every 10 ms, \(options.ticks) cron ticks, fsync=always")
        print("")
        print("records                      p50 ms   p99 ms   max ms")
        for (label, values) in [("held: due to visible", held), ("cron: tick to visible", ticks), ("plain: produce to visible", plain)] {
            print(label.padding(toLength: 28, withPad: " ", startingAt: 0) + " "
                  + format(percentile(values, 0.5), 1).padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                  + format(percentile(values, 0.99), 1).padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                  + format(values.max() ?? 0, 1))
        }
        print("held records seen before their time: \(held.filter { $0 < 0 }.count); cron jobs before their tick: \(ticks.filter { $0 < 0 }.count)")
        if options.json {
            print("{\"held_p50_ms\": \(format(percentile(held, 0.5), 2)), \"held_p99_ms\": \(format(percentile(held, 0.99), 2)), "
                  + "\"held_max_ms\": \(format(held.max() ?? 0, 2)), \"early\": \(held.filter { $0 < 0 }.count), "
                  + "\"cron_p50_ms\": \(format(percentile(ticks, 0.5), 2)), \"cron_p99_ms\": \(format(percentile(ticks, 0.99), 2)), "
                  + "\"plain_p50_ms\": \(format(percentile(plain, 0.5), 2)), \"plain_p99_ms\": \(format(percentile(plain, 0.99), 2))}")
        }
    }

    /// Milliseconds from each record's due time (or its produce, for plain ones) to when a
    /// long-polling fetch saw it.
    private func lateness(_ broker: Broker, topic: String, delayed: Bool) async throws -> [Double] {
        let count = options.records
        let reader = Task { () -> [Double] in
            var seen: [Double] = []
            var next: Int64 = 0
            while seen.count < count {
                let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition(topic, 0), fetchOffset: next)], maxWaitMs: 1_000, minBytes: 1, maxBytes: 1 << 20)
                let now = Double(Date().timeIntervalSince1970 * 1000)
                guard let slice = fetched.first?.records, !slice.isEmpty else { continue }
                try slice.forEachBatch { bytes in
                    let batch = try RecordBatch(decoding: bytes)
                    for record in batch.records where batch.offset(of: record) >= next {
                        let reference = Double(String(decoding: record.value ?? [], as: UTF8.self)) ?? now
                        seen.append(now - reference)
                    }
                    next = batch.baseOffset + Int64(batch.lastOffsetDelta) + 1
                }
            }
            return seen
        }
        for _ in 0..<count {
            let nowMs = Date().timeIntervalSince1970 * 1000
            let due = Int64(nowMs) + Int64.random(in: 200...1_200)
            let reference = delayed ? String(due) : String(format: "%.3f", nowMs)
            let headers = delayed ? [RecordHeader(SpoolHeaders.deliverAt, String(due))] : []
            let batch = RecordBatch(producing: [ProducerRecord(value: Array(reference.utf8), headers: headers, timestamp: Int64(nowMs))]).encoded()
            _ = try await broker.produce(topic: topic, partition: 0, records: batch, acks: .all)
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await reader.value
    }

    /// Milliseconds from each cron tick to when a long-polling fetch saw its job.
    private func tickLateness(_ broker: Broker) async throws -> [Double] {
        struct Tick: Job {
            static let topic = "bench-cron"
            var n: Int
        }
        let queue = JobQueue.embedded(EmbeddedBroker(broker: broker), partitions: 1)
        try await queue.prepare(topic: Tick.topic)
        var next: Int64 = 0
        var late: [Double] = []
        for round in 0...options.ticks {
            // A minute boundary of the shifted clock, 0.5 to 1 s of real time from now.
            let tick = Date(timeIntervalSince1970: 1_800_000_000 + Double(round) * 3_600)
            let tickReal = Date().addingTimeInterval(Double.random(in: 0.5...1.0))
            let shift = tick.timeIntervalSince(tickReal)
            // One stored schedule, replaced each round (a scheduler fires every schedule stored
            // for its topic); each round's tick is another minute, so another job id.
            let schedule = try Schedule(name: "bench-tick", cron: "* * * * *", missed: .skip, job: Tick(n: round))
            let scheduler = Scheduler(queue: queue, topic: Tick.topic, schedules: [schedule],
                                      clock: ScheduleClock(now: { Date().addingTimeInterval(shift) }, pollInterval: .seconds(1)))
            let running = Task { try await scheduler.run() }
            var seen: Date?
            while seen == nil {
                let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition(Tick.topic, 0), fetchOffset: next)], maxWaitMs: 2_000,
                                                 minBytes: 1, maxBytes: 1 << 20)
                guard let slice = fetched.first?.records, !slice.isEmpty else { continue }
                seen = Date()
                try slice.forEachBatch { bytes in
                    let batch = try RecordBatch(decoding: bytes)
                    next = batch.baseOffset + Int64(batch.lastOffsetDelta) + 1
                }
            }
            scheduler.stop()
            running.cancel()
            _ = try? await running.value
            // The first round also creates the schedules topic: not counted.
            if round > 0, let seen { late.append(seen.timeIntervalSince(tickReal) * 1000) }
        }
        await queue.transport.close()
        return late
    }

    private func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
    }
}
