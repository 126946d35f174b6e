import Synchronization
import SpoolFormat

/// The Fetch requests a network consumer has out, at most one per partition leader, kept across
/// polls as Kafka's consumer keeps them. A poll hands out what the first leaders answer and leaves
/// the others parked on their brokers, so a leader with nothing new (which parks its fetch up to the
/// wait) never holds back the records another leader has: waiting for every leader made each poll
/// as slow as the idlest broker's long poll.
///
/// An answer is handed out only for partitions the poll still reads from the offset the fetch
/// started at; the rest (a partition seeked, reset or given away while the fetch was out) is
/// dropped, to be fetched again from the new position.
final class LeaderFetches: Sendable {
    typealias Answer = Result<[(TopicPartition, PartitionFetch)], ClientError>

    private struct Pending {
        /// Where each partition's fetch started.
        var starts: [TopicPartition: Int64]
        var answer: Answer?
    }

    private struct State {
        var pending: [Int32: Pending] = [:]
        /// Polls waiting for the next answer.
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Starts a fetch to each leader in `wanted` that has none out (`start` sends it), then waits
    /// until at least one leader has answered, and takes every answer in: the partitions of
    /// `wanted` each answer covers from the position wanted now, and the answers that failed.
    func next(_ wanted: [Int32: [(TopicPartition, Int64)]],
              start: @escaping @Sendable (Int32, [(TopicPartition, Int64)]) async -> Answer) async -> [Answer] {
        let starting = state.withLock { state -> [(Int32, [(TopicPartition, Int64)])] in
            var starting: [(Int32, [(TopicPartition, Int64)])] = []
            for (node, positions) in wanted where state.pending[node] == nil {
                state.pending[node] = Pending(starts: Dictionary(positions, uniquingKeysWith: { first, _ in first }))
                starting.append((node, positions))
            }
            return starting
        }
        for (node, positions) in starting {
            Task {
                let answer = await start(node, positions)
                let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                    state.pending[node]?.answer = answer
                    defer { state.waiters = [] }
                    return state.waiters
                }
                for waiter in waiters { waiter.resume() }
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let answered = state.withLock { state in
                let answered = state.pending.values.contains { $0.answer != nil }
                if !answered { state.waiters.append(continuation) }
                return answered
            }
            if answered { continuation.resume() }
        }
        let current = Dictionary(wanted.values.joined().map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
        let taken = state.withLock { state -> [Pending] in
            let done = state.pending.filter { $0.value.answer != nil }
            for node in done.keys { state.pending[node] = nil }
            return Array(done.values)
        }
        return taken.compactMap { pending -> Answer? in
            switch pending.answer {
            case let .success(partitions)?:
                return .success(partitions.filter { partition, _ in
                    current[partition] != nil && current[partition] == pending.starts[partition]
                })
            case let .failure(error)?: return .failure(error)
            case nil: return nil
            }
        }
    }
}
