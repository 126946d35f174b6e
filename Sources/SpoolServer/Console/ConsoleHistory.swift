import Dispatch
import Foundation
import SpoolBroker
import SpoolLog
import SpoolSystem
import Synchronization

/// The last 15 minutes of the broker, one sample a second, in memory: what the console's live
/// charts draw. Sampled on a timer of its own (never on an event loop), from the broker's
/// counters, the produce latency histogram and each group's lag.
public final class ConsoleHistory: Sendable {
    /// One second of the broker.
    public struct Sample: Sendable, Encodable, Equatable {
        /// Milliseconds since the Unix epoch.
        public var time: Int64
        public var recordsInPerSecond: Double
        public var recordsOutPerSecond: Double
        /// Produce requests' arrival-to-acknowledgement latency in that second; nil without produces.
        public var ackP50Ms: Double?
        public var ackP99Ms: Double?
        public var fsyncsPerSecond: Double
        /// Mean fsync latency in that second; nil without fsyncs.
        public var fsyncMeanMs: Double?
    }

    /// One group's total lag at one time.
    public struct LagPoint: Sendable, Encodable, Equatable {
        public var time: Int64
        public var lag: Int64
    }

    /// Samples kept: 15 minutes of seconds.
    public static let samplesMax = 900
    /// Groups whose lag is kept over time; more are still shown, without a history.
    public static let groupsMax = 200

    private struct State {
        var samples: [Sample] = []
        var lags: [String: [LagPoint]] = [:]
        var last: (time: ContinuousClock.Instant, recordsIn: UInt64, recordsOut: UInt64, flushes: FlushStatistics)?
    }

    private let broker: Broker
    private let latency: LatencyHistogram?
    private let state = Mutex(State())
    private let timer: RepeatingTimer

    /// Samples `broker` every `intervalMs` once `start()` is called; `latency` is the produce
    /// latency histogram it drains (nil: no enqueue-to-ack figures).
    init(broker: Broker, latency: LatencyHistogram?, intervalMs: Int = 1000) {
        self.broker = broker
        self.latency = latency
        timer = RepeatingTimer(queue: DispatchQueue(label: "spool-console-history"), intervalMs: intervalMs)
    }

    func start() {
        sample()
        timer.start { [weak self] in self?.sample() }
    }

    public func stop() { timer.stop() }

    /// The samples, oldest first.
    public var samples: [Sample] { state.withLock { $0.samples } }

    /// A group's total lag over time, oldest first.
    public func lag(of group: String) -> [LagPoint] { state.withLock { $0.lags[group] ?? [] } }

    /// Takes one sample now.
    func sample() {
        let now = ContinuousClock.now
        let time = Int64(Date().timeIntervalSince1970 * 1000)
        let recordsIn = broker.metrics.recordsIn.load(ordering: .relaxed)
        let recordsOut = broker.metrics.recordsOut.load(ordering: .relaxed)
        let flushes = broker.partitionMetrics().reduce(broker.offsetsFlushStatistics) { $0 + $1.flushes }
        let latencies = latency?.drain() ?? []
        var groupLags: [(String, Int64)] = []
        for group in broker.listGroups().prefix(Self.groupsMax) {
            groupLags.append((group.groupId, broker.lag(group: group.groupId).compactMap(\.lag).reduce(0, +)))
        }
        state.withLock { state in
            defer { state.last = (now, recordsIn, recordsOut, flushes) }
            for (group, lag) in groupLags {
                var points = state.lags[group] ?? []
                points.append(LagPoint(time: time, lag: lag))
                if points.count > Self.samplesMax { points.removeFirst(points.count - Self.samplesMax) }
                state.lags[group] = points
            }
            let known = Set(groupLags.map(\.0))
            state.lags = state.lags.filter { known.contains($0.key) }
            guard let last = state.last else { return }
            let elapsed = Double((now - last.time).components.attoseconds) / 1e18 + Double((now - last.time).components.seconds)
            guard elapsed > 0 else { return }
            let fsyncs = flushes.count &- last.flushes.count
            let fsyncSeconds = flushes.totalSeconds - last.flushes.totalSeconds
            state.samples.append(Sample(
                time: time,
                recordsInPerSecond: Double(recordsIn &- last.recordsIn) / elapsed,
                recordsOutPerSecond: Double(recordsOut &- last.recordsOut) / elapsed,
                ackP50Ms: LatencyHistogram.quantile(0.5, of: latencies).map { $0 * 1000 },
                ackP99Ms: LatencyHistogram.quantile(0.99, of: latencies).map { $0 * 1000 },
                fsyncsPerSecond: Double(fsyncs) / elapsed,
                fsyncMeanMs: fsyncs > 0 ? fsyncSeconds / Double(fsyncs) * 1000 : nil))
            if state.samples.count > Self.samplesMax { state.samples.removeFirst(state.samples.count - Self.samplesMax) }
        }
    }
}
