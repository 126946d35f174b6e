import Synchronization

/// How a log's fdatasyncs went: how many, how long in total, and a latency histogram with
/// Prometheus-style cumulative buckets.
public struct FlushStatistics: Sendable, Equatable {
    /// Upper bounds of the latency buckets, in seconds.
    public static let bucketBounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

    public var count: UInt64 = 0
    public var totalSeconds: Double = 0
    /// Flushes that took at most each bound (same order as `bucketBounds`).
    public var buckets: [UInt64] = Array(repeating: 0, count: FlushStatistics.bucketBounds.count)

    public init() {}

    mutating func record(nanoseconds: UInt64) {
        let seconds = Double(nanoseconds) / 1e9
        count += 1
        totalSeconds += seconds
        for (index, bound) in Self.bucketBounds.enumerated() where seconds <= bound { buckets[index] += 1 }
    }

    /// The sum of several logs' statistics.
    public static func + (lhs: FlushStatistics, rhs: FlushStatistics) -> FlushStatistics {
        var sum = lhs
        sum.count += rhs.count
        sum.totalSeconds += rhs.totalSeconds
        sum.buckets = zip(lhs.buckets, rhs.buckets).map(+)
        return sum
    }

    /// What one log flushed between an earlier reading (`rhs`) and a later one (`lhs`).
    public static func - (lhs: FlushStatistics, rhs: FlushStatistics) -> FlushStatistics {
        var difference = lhs
        difference.count = lhs.count &- rhs.count
        difference.totalSeconds -= rhs.totalSeconds
        difference.buckets = zip(lhs.buckets, rhs.buckets).map(&-)
        return difference
    }
}
