import Foundation
import SpoolBroker
import SpoolEmbedded
import SpoolJobs
import Synchronization

/// An embedded broker in a temporary directory, with a short initial rebalance delay.
final class JobsTestBroker: Sendable {
    let path: String
    let spool: EmbeddedBroker

    init(_ name: String = #function, configure: (inout BrokerConfig) -> Void = { _ in }) throws {
        path = NSTemporaryDirectory() + "spool-jobs-\(name.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))"
        var config = BrokerConfig(dataDirectory: path)
        config.groupLimits.initialRebalanceDelayMs = 100
        config.log.segmentBytes = 4 << 20
        config.log.preallocateBytes = 64 << 10
        configure(&config)
        spool = EmbeddedBroker(broker: try Broker.open(config))
    }

    func queue(partitions: Int = 8) -> JobQueue { .embedded(spool, partitions: partitions) }

    func stop() {
        try? spool.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Waits (polling every 10 ms, at most `seconds`) until `condition` holds; returns whether it did.
func eventually(within seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// What handlers did, shared by concurrent runs.
final class Recorder: Sendable {
    struct State {
        var active: Set<String> = []
        var overlaps: [String] = []
        /// Sequence numbers per key, in the order their first successful run finished.
        var firstSuccesses: [String: [Int]] = [:]
        var succeeded: Set<String> = []
        var runs: [String: Int] = [:]
        var attempts: [String: [Int]] = [:]
        var times: [String: [Date]] = [:]
    }

    let state = Mutex(State())

    /// Marks a run of `key` as started; records an overlap when another run of the key is active.
    func begin(key: String, id: String, attempt: Int) {
        state.withLock { state in
            if !state.active.insert(key).inserted { state.overlaps.append(key) }
            state.runs[id, default: 0] += 1
            state.attempts[id, default: []].append(attempt)
            state.times[id, default: []].append(Date())
        }
    }

    func end(key: String) { _ = state.withLock { $0.active.remove(key) } }

    func succeeded(key: String, id: String, sequence: Int) {
        state.withLock { state in
            if state.succeeded.insert(id).inserted { state.firstSuccesses[key, default: []].append(sequence) }
        }
    }

    var succeededCount: Int { state.withLock { $0.succeeded.count } }
    func runs(_ id: String) -> Int { state.withLock { $0.runs[id] ?? 0 } }
    func attempts(_ id: String) -> [Int] { state.withLock { $0.attempts[id] ?? [] } }
    func times(_ id: String) -> [Date] { state.withLock { $0.times[id] ?? [] } }
}
