import Synchronization

/// Latencies counted into log-scale buckets (10 µs × 1.2ⁱ, up to about 18 s), drained by the
/// console's sampler once a second to give that second's p50 and p99 within 20 %.
final class LatencyHistogram: Sendable {
    static let bucketCount = 80
    /// Upper bound of each bucket, in seconds.
    static let bounds: [Double] = (0..<bucketCount).map { 0.000_01 * pow12($0) }
    private let counts = Mutex([UInt64](repeating: 0, count: bucketCount))

    private static func pow12(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<exponent { value *= 1.2 }
        return value
    }

    func record(_ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let bucket = Self.bounds.firstIndex { seconds <= $0 } ?? Self.bucketCount - 1
        counts.withLock { $0[bucket] += 1 }
    }

    /// The counts since the last drain, and zero again.
    func drain() -> [UInt64] {
        counts.withLock { counts in
            defer { counts = [UInt64](repeating: 0, count: Self.bucketCount) }
            return counts
        }
    }

    /// The upper bound (seconds) of the bucket holding quantile `q` of `counts`; nil when empty.
    static func quantile(_ q: Double, of counts: [UInt64]) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, UInt64((q * Double(total)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() {
            seen += count
            if seen >= rank { return bounds[index] }
        }
        return bounds[bucketCount - 1]
    }
}
