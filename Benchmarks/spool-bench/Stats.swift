import Synchronization

/// Latency samples in nanoseconds and the percentiles a benchmark reports.
struct LatencySummary {
    var p50Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var samples: Int

    /// Nearest-rank percentiles: p50 is the sample that half of all samples are at or below.
    init(nanoseconds samples: [UInt64]) {
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)
            return Double(sorted[max(index, 0)]) / 1e6
        }
        p50Ms = percentile(0.50)
        p99Ms = percentile(0.99)
        p999Ms = percentile(0.999)
        self.samples = sorted.count
    }
}

/// Per-batch latencies, each written once by whoever acknowledges the batch (the log's flusher
/// under fsync=always, the producer otherwise) and read after every batch is acknowledged.
///
/// Space for every sample is made up front, so recording never allocates on the flusher's queue.
final class LatencyRecorder: Sendable {
    /// Most samples the recorder holds; set by the run's byte budget.
    let capacity: Int
    private let values: Mutex<[UInt64]>

    init(capacity: Int) {
        self.capacity = capacity
        values = Mutex([UInt64](repeating: 0, count: capacity))
    }

    /// Records the latency of batch number `index` (0-based, below `capacity`).
    func record(_ index: Int, _ nanoseconds: UInt64) {
        precondition(index >= 0 && index < capacity, "latency sample \(index) outside 0..<\(capacity)")
        values.withLock { $0[index] = nanoseconds }
    }

    /// The first `count` samples, which must all have been recorded.
    func samples(_ count: Int) -> [UInt64] {
        precondition(count <= capacity, "asked for \(count) of \(capacity) samples")
        return values.withLock { Array($0.prefix(count)) }
    }
}
