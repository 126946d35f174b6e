import Dispatch
import SpoolSystem

/// One HTTP client connection, touched only on its server's loop thread: reads a request,
/// answers it, and reads the next (keep-alive) or closes.
final class HTTPConnection {
    private enum Phase {
        /// Waiting for (the rest of) a request.
        case reading
        /// A request is being answered; nothing more is read until its response is out.
        case answering
        /// The response is being written; close once it is out.
        case closing
    }

    let id: UInt64
    /// The socket's number: the key of its epoll registration. The socket itself is `socket`.
    private let descriptor: Int32
    private var socket: FileDescriptor?
    private unowned let server: HTTPServer
    private var input: HTTPRequestReader
    private var output: [UInt8] = []
    private var outputStart = 0
    private var phase = Phase.reading
    private var keepAlive = true
    private var lastActivityNs = DispatchTime.now().uptimeNanoseconds
    /// When the first byte of the request under way arrived.
    private var requestStartNs: UInt64?
    private var isClosed = false

    init(id: UInt64, socket: consuming FileDescriptor, server: HTTPServer) {
        self.id = id
        descriptor = socket.rawValue
        self.socket = consume socket
        self.server = server
        input = HTTPRequestReader(limits: server.config.limits)
    }

    func start() {
        do { try server.loop.register(descriptor, events: .readable) { [weak self] events in self?.handle(events) } } catch {
            close()
        }
    }

    private func handle(_ events: IOEvents) {
        if events.contains(.readable) && phase == .reading { readAvailable() }
        if !isClosed, events.contains(.writable) { flush() }
        if !isClosed, events.contains(.error) { close() }
        if !isClosed, events.contains(.hangup), !events.contains(.readable) { close() }
    }

    /// Runs `body` on the socket while it is open; nil once it is closed.
    private func withSocket<R>(_ body: (borrowing FileDescriptor) throws -> R) rethrows -> R? {
        switch socket {
        case let open?: try body(open)
        case nil: nil
        }
    }

    private func readAvailable() {
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        let bufferMax = server.config.limits.headerBytesMax + server.config.limits.bodyBytesMax + 4
        while !isClosed && phase == .reading && input.buffered.count <= bufferMax {
            let result: Int?
            do { result = try chunk.withUnsafeMutableBytes { buffer in try withSocket { try $0.read(into: buffer) } } ?? 0 } catch {
                return close()
            }
            guard let count = result else { break }  // nothing more to read now
            if count > 0 {
                if input.buffered.isEmpty { requestStartNs = DispatchTime.now().uptimeNanoseconds }
                input.append(chunk[0..<count])
                lastActivityNs = DispatchTime.now().uptimeNanoseconds
                parse()
                if count < chunk.count { break }
            } else {
                close()
            }
        }
    }

    /// Takes the next whole request from the input, if there is one, and answers it.
    private func parse() {
        guard phase == .reading else { return }
        let request: HTTPRequest
        do throws(HTTPParser.Failure) {
            switch try input.next() {
            case .incomplete:
                return
            case let .head(head):
                return awaitBody(head)
            case let .request(parsed):
                request = parsed
            }
        } catch {
            return finish(.error(error.status, error.message), keepAlive: false, includeBody: true)
        }
        requestStartNs = input.buffered.isEmpty ? nil : DispatchTime.now().uptimeNanoseconds
        phase = .answering
        updateInterest()
        let keepAlive = request.keepAlive
        let includeBody = request.method != "HEAD"
        if let refusal = server.config.access.refusal(request, listeningOn: server.config.host) {
            return finish(refusal, keepAlive: false, includeBody: includeBody)
        }
        switch server.handler.handle(request) {
        case let .now(response):
            finish(response, keepAlive: keepAlive, includeBody: includeBody)
        case let .later(work):
            let (loop, state, id) = (server.loop, server.state, self.id)
            Task {
                let response = await work()
                loop.submit { state.connections[id]?.finish(response, keepAlive: keepAlive, includeBody: includeBody) }
            }
        }
    }

    /// A head whose body is still coming: refused at once if the access rules refuse it (no
    /// need to read a body that will not be used), and answered `100 Continue` when the client
    /// waits for that before sending the body (curl does, for bodies over 1 KiB).
    private func awaitBody(_ head: HTTPRequest) {
        if let refusal = server.config.access.refusal(head, listeningOn: server.config.host) {
            input.removeAll()
            return finish(refusal, keepAlive: false, includeBody: head.method != "HEAD")
        }
        if head.header("expect")?.lowercased() == "100-continue" {
            output.append(contentsOf: Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            flush()
        }
    }

    /// Queues a response; the connection reads on after it (keep-alive) or closes.
    private func finish(_ response: HTTPResponse, keepAlive requested: Bool, includeBody: Bool) {
        guard !isClosed else { return }
        // An error answer closes the connection: what follows a bad request cannot be trusted to
        // start where the server thinks it does.
        keepAlive = requested && response.status < 400
        output.append(contentsOf: response.serialized(keepAlive: keepAlive, includeBody: includeBody))
        phase = keepAlive ? .answering : .closing
        flush()
    }

    private func flush() {
        while !isClosed, outputStart < output.count {
            let start = outputStart
            let result: Int?
            do { result = try output.withUnsafeBytes { bytes in try withSocket { try $0.write(UnsafeRawBufferPointer(rebasing: bytes[start...])) } } ?? 0 } catch {
                return close()
            }
            guard let count = result else { break }  // the socket takes no more now
            guard count > 0 else { return close() }
            outputStart += count
            lastActivityNs = DispatchTime.now().uptimeNanoseconds
        }
        guard !isClosed else { return }
        if outputStart == output.count {
            output.removeAll(keepingCapacity: output.capacity <= 64 << 10)
            outputStart = 0
            switch phase {
            case .closing:
                return close()
            case .answering where output.isEmpty && keepAlive:
                // The response is out: the next request, perhaps already buffered, on the loop's
                // next turn. Taking it here would recurse once per pipelined request (thousands
                // of tiny requests in one buffer would overflow the stack) and let one client
                // hold the loop.
                phase = .reading
                updateInterest()
                let (state, id) = (server.state, self.id)
                server.loop.submit { state.connections[id]?.resume() }
                return
            default:
                break
            }
        }
        updateInterest()
    }

    /// Reads on after a response: the requests already buffered first.
    private func resume() {
        guard !isClosed, phase == .reading else { return }
        parse()
        if phase == .reading && !isClosed { readAvailable() }
    }

    private func updateInterest() {
        guard !isClosed else { return }
        var events: IOEvents = phase == .reading ? .readable : []
        if outputStart < output.count { events.insert(.writable) }
        do { try server.loop.change(descriptor, events: events) } catch { close() }
    }

    /// Closes the connection if it has been idle too long, or answers 408 if its request has been
    /// arriving for too long (called about once a second).
    func checkTimers(now: UInt64) {
        guard !isClosed else { return }
        let config = server.config
        if phase == .reading, let started = requestStartNs, now &- started > UInt64(config.requestTimeoutMs) * 1_000_000 {
            input.removeAll()
            return finish(.error(408, "the request did not arrive whole within \(config.requestTimeoutMs) ms"), keepAlive: false, includeBody: true)
        }
        // A request being answered is the handler's to finish; anything else idle goes.
        if phase != .answering || outputStart < output.count, now &- lastActivityNs > UInt64(config.idleTimeoutMs) * 1_000_000 {
            close()
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        server.loop.unregister(descriptor)
        socket.take()?.close()
        server.closed(self)
    }
}
