import Synchronization

/// Makes the requests of one connection take effect in the order they arrived, as Kafka does: a
/// client that pipelines two OffsetCommits must find the second one stored, and an OffsetFetch or
/// Fetch sent after a commit or a produce must see it.
///
/// Each request takes a turn when its frame is read, and its task waits for the turns before it
/// before it touches the broker. A produce passes its turn on as soon as its batches are appended,
/// before it waits for their flush, so the produces a client pipelines still share one fsync; it
/// stays *pending* until it is answered. Any other request waits for its turn and then for every
/// pending produce before it to be answered, and holds its turn until it is answered itself, so it
/// sees what was produced before it exactly as the producer was told. (An idempotent producer keeps
/// up to 5 requests in flight; were a retried request overtaken by the one after it, the broker
/// would answer OUT_OF_ORDER_SEQUENCE_NUMBER, which librdkafka treats as fatal.) Thread-safe.
final class RequestTurns: Sendable {
    private struct State {
        /// The next turn to hand out.
        var next: UInt64 = 0
        /// The turn that may take effect now.
        var current: UInt64 = 0
        /// At most one per request in flight on the connection (`ServerConfig.inFlightMax`).
        var waiting: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Produces that passed their turn on and are not answered yet.
        var pending = 0
        /// The turn holder waiting for `pending` to reach zero; only the holder ever waits.
        var drainWaiter: CheckedContinuation<Void, Never>?
        /// Turns after this one take no effect: the connection closes at that request.
        var closedAfter: UInt64?
    }

    private let state = Mutex(State())

    /// A new turn, after every one taken before. Called in arrival order, on the connection's loop.
    func take() -> RequestTurn {
        let number = state.withLock { state in
            defer { state.next += 1 }
            return state.next
        }
        return RequestTurn(turns: self, number: number)
    }

    /// True while the turn holder waits for pending produces (for tests).
    var isWaitingForPendingProduces: Bool { state.withLock { $0.drainWaiter != nil } }

    /// The request of `turn` closes the connection: the requests read after it must not take
    /// effect (they would never be answered, and a client would send them again).
    fileprivate func close(after turn: UInt64) {
        state.withLock { state in state.closedAfter = min(state.closedAfter ?? turn, turn) }
    }

    fileprivate func isClosed(at turn: UInt64) -> Bool { state.withLock { state in state.closedAfter.map { turn > $0 } ?? false } }

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

    /// Waits until no produce is pending. Called by the holder of the current turn, so no new
    /// produce can become pending meanwhile.
    fileprivate func waitUntilDrained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.pending == 0 { return true }
                precondition(state.drainWaiter == nil, "two requests wait for the pending produces at once")
                state.drainWaiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    fileprivate func pass(_ turn: UInt64, pending: Bool) {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            precondition(state.current == turn, "turn \(turn) passed while \(state.current) holds it")
            state.current += 1
            if pending { state.pending += 1 }
            return state.waiting.removeValue(forKey: state.current)
        }
        next?.resume()
    }

    fileprivate func settle() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            precondition(state.pending > 0, "a produce settled that was not pending")
            state.pending -= 1
            guard state.pending == 0 else { return nil }
            defer { state.drainWaiter = nil }
            return state.drainWaiter
        }
        waiter?.resume()
    }
}

/// One request's place in its connection's order.
final class RequestTurn: Sendable {
    private enum Phase { case waiting, holding, pending, done }

    private let turns: RequestTurns
    private let number: UInt64
    private let phase = Mutex(Phase.waiting)

    fileprivate init(turns: RequestTurns, number: UInt64) {
        self.turns = turns
        self.number = number
    }

    /// Returns once every request read before this one has taken effect; with
    /// `afterPendingProduces`, once every produce read before it has also been answered.
    ///
    /// False: a request before this one closes the connection, and this one must take no effect
    /// (it holds its turn all the same, for `finish` to pass on).
    @discardableResult
    func begin(afterPendingProduces: Bool = false) async -> Bool {
        guard phase.withLock({ $0 == .waiting }) else { return !turns.isClosed(at: number) }
        await turns.wait(for: number)
        let open = !turns.isClosed(at: number)
        if afterPendingProduces && open { await turns.waitUntilDrained() }
        phase.withLock { $0 = .holding }
        return open
    }

    /// This request closes the connection: the ones read after it take no effect.
    func closesConnection() { turns.close(after: number) }

    /// Lets the next request take effect while this one stays pending until `finish` (a produce
    /// whose batches are appended and that now waits for their flush). Does nothing unless
    /// `begin` returned.
    func end() {
        let passing = phase.withLock { phase -> Bool in
            guard phase == .holding else { return false }
            phase = .pending
            return true
        }
        if passing { turns.pass(number, pending: true) }
    }

    /// Marks the request answered: the turn is passed on if it was still held, and requests that
    /// wait for pending produces may go on.
    func finish() {
        let previous = phase.withLock { phase -> Phase in
            defer { if phase == .holding || phase == .pending { phase = .done } }
            return phase
        }
        switch previous {
        case .holding: turns.pass(number, pending: false)
        case .pending: turns.settle()
        case .waiting, .done: break
        }
    }

    /// Gives the turn up however the request ended (it may never have reached `begin`): waits for
    /// it if needed, so the turns after it are not held up, then passes it on and finishes.
    func release() async {
        await begin()
        finish()
    }
}
