/// Latency samples in nanoseconds and the percentiles a benchmark reports.
struct LatencySummary {
    var p50Ms: Double
    var p99Ms: Double

    init(nanoseconds samples: [UInt64]) {
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)
            return Double(sorted[max(index, 0)]) / 1e6
        }
        p50Ms = percentile(0.50)
        p99Ms = percentile(0.99)
    }
}

/// One row of a benchmark table.
struct Measurement {
    var name: String
    var batchRecords: Int
    var bytes: Int
    var records: Int
    var seconds: Double
    var latency: LatencySummary?
    var baselineName: String
    var baselineMBps: Double

    var mbPerSecond: Double { Double(bytes) / 1_048_576 / seconds }
    var recordsPerSecond: Double { Double(records) / seconds }
    var ratio: Double { baselineMBps > 0 ? mbPerSecond / baselineMBps : 0 }
}
