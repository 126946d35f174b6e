import Foundation

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

func table(rows: [Measurement], read: Measurement?, raw: Double, copy: Double) -> String {
    var lines = [
        "spool-bench log: 100-byte records, 4 producers with ~1 MiB in flight each; baselines from this run: raw fdatasync (pwrite + fdatasync per MiB, mean of a run just before and just after the always/256 run) \(format(raw)) MB/s, memcpy \(format(copy)) MB/s",
        "",
        pad(["workload", "batch", "MB/s", "records/s", "p50 ms", "p99 ms", "baseline", "ratio"]),
    ]
    for row in rows + (read.map { [$0] } ?? []) {
        lines.append(pad([
            row.name, String(row.batchRecords), format(row.mbPerSecond), format(row.recordsPerSecond, 0),
            row.latency.map { format($0.p50Ms, 3) } ?? "-", row.latency.map { format($0.p99Ms, 3) } ?? "-",
            "\(row.baselineName) \(format(row.baselineMBps))", format(row.ratio * 100) + " %",
        ]))
    }
    if let durable = rows.first(where: { $0.name == "append fsync=always" && $0.batchRecords == 256 }) {
        lines.append("")
        lines.append("durable append (always, 256/batch) vs raw fdatasync: \(format(durable.ratio * 100)) %  (target ≥ 70 %)")
    }
    if let read {
        lines.append("read vs memcpy: \(format(read.ratio * 100)) %  (target ≥ 30 %)")
    }
    return lines.joined(separator: "\n")
}

private func pad(_ cells: [String]) -> String {
    let widths = [24, 6, 9, 11, 8, 8, 22, 8]
    return zip(cells, widths).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }.joined(separator: " ")
}

func json(rows: [Measurement], read: Measurement?, raw: Double, copy: Double) -> String {
    let durable = rows.first { $0.name == "append fsync=always" && $0.batchRecords == 256 }
    var fields = [
        "\"append_always_mb_s\": \(format(durable?.mbPerSecond ?? 0, 2))",
        "\"raw_fdatasync_mb_s\": \(format(raw, 2))",
        "\"durable_vs_raw\": \(format(durable?.ratio ?? 0, 4))",
        "\"read_mb_s\": \(format(read?.mbPerSecond ?? 0, 2))",
        "\"memcpy_mb_s\": \(format(copy, 2))",
        "\"read_vs_memcpy\": \(format(read?.ratio ?? 0, 4))",
    ]
    let runs = rows.map { row in
        "{\"workload\": \"\(row.name)\", \"batch_records\": \(row.batchRecords), \"mb_s\": \(format(row.mbPerSecond, 2)), "
            + "\"records_s\": \(format(row.recordsPerSecond, 0)), \"p50_ms\": \(format(row.latency?.p50Ms ?? 0, 4)), "
            + "\"p99_ms\": \(format(row.latency?.p99Ms ?? 0, 4))}"
    }
    fields.append("\"runs\": [\(runs.joined(separator: ", "))]")
    return "{" + fields.joined(separator: ", ") + "}"
}
