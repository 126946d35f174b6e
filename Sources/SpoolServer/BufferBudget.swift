import Synchronization

/// The server's account of the bytes its connections hold, and the broker-wide limit on request
/// bytes (`ServerConfig.bufferedBytesMax`).
///
/// A connection reserves a request's whole size when it reads the size, before it reads the rest,
/// and gives it back when the request is answered (or the connection closes). A reservation is
/// refused once the budget is used up, and the connection then stops reading until bytes come
/// back; one that starts with room left may take the budget past its limit, so a single request
/// larger than what is left still gets in, and the total stays under the limit plus one request.
/// Only reserved requests count: bytes a connection read ahead of the next request's size (at most
/// one read) are its own, so that connections waiting for the budget never hold it up themselves,
/// and whatever holds the budget is a request that will be answered. Response bytes are not reserved here: each connection caps its own, and a client that
/// does not read its responses holds up only itself. Thread-safe.
final class BufferBudget: Sendable {
    /// Request bytes all connections together may hold.
    let limit: Int
    private let requests = Atomic(0)
    private let responses = Atomic(0)
    private let paused = Atomic(0)
    private let connectionPeak = Atomic(0)

    init(limit: Int) {
        precondition(limit > 0, "a budget of \(limit) bytes")
        self.limit = limit
    }

    /// Request bytes reserved now and not yet answered.
    var requestBytes: Int { requests.load(ordering: .relaxed) }
    /// Response bytes held now: answered and not yet written to their sockets.
    var responseBytes: Int { responses.load(ordering: .relaxed) }
    /// Connections Spool is not reading from now, because of their own limit or this one.
    var pausedConnections: Int { paused.load(ordering: .relaxed) }
    /// The most bytes one connection has held at once since the server started.
    var connectionBytesPeak: Int { connectionPeak.load(ordering: .relaxed) }
    /// True while no reservation would be granted.
    var isUsedUp: Bool { requests.load(ordering: .relaxed) >= limit }

    /// Takes `count` request bytes unless the budget is used up.
    func reserve(_ count: Int) -> Bool {
        precondition(count >= 0, "reserving \(count) bytes")
        var held = requests.load(ordering: .relaxed)
        while true {
            if held >= limit && count > 0 { return false }
            let (exchanged, original) = requests.compareExchange(expected: held, desired: held + count, ordering: .relaxed)
            if exchanged { return true }
            held = original
        }
    }

    /// Gives back `count` request bytes; true when that left the budget with room after it had none.
    func release(_ count: Int) -> Bool {
        precondition(count >= 0, "releasing \(count) bytes")
        let now = requests.subtract(count, ordering: .relaxed).newValue
        precondition(now >= 0, "more request bytes released than held")
        return now < limit && now + count >= limit && count > 0
    }

    func addResponses(_ count: Int) { responses.add(count, ordering: .relaxed) }
    func removeResponses(_ count: Int) { responses.subtract(count, ordering: .relaxed) }
    func pauseChanged(_ isPaused: Bool) { paused.add(isPaused ? 1 : -1, ordering: .relaxed) }

    /// Records that one connection holds `bytes`.
    func noteConnection(holding bytes: Int) {
        var peak = connectionPeak.load(ordering: .relaxed)
        while bytes > peak {
            let (exchanged, original) = connectionPeak.compareExchange(expected: peak, desired: bytes, ordering: .relaxed)
            if exchanged { return }
            peak = original
        }
    }
}
