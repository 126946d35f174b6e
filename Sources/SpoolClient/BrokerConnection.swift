import Foundation
import Glibc
import SpoolSystem
import SpoolWire
import Synchronization

/// One TCP connection to a Kafka-protocol broker. Requests are written under a lock and matched to
/// their responses by correlation id by a reader thread, so many requests can be in flight; the
/// broker answers them in order. A broken connection fails every pending request, and so does a
/// request that gets no answer in its time: the connection is dropped, as Kafka's clients do, since
/// a broker that did not answer one request will not answer the ones queued behind it.
final class BrokerConnection: Sendable {
    private struct Pending {
        var completion: @Sendable (Result<[UInt8], ClientError>) -> Void
        /// Drops the connection if no answer comes in time; cancelled when one does.
        var deadline: DeadlineTimer?
    }

    private struct State {
        var pending: [Int32: Pending] = [:]
        var nextCorrelation: Int32 = 1
        var failure: ClientError?
    }

    /// The largest response frame taken (librdkafka's `receive.message.max.bytes` is 100 MB): a
    /// larger size field is a broken or hostile peer, not an answer to buffer.
    static let responseBytesMax = 256 << 20

    let address: String
    private let fd: Int32
    private let clientId: String
    private let state = Mutex(State())
    private let writeLock = Mutex(())
    /// Request deadlines armed and not yet settled (fired, or cancelled by the answer or a failure).
    let armedDeadlines = Atomic(0)
    /// The versions the broker serves by API key (from ApiVersions, asked once per connection).
    let served = Mutex<[Int16: ClosedRange<Int16>]?>(nil)

    /// Connects (with `timeoutMs`) to HOST:PORT.
    init(host: String, port: Int32, clientId: String, timeoutMs: Int = 10_000) throws(ClientError) {
        address = "\(host):\(port)"
        self.clientId = clientId
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw .connection("cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { throw .connection("socket: errno \(errno)") }
        // On Linux SO_SNDTIMEO bounds connect() as well as each send().
        var timeout = timeval(tv_sec: timeoutMs / 1000, tv_usec: Int((timeoutMs % 1000) * 1000))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            close(fd)
            if code == EINPROGRESS || code == EAGAIN || code == ETIMEDOUT {
                throw .timeout("connecting to \(host):\(port) (\(timeoutMs) ms)")
            }
            throw .connection("\(host):\(port): \(String(cString: strerror(code)))")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
        let thread = Thread { [self] in readLoop() }
        thread.name = "spool-client-\(host):\(port)"
        thread.start()
    }

    deinit { close(fd) }

    var isBroken: Bool { state.withLock { $0.failure != nil } }

    /// Sends a request and waits for its response frame (header and body, without the size), at
    /// most `timeoutMs`: then the connection is dropped and the request fails with `.timeout`.
    func request<Request: KafkaRequest>(_ request: Request, version: Int16, timeoutMs: Int) async throws(ClientError) -> [UInt8] {
        let result = await withCheckedContinuation { continuation in
            start(request, version: version, timeoutMs: timeoutMs) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Writes a request now (so requests started one after another go out in that order) and
    /// calls `completion` with its response frame, or with the failure: the connection broke, or
    /// no answer came in `timeoutMs` (then the connection is dropped).
    func start<Request: KafkaRequest>(_ request: Request, version: Int16, timeoutMs: Int,
                                      completion: @escaping @Sendable (Result<[UInt8], ClientError>) -> Void) {
        let correlation: Int32? = state.withLock { state in
            if state.failure != nil { return nil }
            let id = state.nextCorrelation
            state.nextCorrelation = id == Int32.max ? 1 : id + 1
            state.pending[id] = Pending(completion: completion)
            return id
        }
        guard let correlation else {
            completion(.failure(state.withLock { $0.failure } ?? .closed))
            return
        }
        if let error = write(Frames.request(request, version: version, correlationId: correlation, clientId: clientId)) {
            fail(error)
            return
        }
        let what = "\(Request.apiKey.name) v\(version) to \(address): no answer in \(timeoutMs) ms"
        armedDeadlines.add(1, ordering: .relaxed)
        let deadline = DeadlineTimer(deadline: .now() + .milliseconds(timeoutMs), settled: { [weak self] in
            self?.armedDeadlines.subtract(1, ordering: .relaxed)
        }) { [weak self] in self?.fail(.timeout(what)) }
        // The answer may have come already (then the timer goes); a failure cancels it with the rest.
        let kept = state.withLock { state -> Bool in
            guard state.pending[correlation] != nil else { return false }
            state.pending[correlation]?.deadline = deadline
            return true
        }
        if !kept { deadline.cancel() }
    }

    /// Sends a request the broker does not answer (Produce with acks=0).
    func send<Request: KafkaRequest>(_ request: Request, version: Int16) throws(ClientError) {
        let correlation = state.withLock { state -> Int32 in
            defer { state.nextCorrelation = state.nextCorrelation == Int32.max ? 1 : state.nextCorrelation + 1 }
            return state.nextCorrelation
        }
        if let error = write(Frames.request(request, version: version, correlationId: correlation, clientId: clientId)) {
            fail(error)
            throw error
        }
    }

    private func write(_ bytes: [UInt8]) -> ClientError? {
        writeLock.withLock { _ in
            var sent = 0
            while sent < bytes.count {
                let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return .connection("\(address): send failed (errno \(errno))") }
                sent += count
            }
            return nil
        }
    }

    private func readLoop() {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                fail(.connection("\(address): connection closed"))
                return
            }
            buffer += chunk[0..<count]
            var start = 0
            while buffer.count - start >= 8 {
                let size = Int(Int32(bigEndian: buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: start, as: Int32.self) }))
                guard size >= 4, size <= Self.responseBytesMax else {
                    fail(.protocolError("response frame of \(size) bytes (at most \(Self.responseBytesMax))"))
                    return
                }
                guard buffer.count - start - 4 >= size else { break }
                let correlation = Int32(bigEndian: buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: start + 4, as: Int32.self) })
                let frame = Array(buffer[(start + 4)..<(start + 4 + size)])
                start += 4 + size
                if let answered = state.withLock({ $0.pending.removeValue(forKey: correlation) }) {
                    answered.deadline?.cancel()
                    answered.completion(.success(frame))
                }
            }
            if start > 0 { buffer.removeFirst(start) }
        }
    }

    /// Fails every pending request and marks the connection broken.
    func fail(_ error: ClientError) {
        let pending = state.withLock { state in
            if state.failure == nil { state.failure = error }
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for request in pending {
            request.deadline?.cancel()
            request.completion(.failure(error))
        }
        shutdown(fd, Int32(SHUT_RDWR))
    }
}
