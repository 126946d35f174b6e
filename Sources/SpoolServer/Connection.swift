import CSpool
import Foundation
import Glibc
import SpoolWire

/// What answering one request produced.
enum Outcome: Sendable {
    /// A whole response frame (size prefix included).
    case response([UInt8])
    /// No response (a produce with acks=0).
    case silent
    /// The request was malformed, of an unknown API or an unsupported version: close the
    /// connection once the responses before it are sent.
    case close(String)
}

/// One client connection, owned by one event loop: reads frames, hands each to the router, and
/// writes the responses back in request order, however long each takes (a parked fetch, a
/// produce waiting for its flush). Touched only on its loop's thread.
final class Connection {
    private struct Slot {
        var id: UInt64
        var outcome: Outcome?
    }

    let id: UInt64
    let fd: Int32
    let peer: String
    private unowned let loop: EventLoop
    private let server: Server
    private var input: [UInt8] = []
    private var inputStart = 0
    private var output: [UInt8] = []
    private var outputStart = 0
    private var slots: [Slot] = []
    private var nextSlot: UInt64 = 0
    private var lastActivity = Date()
    private var readingPaused = false
    private(set) var isClosed = false
    private let turns = RequestTurns()

    init(id: UInt64, fd: Int32, peer: String, loop: EventLoop, server: Server) {
        self.id = id
        self.fd = fd
        self.peer = peer
        self.loop = loop
        self.server = server
    }

    func start() {
        loop.register(fd, events: SPOOL_EVENT_READ) { [weak self] events in self?.handle(events) }
    }

    private func handle(_ events: UInt32) {
        if events & SPOOL_EVENT_READ != 0 { readAvailable() }
        if !isClosed, events & SPOOL_EVENT_WRITE != 0 { flush() }
        if !isClosed, events & (SPOOL_EVENT_ERROR) != 0 { close(reason: nil) }
        if !isClosed, events & SPOOL_EVENT_HANGUP != 0, events & SPOOL_EVENT_READ == 0 { close(reason: nil) }
    }

    private func readAvailable() {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while !isClosed && !readingPaused {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                input.append(contentsOf: chunk[0..<count])
                lastActivity = Date()
                parseFrames()
                if count < chunk.count { break }
            } else if count == 0 {
                close(reason: nil)
            } else {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { close(reason: nil) }
                break
            }
        }
    }

    private func parseFrames() {
        while !isClosed, input.count - inputStart >= 4 {
            let size = Int(Int32(bigEndian: input.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: inputStart, as: Int32.self) }))
            guard size >= 8, size <= server.config.frameBytesMax else {
                close(reason: "frame of \(size) bytes is outside 8...\(server.config.frameBytesMax)")
                return
            }
            guard input.count - inputStart - 4 >= size else { break }
            let frame = Array(input[(inputStart + 4)..<(inputStart + 4 + size)])
            inputStart += 4 + size
            dispatch(frame)
        }
        if inputStart > 0 && (inputStart == input.count || inputStart > 1 << 20) {
            input.removeFirst(inputStart)
            inputStart = 0
        }
        if slots.count >= server.config.inFlightMax { pauseReading(true) }
    }

    private func dispatch(_ frame: [UInt8]) {
        let slot = nextSlot
        nextSlot += 1
        slots.append(Slot(id: slot, outcome: nil))
        let (loop, server, connection, peer) = (self.loop, self.server, self.id, self.peer)
        // Requests take effect in arrival order (`RequestTurns`); their tasks may start in any order.
        let turn = turns.take()
        Task {
            let outcome = await server.router.respond(to: frame, client: peer, turn: turn)
            await turn.release()
            loop.submit { loop.connections[connection]?.complete(slot, outcome) }
        }
    }

    /// Records a finished request and sends every response that is now next in order.
    func complete(_ slot: UInt64, _ outcome: Outcome) {
        guard !isClosed, let index = slots.firstIndex(where: { $0.id == slot }) else { return }
        slots[index].outcome = outcome
        while let first = slots.first, let outcome = first.outcome {
            slots.removeFirst()
            switch outcome {
            case let .response(bytes): output.append(contentsOf: bytes)
            case .silent: break
            case let .close(reason):
                flush()
                close(reason: reason)
                return
            }
        }
        flush()
        if readingPaused && slots.count < server.config.inFlightMax / 2 {
            pauseReading(false)
            readAvailable()
        }
    }

    private func flush() {
        while !isClosed, outputStart < output.count {
            let count = output.withUnsafeBytes { write(fd, $0.baseAddress! + outputStart, $0.count - outputStart) }
            if count > 0 {
                outputStart += count
                lastActivity = Date()
            } else if count < 0 && errno == EINTR {
                continue
            } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else {
                close(reason: nil)
                return
            }
        }
        if outputStart == output.count {
            output.removeAll(keepingCapacity: output.capacity <= 1 << 20)
            outputStart = 0
        }
        updateInterest()
    }

    private func pauseReading(_ paused: Bool) {
        readingPaused = paused
        updateInterest()
    }

    private func updateInterest() {
        guard !isClosed else { return }
        var events: UInt32 = readingPaused ? 0 : SPOOL_EVENT_READ
        if outputStart < output.count { events |= SPOOL_EVENT_WRITE }
        loop.change(fd, events: events)
    }

    /// Closes an idle connection (nothing in flight, no bytes for the idle timeout).
    func closeIfIdle(now: Date) {
        guard slots.isEmpty, now.timeIntervalSince(lastActivity) * 1000 > Double(server.config.idleTimeoutMs) else { return }
        close(reason: "idle for more than \(server.config.idleTimeoutMs) ms")
    }

    func close(reason: String?) {
        guard !isClosed else { return }
        isClosed = true
        if let reason { ServerLog.info("closing connection from \(peer): \(reason)") }
        loop.unregister(fd)
        Glibc.close(fd)
        loop.connections.removeValue(forKey: id)
        server.connectionClosed()
    }
}
