import Synchronization

/// Makes the produce requests of one connection append in the order they arrived, as Kafka
/// does. An idempotent producer keeps up to 5 requests in flight; when a retried request was
/// overtaken by the one after it, the broker answered OUT_OF_ORDER_SEQUENCE_NUMBER, which
/// librdkafka treats as fatal. Each produce takes a turn when its frame is read; its task waits
/// for the turns before it to finish appending (not for their flushes) before it appends.
/// Thread-safe.
final class AppendTurns: Sendable {
    private struct State {
        /// The next turn to hand out.
        var next: UInt64 = 0
        /// The turn that may append now.
        var current: UInt64 = 0
        /// At most one per produce in flight on the connection (`ServerConfig.inFlightMax`).
        var waiting: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// A new turn, after every one taken before. Called in arrival order, on the connection's loop.
    func take() -> AppendTurn {
        let number = state.withLock { state in
            defer { state.next += 1 }
            return state.next
        }
        return AppendTurn(turns: self, number: number)
    }

    fileprivate func wait(for turn: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.current == turn { return true }
                state.waiting[turn] = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    fileprivate func pass(_ turn: UInt64) {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            precondition(state.current == turn, "append turn \(turn) passed while \(state.current) holds it")
            state.current += 1
            return state.waiting.removeValue(forKey: state.current)
        }
        next?.resume()
    }
}

/// One produce request's place in its connection's order of appends.
final class AppendTurn: Sendable {
    private enum Phase { case waiting, appending, done }

    private let turns: AppendTurns
    private let number: UInt64
    private let phase = Mutex(Phase.waiting)

    fileprivate init(turns: AppendTurns, number: UInt64) {
        self.turns = turns
        self.number = number
    }

    /// Returns once every produce read before this one has appended.
    func begin() async {
        guard phase.withLock({ $0 == .waiting }) else { return }
        await turns.wait(for: number)
        phase.withLock { $0 = .appending }
    }

    /// Lets the next produce append. Does nothing unless `begin` returned.
    func end() {
        let passing = phase.withLock { phase -> Bool in
            guard phase == .appending else { return false }
            phase = .done
            return true
        }
        if passing { turns.pass(number) }
    }

    /// Gives the turn up however the request ended (it may never have reached the append):
    /// waits for it if needed, so the turns after it are not held up, then passes it on.
    func release() async {
        await begin()
        end()
    }
}
