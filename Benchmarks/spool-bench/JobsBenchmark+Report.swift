import Foundation

/// The table and the JSON line of `spool-bench jobs`.
extension JobsBenchmark {
    /// A run's figures over its rounds: the median, and the lowest and highest when more than one.
    struct Summary {
        var values: [Double]

        var median: Double {
            let sorted = values.sorted()
            let middle = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        }

        func text(_ digits: Int, unit: String = "") -> String {
            guard values.count > 1, let low = values.min(), let high = values.max() else { return format(median, digits) + unit }
            return format(median, digits) + unit + " (\(format(low, digits))-\(format(high, digits)))"
        }
    }

    /// One line of the table, as text.
    struct Row {
        var transport: String
        var mode: String
        var jobsPerSecond: String
        /// Jobs/s as a share of the plain consumer's; empty for the consumer itself.
        var share: String
        /// Jobs/s as a share of the consumer decoding payloads; empty for the two consumers.
        var decodingShare: String
        var cpu: String
    }

    func summary(_ values: [Double]) -> Summary? { values.isEmpty ? nil : Summary(values: values) }

    /// A row per transport and run, in the order they ran. A run's share of the plain consumer is
    /// taken in each round against that round's consumer run, and then summarised.
    func rows(_ results: [Result]) -> [Row] {
        var rows: [Row] = []
        for transport in options.transports {
            for mode in options.modes {
                let runs = results.filter { $0.transport == transport && $0.mode == mode }
                guard let rate = summary(runs.map(\.jobsPerSecond)), let cpu = summary(runs.map(\.cpuMicrosecondsPerJob)) else { continue }
                let shares = runs.compactMap { share(of: $0, in: results) }
                let decodingShares = runs.compactMap { share(of: $0, against: "consumer-decode", in: results) }
                rows.append(Row(transport: transport, mode: mode, jobsPerSecond: rate.text(0),
                                share: summary(shares)?.text(1, unit: " %") ?? "", decodingShare: summary(decodingShares)?.text(1, unit: " %") ?? "",
                                cpu: cpu.text(2)))
            }
        }
        return rows
    }

    /// A run's jobs/s as a percentage of the `baseline` consumer's (the plain one, or the one
    /// decoding payloads) of its transport and round; nil for the consumers themselves against
    /// the decoding one, for the baseline itself, or without a baseline run.
    func share(of run: Result, against baseline: String = "consumer", in results: [Result]) -> Double? {
        // Against the decoding consumer, only workers get a share; against the plain one, the decoding consumer too.
        let isConsumer = baseline == "consumer" ? run.mode == "consumer" : run.mode.hasPrefix("consumer")
        guard !isConsumer, let base = results.first(where: { $0.transport == run.transport && $0.mode == baseline && $0.round == run.round }),
              base.jobsPerSecond > 0 else { return nil }
        return run.jobsPerSecond / base.jobsPerSecond * 100
    }

    func report(_ results: [Result]) -> String {
        let rows = rows(results)
        // Wide enough for the ranges of several rounds.
        let rateWidth = max(11, (rows.map(\.jobsPerSecond.count).max() ?? 0) + 1)
        let shareWidth = max(19, (rows.map(\.share.count).max() ?? 0) + 1)
        let decodingWidth = max(23, (rows.map(\.decodingShare.count).max() ?? 0) + 1)
        func line(_ columns: [(String, Int)], _ last: String) -> String {
            columns.map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) + " " }.joined() + last
        }
        var lines = [
            "spool-bench jobs: \(options.jobs) jobs, \(options.keys) keys, enqueued \(options.enqueueBatch) a call, \(Self.partitions) partitions, \(Self.workers) workers × 32 in flight, "
                + "no-op handlers, fsync=always" + (options.rounds > 1 ? "; \(options.rounds) rounds: medians (lowest-highest)" : ""),
            "",
            line([("transport", 10), ("ordering", 40), ("jobs/s", rateWidth), ("vs plain consumer", shareWidth), ("vs decoding consumer", decodingWidth)],
                 "CPU µs per job"),
        ]
        for row in rows {
            lines.append(line([(row.transport, 10), (label(row.mode), 40), (row.jobsPerSecond, rateWidth), (row.share, shareWidth),
                               (row.decodingShare, decodingWidth)], row.cpu))
        }
        lines.append("")
        if rows.contains(where: { !$0.decodingShare.isEmpty }) {
            // A worker decodes every payload before its handler runs, as the decoding consumer does.
            lines.append("the decoding consumer's share of the plain one is the most a worker can reach: it decodes each payload, as a worker must, and runs nothing else")
        }
        let perKey = Double(options.jobs) / Double(min(options.keys, options.jobs))
        if let rateRun = summary(results.filter { $0.mode == "none-rate" }.map(\.jobsPerSecond)), perKey > 1 {
            // Each key starts one burst at once, then one job per 1/rate: the run lasts at least
            // (jobs per key - 1) / rate seconds.
            let ceiling = Double(options.jobs) / ((perKey - 1) / Double(options.keyRate))
            lines.append("binding rate: \(options.keyRate) jobs/s per key × \(options.keys) keys, \(format(perKey, 0)) jobs per key: "
                         + "ceiling \(format(ceiling, 0)) jobs/s, measured \(rateRun.text(0))")
        }
        if let longRun = summary(results.filter { $0.mode == "key-long" }.map(\.jobsPerSecond)) {
            // The long jobs' sleep over every slot of every worker, with the rest taking no time.
            let sleeping = Double(options.jobs) / 20 * Double(options.longMs) / 1000 / Double(Self.workers * 32)
            lines.append("5 % long jobs: \(options.jobs / 20) jobs of \(options.longMs) ms over \(Self.workers * 32) slots: ceiling "
                         + "\(format(Double(options.jobs) / sleeping, 0)) jobs/s, measured \(longRun.text(0))")
        }
        lines.append("published figures for reference (other hardware): River 46,000 jobs/s (8 cores), Sidekiq 23,500 jobs/s")
        return lines.joined(separator: "\n")
    }

    func label(_ mode: String) -> String {
        switch mode {
        case "consumer": "(plain group consumer)"
        case "consumer-decode": "(plain consumer, decoding payloads)"
        case "none-limited": ".none, limits not reached (1, 1000/s)"
        case "none-rate": ".none, binding rate (\(options.keyRate)/s per key)"
        case "key-long": ".key, 5 % long jobs (\(options.longMs) ms)"
        case "none-own", "key-own", "partition-own": "." + mode.dropLast(4) + ", own thread"
        default: "." + mode
        }
    }

    func json(_ results: [Result], _ latencies: [(transport: String, mode: String, summary: LatencySummary)]) -> String {
        "{\"runs\": [" + results.map { run in
            "{\"transport\": \"\(run.transport)\", \"ordering\": \"\(run.mode)\", \"round\": \(run.round), \"jobs_per_s\": \(format(run.jobsPerSecond, 0)), "
                + "\"cpu_us_per_job\": \(format(run.cpuMicrosecondsPerJob, 3))"
                + (share(of: run, in: results).map { ", \"vs_consumer_pct\": \(format($0, 2))" } ?? "")
                + (share(of: run, against: "consumer-decode", in: results).map { ", \"vs_consumer_decode_pct\": \(format($0, 2))" } ?? "") + "}"
        }.joined(separator: ", ") + "], \"latency\": [" + latencies.map {
            "{\"transport\": \"\($0.transport)\", \"reader\": \"\($0.mode)\", \"rate\": \(options.rate), \"p50_ms\": \(format($0.summary.p50Ms, 3)), "
                + "\"p99_ms\": \(format($0.summary.p99Ms, 3)), \"p999_ms\": \(format($0.summary.p999Ms, 3))}"
        }.joined(separator: ", ") + "]}"
    }
}
