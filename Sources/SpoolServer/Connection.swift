import Foundation
import SpoolSystem
import SpoolWire

/// What answering one request produced.
enum Outcome: Sendable {
    /// A whole response frame (size prefix included).
    case response(ResponseFrame)
    /// No response (a produce with acks=0).
    case silent
    /// The request was malformed, of an unknown API or an unsupported version: close the
    /// connection once the responses before it are sent.
    case close(String)
}

/// One client connection, owned by one event loop: reads frames, hands each to the router, and
/// writes the responses back in request order, however long each takes (a parked fetch, a
/// produce waiting for its flush). Touched only on its loop's thread.
///
/// Memory is bounded in bytes. The connection holds the requests it has read and not answered,
/// room for the responses of fetches in flight (their max_bytes), and the responses it has not
/// written; it reserves a request's whole size when it reads the size, and it stops reading (drops
/// its read interest) while what it holds would go over `ServerConfig.inFlightBytesMax` or the
/// broker's `bufferedBytesMax` is used up, until responses drain. A lone request always fits,
/// however large (up to `frameBytesMax`).
final class Connection {
    private struct Slot {
        var id: UInt64
        /// The request's frame, size prefix included, held until it is answered.
        var requestBytes: Int
        /// Room kept for the response until it comes (a fetch's max_bytes; 0 for the rest).
        var responseEstimate: Int
        var outcome: Outcome?
        /// For `RequestPhases`: the request's API, and when its loop took up the answer (0: not timed).
        var api = RequestPhases.Api.other
        var takenUpNs: UInt64 = 0
    }

    /// Why the connection is not being read from.
    private enum Pause {
        /// It holds as many bytes (or requests) as one connection may.
        case connection
        /// The broker's budget of request bytes is used up.
        case broker
    }

    let id: UInt64
    let peer: String
    /// The socket's number: the key of its epoll registration. The socket itself is `socket`.
    let descriptor: Int32
    private var socket: FileDescriptor?
    private unowned let loop: EventLoop
    private let server: Server
    private let budget: BufferBudget
    /// Bytes read and not yet framed: `input[inputStart..<inputEnd]`; the array is reused, and
    /// grows to hold a whole frame when one is larger than it.
    private var input: [UInt8] = []
    private var inputStart = 0
    private var inputEnd = 0
    /// Where the reservation of the frame being read ends (an index into `input`); at or below
    /// `inputStart` when the next frame has no reservation yet.
    private var reservedEnd = 0
    private var output = OutputQueue()
    /// Responses queued in `output`: where each ends (in `OutputQueue.queuedTotal`), for
    /// `RequestPhases.send` when it is written.
    private var queuedSends: [(end: Int, api: RequestPhases.Api, takenUpNs: UInt64)] = []
    private var slots: [Slot] = []
    private var nextSlot: UInt64 = 0
    /// Request bytes held: reserved frames (read or not) and bytes read ahead of any reservation.
    private var requestBytes = 0
    /// The part of `requestBytes` taken from the broker's budget: the whole size of every
    /// reserved frame (read-ahead bytes before a frame's reservation are the connection's alone).
    private var budgetBytes = 0
    /// Response bytes held: answered out of order and waiting, or queued in `output`.
    private var responseBytes = 0
    /// Room kept for the responses of fetches in flight, whose size is known only as a bound.
    private var expectedResponseBytes = 0
    private var lastActivity = Date()
    private var pause: Pause?
    /// A request closes the connection (`Outcome.close`): nothing more is read, no response after
    /// it is sent, and the connection closes, with this reason, once the responses before it
    /// are written.
    private var closing: Closing?
    private struct Closing {
        let reason: String?
        /// Set once every response is written and the sending side shut: the peer's bytes are
        /// read and dropped until it closes (`lingerSeconds` at most), then the socket is closed.
        var lingeringSince: Date?
    }
    /// Whether `budget.pausedConnections` counts this connection.
    private var countedAsPaused = false
    private var interest: IOEvents = .readable
    /// What the next read asks for when no reserved frame needs more.
    private var readSize = Connection.firstReadBytes
    private(set) var isClosed = false
    private let turns = RequestTurns()

    /// Most bytes one read asks for when no reserved frame needs more: what a connection may
    /// read past its limits.
    static let readBytes = 64 << 10
    /// What the first read of a connection (or of one quiet for a while) asks for; each read that
    /// fills all it asked for doubles the next, up to `readBytes`. Small requests from many
    /// connections so cost small buffers.
    static let firstReadBytes = 4 << 10
    /// The input buffer is given back when it is empty and larger than this (after a big frame).
    static let inputKeptBytesMax = 1 << 20
    /// A connection without traffic this long gives its buffers back (`releaseBuffersIfQuiet`).
    static let quietSeconds = 1.0

    init(id: UInt64, socket: consuming FileDescriptor, peer: String, loop: EventLoop, server: Server) {
        self.id = id
        self.descriptor = socket.rawValue
        self.socket = consume socket
        self.peer = peer
        self.loop = loop
        self.server = server
        self.budget = server.budget
    }

    func start() {
        do { try loop.register(descriptor, events: interest) { [weak self] events in self?.handle(events) } } catch {
            close(reason: "cannot watch it: \(error)")
        }
    }

    /// Bytes the connection holds now.
    var heldBytes: Int { requestBytes + responseBytes + expectedResponseBytes }

    /// Nothing in flight and nothing to send: the next request fits whatever its size.
    private var isAlone: Bool { slots.isEmpty && responseBytes == 0 }

    /// True while the connection waits for the broker's budget to have room.
    var isWaitingForBudget: Bool { pause == .broker }

    private func handle(_ events: IOEvents) {
        if closing?.lingeringSince != nil {
            if events.contains(.readable) || !events.isDisjoint(with: [.error, .hangup]) { dropUnreadInput() }
            return
        }
        if events.contains(.readable) { readAvailable() }
        if !isClosed, events.contains(.writable) { flush() }
        if !isClosed, events.contains(.error) { close(reason: nil) }
        if !isClosed, events.contains(.hangup), !events.contains(.readable) { close(reason: nil) }
    }

    // MARK: Reading

    /// How many bytes the next read may take, or nil when reading must wait.
    private func readAllowance() -> Int? {
        let underLimits = heldBytes < server.config.inFlightBytesMax && slots.count < server.config.inFlightMax && !budget.isUsedUp
        let reservedLeft = reservedEnd - inputEnd
        if reservedLeft > 0 { return reservedLeft + (underLimits ? Self.readBytes : 0) }
        if inputEnd - inputStart >= 4 { return nil }  // a frame that could not be reserved
        return underLimits ? Self.readBytes : nil
    }

    private func readAvailable() {
        while !isClosed && pause == nil && closing == nil {
            guard let allowance = readAllowance() else {
                setPause(budget.isUsedUp && heldBytes < server.config.inFlightBytesMax ? .broker : .connection)
                return
            }
            makeRoom(for: min(allowance, readSize))
            let room = min(allowance, input.count - inputEnd)
            let start = inputEnd
            let result: Int?
            do {
                result = try input.withUnsafeMutableBytes { buffer in
                    try withSocket { try $0.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + room)])) }
                } ?? 0
            } catch {
                close(reason: nil)
                return
            }
            guard let count = result else { return }  // nothing more to read now
            if count == 0 {
                close(reason: nil)
                return
            }
            inputEnd += count
            // Bytes past the reservation of the frame being read are held from now on too.
            let unreserved = inputEnd - max(start, reservedEnd)
            if unreserved > 0 {
                requestBytes += unreserved
                budget.noteConnection(holding: heldBytes)
            }
            lastActivity = Date()
            parseFrames()
            if count < room { return }
            readSize = min(readSize * 2, Self.readBytes)
        }
    }

    /// Makes `input` hold at least `count` free bytes after `inputEnd`, moving what is unread to
    /// the front first.
    private func makeRoom(for count: Int) {
        if input.count - inputEnd >= count { return }
        if inputStart > 0 {
            input.withUnsafeMutableBytes { buffer in
                if inputEnd > inputStart, let base = buffer.baseAddress {
                    // The ranges may overlap: memmove.
                    _ = memmove(base, base + inputStart, inputEnd - inputStart)
                }
            }
            inputEnd -= inputStart
            reservedEnd -= inputStart
            inputStart = 0
        }
        if input.count - inputEnd < count {
            input.append(contentsOf: repeatElement(0, count: inputEnd + count - input.count))
        }
    }

    private func parseFrames() {
        while !isClosed, closing == nil, inputEnd - inputStart >= 4 {
            let size = Int(Int32(bigEndian: input.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: inputStart, as: Int32.self) }))
            guard size >= 8, size <= server.config.frameBytesMax else {
                close(reason: "frame of \(size) bytes is outside 8...\(server.config.frameBytesMax)")
                return
            }
            if reservedEnd < inputStart + 4 + size {
                guard reserve(upTo: inputStart + 4 + size) else { return }
            }
            // Reserving may have moved the unread bytes to the front of the buffer.
            let end = inputStart + 4 + size
            guard inputEnd >= end else { break }
            let frame = Array(input[(inputStart + 4)..<end])
            // A fetch also needs room for its answer; it waits, read and reserved, until there is.
            let estimate = min(FetchBound.responseBytesMax(frame) ?? 0, server.config.inFlightBytesMax)
            guard estimate == 0 || isAlone || heldBytes + estimate <= server.config.inFlightBytesMax else {
                setPause(.connection)
                return
            }
            inputStart = end
            dispatch(frame, bytes: 4 + size, responseEstimate: estimate)
        }
        if inputStart == inputEnd {
            inputStart = 0
            inputEnd = 0
            reservedEnd = 0
            if input.count > Self.inputKeptBytesMax { input = [] }
        }
    }

    /// Reserves the frame that ends at `end` (its bytes not read yet; the rest are held already),
    /// or pauses reading when it does not fit.
    private func reserve(upTo end: Int) -> Bool {
        let unread = max(0, end - inputEnd)
        guard slots.count < server.config.inFlightMax, isAlone || heldBytes + unread <= server.config.inFlightBytesMax else {
            setPause(.connection)
            return false
        }
        // The broker's budget takes the whole frame, the part already read included.
        let frameBytes = end - inputStart
        guard budget.reserve(frameBytes) else {
            setPause(.broker)
            return false
        }
        budgetBytes += frameBytes
        requestBytes += unread
        reservedEnd = end
        budget.noteConnection(holding: heldBytes)
        // Room for the whole frame now, so reading it does not copy it again as it grows.
        makeRoom(for: end - inputEnd)
        return true
    }

    private func dispatch(_ frame: [UInt8], bytes: Int, responseEstimate: Int) {
        let slot = nextSlot
        nextSlot += 1
        slots.append(Slot(id: slot, requestBytes: bytes, responseEstimate: responseEstimate, outcome: nil))
        expectedResponseBytes += responseEstimate
        let (loop, server, connection, peer) = (self.loop, self.server, self.id, self.peer)
        // Requests take effect in arrival order (`RequestTurns`); their tasks may start in any order.
        let turn = turns.take()
        let timing = RequestTiming()
        Task {
            let outcome = await server.router.respond(to: frame, client: peer, turn: turn, timing: timing)
            if case .close = outcome { turn.closesConnection() }
            await turn.release()
            loop.submit { loop.connections[connection]?.complete(slot, outcome, timing: timing) }
        }
    }

    // MARK: Answering

    /// Records a finished request and sends every response that is now next in order.
    func complete(_ slot: UInt64, _ outcome: Outcome, timing: RequestTiming? = nil) {
        guard !isClosed, closing == nil, let index = slots.firstIndex(where: { $0.id == slot }) else { return }
        if let timing {
            let now = monotonicNanoseconds()
            server.router.phases.record(timing, takenUpNs: now)
            slots[index].api = RequestPhases.Api(rawValue: timing.api.load(ordering: .relaxed)) ?? .other
            slots[index].takenUpNs = now
        }
        slots[index].outcome = outcome
        expectedResponseBytes -= slots[index].responseEstimate
        releaseRequest(slots[index].requestBytes)
        if case let .response(frame) = outcome { addResponse(frame.count) }
        while let first = slots.first, let outcome = first.outcome {
            slots.removeFirst()
            switch outcome {
            case let .response(frame): send(frame, api: first.api, takenUpNs: first.takenUpNs)
            case .silent: break
            case let .close(reason):
                // The responses before it go out first (a large one may take several writes).
                closing = Closing(reason: reason)
                flush()
                return
            }
            if isClosed { return }
        }
        flush()
    }

    /// Queues `frame` behind the responses before it; `flush` writes them.
    private func send(_ frame: ResponseFrame, api: RequestPhases.Api, takenUpNs: UInt64) {
        output.append(frame)
        if takenUpNs > 0 { queuedSends.append((output.queuedTotal, api, takenUpNs)) }
    }

    /// Writes what the socket takes of the queued responses.
    private func flush() {
        if !isClosed, !output.isEmpty {
            let written: Int
            do {
                written = try output.write { buffers in try withSocket { try $0.write(gathering: buffers) } ?? nil }
            } catch {
                close(reason: nil)
                return
            }
            if written > 0 {
                removeResponse(written)
                lastActivity = Date()
            }
            if let first = queuedSends.first, first.end <= output.writtenTotal {
                let now = monotonicNanoseconds()
                while let sent = queuedSends.first, sent.end <= output.writtenTotal {
                    queuedSends.removeFirst()
                    server.router.phases.recordSend(sent.api, nanoseconds: now &- sent.takenUpNs)
                }
            }
        }
        if let closing, !isClosed, output.isEmpty {
            linger(closing)
            return
        }
        updateInterest()
        resume()
    }

    /// The responses before a closing request are written: closing the socket now, with the
    /// peer's pipelined requests unread, would make the kernel reset the connection, dropping what
    /// it still holds of those responses and making the peer's reads fail before it got them. So
    /// the sending side is shut (the responses go out, then a FIN), and the peer's bytes are read
    /// and dropped until it closes too, or `lingerSeconds` pass (`closeIfIdle`).
    private func linger(_ closing: Closing) {
        guard closing.lingeringSince == nil else { return }
        self.closing?.lingeringSince = Date()
        guard withSocket({ $0.shutdownWrite() }) != nil else { return close(reason: closing.reason) }
        interest = []
        updateInterest()
        dropUnreadInput()
    }

    /// Reads and drops what the peer sent, closing at its end of stream or on an error.
    private func dropUnreadInput() {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while !isClosed {
            let result: Int?
            do {
                result = try scratch.withUnsafeMutableBytes { buffer in try withSocket { try $0.read(into: buffer) } ?? 0 }
            } catch {
                return close(reason: closing?.reason)
            }
            guard let count = result else { return }  // nothing more now
            if count == 0 { return close(reason: closing?.reason) }
        }
    }

    /// Longest a closing connection reads and drops its peer's bytes before it is closed anyway.
    static var lingerSeconds: TimeInterval { 2 }

    /// Closes a connection that has lingered (`linger`) for `lingerSeconds`.
    func closeIfLingeredOut(now: Date) {
        guard let since = closing?.lingeringSince, now.timeIntervalSince(since) >= Self.lingerSeconds else { return }
        close(reason: closing?.reason)
    }

    // MARK: Limits

    private func releaseRequest(_ bytes: Int) {
        requestBytes -= bytes
        budgetBytes -= bytes
        precondition(requestBytes >= 0 && budgetBytes >= 0, "connection \(id) released more request bytes than it held")
        if budget.release(bytes) { server.budgetFreed() }
    }

    private func addResponse(_ bytes: Int) {
        responseBytes += bytes
        budget.addResponses(bytes)
        budget.noteConnection(holding: heldBytes)
    }

    private func removeResponse(_ bytes: Int) {
        responseBytes -= bytes
        budget.removeResponses(bytes)
    }

    private func setPause(_ reason: Pause) {
        pause = reason
        updateInterest()
    }

    /// Starts reading again if the connection was paused and its limits now allow it. Called when
    /// bytes drain and, about once a second, by the loop.
    func resume() {
        guard !isClosed, closing == nil, pause != nil else { return }
        // Try as if unpaused: reading or reserving pauses again if the limits still say no, and
        // the interest (one epoll_ctl) changes only if the outcome differs.
        pause = nil
        parseFrames()
        if !isClosed, pause == nil { readAvailable() }
        updateInterest()
    }

    private func updateInterest() {
        guard !isClosed else { return }
        if (pause != nil) != countedAsPaused {
            countedAsPaused = pause != nil
            budget.pauseChanged(countedAsPaused)
        }
        var events: IOEvents = (pause == nil && closing == nil) || closing?.lingeringSince != nil ? .readable : []
        if !output.isEmpty { events.insert(.writable) }
        guard events != interest else { return }
        interest = events
        do { try loop.change(descriptor, events: events) } catch { close(reason: "cannot watch it: \(error)") }
    }

    // MARK: Closing

    /// Gives the buffers back once the connection has been quiet for a while, so that many idle
    /// connections cost no memory while a busy one keeps reusing its own.
    func releaseBuffersIfQuiet(now: Date) {
        guard now.timeIntervalSince(lastActivity) >= Self.quietSeconds, inputStart == inputEnd, output.isEmpty else { return }
        readSize = Self.firstReadBytes
        if input.capacity > 0 {
            input = []
            inputStart = 0
            inputEnd = 0
            reservedEnd = 0
        }
        output = OutputQueue()
    }

    /// Closes an idle connection (nothing in flight, no bytes for the idle timeout).
    func closeIfIdle(now: Date) {
        // A closing connection whose client does not read the responses before the close goes too.
        guard slots.isEmpty || closing != nil, now.timeIntervalSince(lastActivity) * 1000 > Double(server.config.idleTimeoutMs) else { return }
        close(reason: "idle for more than \(server.config.idleTimeoutMs) ms")
    }

    func close(reason: String?) {
        guard !isClosed else { return }
        if countedAsPaused { budget.pauseChanged(false) }
        isClosed = true
        if let reason { ServerLog.info("closing connection from \(peer): \(reason)") }
        loop.unregister(descriptor)
        socket.take()?.close()
        loop.connections.removeValue(forKey: id)
        // Requests still running are answered into the void; their bytes are given back now.
        let (requests, responses) = (budgetBytes, responseBytes)
        requestBytes = 0
        budgetBytes = 0
        responseBytes = 0
        expectedResponseBytes = 0
        budget.removeResponses(responses)
        if budget.release(requests) { server.budgetFreed() }
        // The buffers go with the connection, which its loop has just let go of.
        server.connectionClosed()
    }

    /// Runs `body` on the socket while it is open; nil once it is closed.
    private func withSocket<R>(_ body: (borrowing FileDescriptor) throws -> R) rethrows -> R? {
        switch socket {
        case let open?: try body(open)
        case nil: nil
        }
    }
}
