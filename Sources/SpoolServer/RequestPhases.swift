import Synchronization
import SpoolSystem

/// Where the time of the broker's requests goes, split as Kafka's request metrics split it
/// (RequestQueueTimeMs, LocalTimeMs, RemoteTimeMs, ResponseQueueTimeMs, ResponseSendTimeMs), per
/// API: Produce, Fetch, and the rest together. Served on `/metrics` as
/// `spool_request_phase_seconds{api,phase}`; `Benchmarks/compare_driver.py breakdown` turns two
/// scrapes into a table of where an end-to-end run spent its time inside the broker.
final class RequestPhases: Sendable {
    enum Api: Int, CaseIterable, Sendable {
        case produce, fetch, other

        var label: String {
            switch self {
            case .produce: "Produce"
            case .fetch: "Fetch"
            case .other: "other"
            }
        }
    }

    enum Phase: Int, CaseIterable, Sendable {
        /// From the frame read on its loop to its task starting: the task's wait for a cooperative
        /// thread.
        case queue
        /// The task's own work: decoding, waiting for its turn among the connection's requests,
        /// appending, reading, encoding.
        case local
        /// Waiting in the broker: a produce (acks=all) for its flush; a fetch for its data (parked
        /// until data comes or its max wait passes, then read).
        case wait
        /// From the answer to its connection's loop taking it up (`EventLoop.submit`).
        case responseQueue
        /// From the loop taking it up to its last byte written to the socket (behind earlier
        /// responses, or a full socket buffer).
        case send

        var label: String {
            switch self {
            case .queue: "queue"
            case .local: "local"
            case .wait: "wait"
            case .responseQueue: "response_queue"
            case .send: "send"
            }
        }
    }

    /// Upper bounds of the buckets, in seconds: 10 µs to 30 s.
    static let bounds: [Double] = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                   0.1, 0.25, 0.5, 1, 5, 30]

    /// One series: counts per bucket (not cumulative), the count and the sum.
    struct Series: Sendable, Equatable {
        var buckets = [UInt64](repeating: 0, count: RequestPhases.bounds.count)
        var count: UInt64 = 0
        var sumNanoseconds: UInt64 = 0

        mutating func record(_ nanoseconds: UInt64) {
            let seconds = Double(nanoseconds) / 1e9
            if let bucket = RequestPhases.bounds.firstIndex(where: { seconds <= $0 }) { buckets[bucket] += 1 }
            count += 1
            sumNanoseconds &+= nanoseconds
        }

        /// Counts at or below each bound, as Prometheus wants them.
        var cumulative: [UInt64] {
            var total: UInt64 = 0
            return buckets.map { count in
                total += count
                return total
            }
        }
    }

    private let series = Mutex([Series](repeating: Series(), count: Api.allCases.count * Phase.allCases.count))

    /// Records the phases of one answered request, from its clock readings.
    func record(_ timing: RequestTiming, takenUpNs: UInt64) {
        let api = Api(rawValue: timing.api.load(ordering: .relaxed)) ?? .other
        let started = timing.startedNs.load(ordering: .relaxed)
        let answered = timing.answeredNs.load(ordering: .relaxed)
        let wait = timing.waitNs.load(ordering: .relaxed)
        guard started >= timing.readNs, answered >= started, takenUpNs >= answered else { return }
        let local = answered - started
        series.withLock { series in
            series[Self.index(api, .queue)].record(started - timing.readNs)
            series[Self.index(api, .local)].record(local - min(wait, local))
            series[Self.index(api, .wait)].record(min(wait, local))
            series[Self.index(api, .responseQueue)].record(takenUpNs - answered)
        }
    }

    /// Records how long a response took from its loop taking it up to its last byte written.
    func recordSend(_ api: Api, nanoseconds: UInt64) {
        series.withLock { $0[Self.index(api, .send)].record(nanoseconds) }
    }

    /// Every series, by API and phase.
    func snapshot() -> [(api: Api, phase: Phase, series: Series)] {
        let all = series.withLock { $0 }
        return Api.allCases.flatMap { api in Phase.allCases.map { phase in (api, phase, all[Self.index(api, phase)]) } }
    }

    private static func index(_ api: Api, _ phase: Phase) -> Int { api.rawValue * Phase.allCases.count + phase.rawValue }
}

/// The clock readings of one request (monotonic nanoseconds), filled in as it goes: read on its
/// loop, started and answered by its task (which also adds up its waits), and handed back to the
/// loop, which records them (`RequestPhases.record`).
final class RequestTiming: Sendable {
    let readNs: UInt64
    let startedNs = Atomic<UInt64>(0)
    let answeredNs = Atomic<UInt64>(0)
    let waitNs = Atomic<UInt64>(0)
    let api = Atomic<Int>(RequestPhases.Api.other.rawValue)

    init(readNs: UInt64 = monotonicNanoseconds()) { self.readNs = readNs }

    /// Adds the time since `since` to the wait phase; returns now.
    @discardableResult
    func addWait(since: UInt64) -> UInt64 {
        let now = monotonicNanoseconds()
        waitNs.add(now &- since, ordering: .relaxed)
        return now
    }
}
