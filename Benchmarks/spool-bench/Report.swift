import Foundation
import SpoolLog

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

/// The figures of one `spool-bench log` run and their two renderings: a table for people and a
/// one-line JSON object for scripts.
struct LogReport {
    var directory: String
    var valueBytes: Int
    var appends: [AppendMeasurement] = []
    var read: ReadMeasurement?
    var rawBeforeMBps: Double?
    var rawAfterMBps: Double?
    var memorySumMBps = 0.0
    var memcpyMBps = 0.0

    /// The disk's fdatasync speed drifts from one second to the next on a VM, so the headline run
    /// is compared with the mean of a raw run just before it and one just after.
    var rawMBps: Double {
        let runs = [rawBeforeMBps, rawAfterMBps].compactMap { $0 }
        return runs.isEmpty ? 0 : runs.reduce(0, +) / Double(runs.count)
    }

    /// The durable 256-record run.
    var headline: AppendMeasurement? { appends.first { $0.policy == .always && $0.batchRecords == 256 } }
    var durableVsRaw: Double { ratio(headline?.mbPerSecond, rawMBps) }
    /// The read's target figure: against the same per-byte work over memory.
    var readVsMemorySum: Double { ratio(read?.mbPerSecond, memorySumMBps) }
    var readVsMemcpy: Double { ratio(read?.mbPerSecond, memcpyMBps) }

    private func ratio(_ value: Double?, _ baseline: Double) -> Double {
        guard let value, baseline > 0 else { return 0 }
        return value / baseline
    }

    // MARK: - Table

    private static let widths = [20, 6, 7, 7, 9, 10, 8, 8, 22, 7]

    func table() -> String {
        let sizes = appends.filter { $0.policy == Self.firstPolicy }.map { "\($0.batchRecords) → \($0.batchBytes) B" }
        let readBytes = read?.bytes ?? 0
        var lines = [
            "spool-bench log: records with \(valueBytes)-byte values, null keys; batches of \(sizes.joined(separator: ", ")); MB = 2^20 bytes",
            "directory: \(directory)",
            "append: one producer, at most W = max(4, 1 MiB / batch bytes) batches in flight; latency per batch from the append call",
            "  always: to its whenDurable callback; the run ends when every batch is durable",
            "  interval=5, never: the append call is the acknowledgement; the run's time includes a final flushNow()",
            "read: the always/256 log from offset 0, read(from:maxBytes: 1 MiB), every byte loaded; from the page cache; best of \(read?.passes ?? 0)",
            "",
            Self.row(["workload", "batch", "window", "MiB", "MB/s", "records/s", "p50 ms", "p99 ms", "baseline MB/s", "ratio"]),
        ]
        for run in appends {
            lines.append(Self.row([
                "append \(run.policy)", "\(run.batchRecords)", "\(run.window)", Self.mebibytes(run.bytes), format(run.mbPerSecond),
                format(run.recordsPerSecond, 0), format(run.latency.p50Ms, 3), format(run.latency.p99Ms, 3),
                "raw fdatasync \(format(rawMBps))", percent(ratio(run.mbPerSecond, rawMBps)),
            ]))
        }
        if let read {
            lines.append(Self.row([
                "read", "256", "-", Self.mebibytes(read.bytes), format(read.mbPerSecond), format(read.recordsPerSecond, 0), "-", "-",
                "memory sum \(format(memorySumMBps))", percent(readVsMemorySum),
            ]))
        }
        let rawBytes = headline?.bytes ?? 0
        lines.append(Self.row(["raw fdatasync before", "-", "-", Self.mebibytes(rawBytes), rawBeforeMBps.map { format($0) } ?? "-"]))
        lines.append(Self.row(["raw fdatasync after", "-", "-", Self.mebibytes(rawBytes), rawAfterMBps.map { format($0) } ?? "-"]))
        lines.append(Self.row(["memory sum", "-", "-", Self.mebibytes(readBytes), format(memorySumMBps)]))
        lines.append(Self.row(["memcpy", "-", "-", Self.mebibytes(readBytes), format(memcpyMBps)]))
        lines.append("")
        lines.append("durable append (always, 256/batch) vs raw fdatasync: \(percent(durableVsRaw))  (target ≥ 70 %)")
        lines.append("read vs memcpy: \(percent(readVsMemorySum)) (target ≥ 30 %)  [baseline: the same loads over memory; "
                     + "vs plain memcpy \(format(memcpyMBps)) MB/s: \(percent(readVsMemcpy))]")
        return lines.joined(separator: "\n")
    }

    private static let firstPolicy: FsyncPolicy = .always

    private static func row(_ cells: [String]) -> String {
        zip(cells, widths).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }
            .joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    private static func mebibytes(_ bytes: Int) -> String { format(Double(bytes) / 1_048_576) }

    private func percent(_ ratio: Double) -> String { format(ratio * 100) + " %" }

    // MARK: - JSON

    /// One line of JSON. `read_vs_memcpy` is the target figure, against the memory sum baseline
    /// (the same per-byte work); `read_vs_plain_memcpy` is against memcpy.
    func json() -> String {
        var fields: [(String, String)] = [
            ("append_always_mb_s", Self.number(headline?.mbPerSecond)),
            ("raw_fdatasync_mb_s", Self.number(rawMBps)),
            ("raw_fdatasync_before_mb_s", Self.number(rawBeforeMBps)),
            ("raw_fdatasync_after_mb_s", Self.number(rawAfterMBps)),
            ("durable_vs_raw", Self.number(durableVsRaw, 4)),
            ("read_mb_s", Self.number(read?.mbPerSecond)),
            ("memory_sum_mb_s", Self.number(memorySumMBps)),
            ("memcpy_mb_s", Self.number(memcpyMBps)),
            ("read_vs_memcpy", Self.number(readVsMemorySum, 4)),
            ("read_vs_plain_memcpy", Self.number(readVsMemcpy, 4)),
        ]
        let runs = appends.map { run in
            Self.object([
                ("policy", "\"\(run.policy)\""), ("batch_records", "\(run.batchRecords)"), ("batch_bytes", "\(run.batchBytes)"),
                ("window", "\(run.window)"), ("batches", "\(run.batches)"), ("bytes", "\(run.bytes)"),
                ("seconds", Self.number(run.seconds, 4)), ("mb_s", Self.number(run.mbPerSecond)),
                ("records_s", Self.number(run.recordsPerSecond, 0)), ("p50_ms", Self.number(run.latency.p50Ms, 4)),
                ("p99_ms", Self.number(run.latency.p99Ms, 4)),
            ])
        }
        fields.append(("runs", "[" + runs.joined(separator: ", ") + "]"))
        return Self.object(fields)
    }

    private static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// A JSON number, or null for a figure that was not measured (or is not finite).
    private static func number(_ value: Double?, _ digits: Int = 2) -> String {
        guard let value, value.isFinite else { return "null" }
        return format(value, digits)
    }
}
