import Foundation
import Glibc
import SpoolWire
import Synchronization

/// One TCP connection to a Kafka-protocol broker. Requests are written under a lock and matched to
/// their responses by correlation id by a reader thread, so many requests can be in flight; the
/// broker answers them in order. A broken connection fails every pending request.
final class BrokerConnection: Sendable {
    private struct State {
        var pending: [Int32: CheckedContinuation<[UInt8], any Error>] = [:]
        var nextCorrelation: Int32 = 1
        var failure: ClientError?
    }

    let address: String
    private let fd: Int32
    private let clientId: String
    private let state = Mutex(State())
    private let writeLock = Mutex(())

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
        var timeout = timeval(tv_sec: timeoutMs / 1000, tv_usec: Int((timeoutMs % 1000) * 1000))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            close(fd)
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

    /// Sends a request and waits for its response frame (header and body, without the size).
    func request<Request: KafkaRequest>(_ request: Request, version: Int16) async throws(ClientError) -> [UInt8] {
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
                let correlation: Int32? = state.withLock { state in
                    if state.failure != nil { return nil }
                    let id = state.nextCorrelation
                    state.nextCorrelation = id == Int32.max ? 1 : id + 1
                    state.pending[id] = continuation
                    return id
                }
                guard let correlation else {
                    continuation.resume(throwing: state.withLock { $0.failure } ?? .closed)
                    return
                }
                if let error = write(Frames.request(request, version: version, correlationId: correlation, clientId: clientId)) { fail(error) }
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw .connection(String(describing: error))
        }
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
                guard size >= 4 else {
                    fail(.protocolError("response frame of \(size) bytes"))
                    return
                }
                guard buffer.count - start - 4 >= size else { break }
                let correlation = Int32(bigEndian: buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: start + 4, as: Int32.self) })
                let frame = Array(buffer[(start + 4)..<(start + 4 + size)])
                start += 4 + size
                state.withLock { $0.pending.removeValue(forKey: correlation) }?.resume(returning: frame)
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
        for continuation in pending { continuation.resume(throwing: error) }
        shutdown(fd, Int32(SHUT_RDWR))
    }
}
