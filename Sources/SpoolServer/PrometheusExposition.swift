/// Prometheus text exposition being written: each metric's HELP and TYPE lines, then its samples.
struct Exposition {
    /// One labelled series of a histogram, its buckets counted cumulatively (each bucket holds
    /// every observation at or below its bound).
    struct Histogram {
        /// Label pairs, already escaped (`topic="a",group="b"`); empty for none.
        var labels: String
        var bounds: [Double]
        var cumulativeCounts: [UInt64]
        var count: UInt64
        var sum: Double

        /// From counts per bucket (not cumulative), the last one the `+Inf` bucket's own.
        init(labels: String, bounds: [Double], counts: [Int], sum: Double) {
            precondition(counts.count == bounds.count + 1, "one count per bound and one for +Inf")
            var running: UInt64 = 0
            var cumulative: [UInt64] = []
            for count in counts.dropLast() {
                running += UInt64(max(0, count))
                cumulative.append(running)
            }
            self.init(labels: labels, bounds: bounds, cumulativeCounts: cumulative, count: running + UInt64(max(0, counts[counts.count - 1])), sum: sum)
        }

        init(labels: String, bounds: [Double], cumulativeCounts: [UInt64], count: UInt64, sum: Double) {
            precondition(cumulativeCounts.count == bounds.count, "one cumulative count per bound")
            self.labels = labels
            self.bounds = bounds
            self.cumulativeCounts = cumulativeCounts
            self.count = count
            self.sum = sum
        }
    }

    private(set) var text = ""

    /// A counter or gauge: its HELP and TYPE lines, then one line per sample.
    mutating func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for sample in samples { text += "\(name)\(sample.labels.isEmpty ? "" : "{\(sample.labels)}") \(sample.value)\n" }
    }

    /// A histogram: per series, its buckets with `le`, the `+Inf` bucket (equal to the count),
    /// the sum and the count.
    mutating func histogram(_ name: String, _ help: String, _ series: [Histogram]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for histogram in series {
            let prefix = histogram.labels.isEmpty ? "" : histogram.labels + ","
            let braces = histogram.labels.isEmpty ? "" : "{\(histogram.labels)}"
            for (bound, count) in zip(histogram.bounds, histogram.cumulativeCounts) { text += "\(name)_bucket{\(prefix)le=\"\(bound)\"} \(count)\n" }
            text += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(histogram.count)\n\(name)_sum\(braces) \(histogram.sum)\n\(name)_count\(braces) \(histogram.count)\n"
        }
    }
}
