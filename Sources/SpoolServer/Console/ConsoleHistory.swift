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
        /// The last minute of each topic's end offsets and each group's committed offsets on it,
        /// summed over the partitions: what the job pages' rates are measured from.
        var progress: [Progress: [(time: ContinuousClock.Instant, offsets: Int64)]] = [:]
    }

    /// What a rate is measured on: a topic's end (records stored) or a group's commits on it.
    private enum Progress: Hashable {
        case stored(topic: String)
        case committed(group: String, topic: String)
    }

    /// Seconds of progress kept for rates.
    static let rateWindowSeconds = 60
    /// Topics and group-topic pairs whose rates are kept.
    static let progressKeysMax = 2_000

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

    /// Records stored in `topic` per second over the last minute (nil before two samples).
    public func storedPerSecond(topic: String) -> Double? { rate(.stored(topic: topic)) }

    /// Offsets `group` committed on `topic` per second over the last minute: for a job topic, the
    /// jobs its workers finished (nil before two samples with commits).
    public func committedPerSecond(group: String, topic: String) -> Double? { rate(.committed(group: group, topic: topic)) }

    private func rate(_ key: Progress) -> Double? {
        state.withLock { state in
            guard let points = state.progress[key], let first = points.first, let last = points.last else { return nil }
            let elapsed = Self.seconds(last.time - first.time)
            guard elapsed > 0 else { return nil }
            return Double(max(0, last.offsets - first.offsets)) / elapsed
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Takes one sample now.
    func sample() {
        let now = ContinuousClock.now
        let time = Int64(Date().timeIntervalSince1970 * 1000)
        let recordsIn = broker.metrics.recordsIn.load(ordering: .relaxed)
        let recordsOut = broker.metrics.recordsOut.load(ordering: .relaxed)
        let partitions = broker.partitionMetrics()
        let flushes = broker.flushStatistics
        let latencies = latency?.drain() ?? []
        var groupLags: [(String, Int64)] = []
        var progress: [Progress: Int64] = [:]
        for partition in partitions { progress[.stored(topic: partition.topic), default: 0] += partition.logEndOffset }
        for group in broker.listGroups().prefix(Self.groupsMax) {
            let lags = broker.lag(group: group.groupId)
            groupLags.append((group.groupId, lags.compactMap(\.lag).reduce(0, +)))
            for lag in lags {
                if let committed = lag.committed { progress[.committed(group: group.groupId, topic: lag.topicPartition.topic), default: 0] += committed.offset }
            }
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
            state.progress = state.progress.filter { progress[$0.key] != nil }
            for (key, offsets) in progress where state.progress[key] != nil || state.progress.count < Self.progressKeysMax {
                var points = state.progress[key] ?? []
                points.append((now, offsets))
                if points.count > Self.rateWindowSeconds + 1 { points.removeFirst(points.count - Self.rateWindowSeconds - 1) }
                state.progress[key] = points
            }
            guard let last = state.last else { return }
            let elapsed = Self.seconds(now - last.time)
            guard elapsed > 0 else { return }
            // The broker's sums never go down; were one to, this second counts no fsyncs rather
            // than a wrapped 1.8e19.
            let fsyncs = flushes.count >= last.flushes.count ? flushes.count - last.flushes.count : 0
            let fsyncSeconds = fsyncs > 0 ? max(0, flushes.totalSeconds - last.flushes.totalSeconds) : 0
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
