import Foundation
import Glibc
import SpoolWire

/// A blocking Kafka-protocol connection for the wire benchmark: frames out, frames back.
final class WireClient {
    let fd: Int32
    private var correlation: Int32 = 0
    private var buffer: [UInt8] = []
    private var start = 0

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port.bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw UsageError("cannot connect to 127.0.0.1:\(port): errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Sends `request` at `version` (header v1 or v2 as the version needs).
    func send<Request: KafkaRequest>(_ request: Request, version: Int16) throws {
        correlation += 1
        let frame = Frames.request(request, version: version, correlationId: correlation, clientId: "spool-bench")
        var sent = 0
        while sent < frame.count {
            let count = frame.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw UsageError("send failed: errno \(errno)") }
            sent += count
        }
    }

    /// The next response, decoded as the answer to a `Request` at `version`.
    func receive<Request: KafkaRequest>(_ request: Request.Type, version: Int16) throws -> Request.Response {
        try Frames.decodeResponse(try receiveFrame(), to: request, version: version)
    }

    /// The next response frame (header and body, without the size).
    private func receiveFrame() throws -> [UInt8] {
        while true {
            if buffer.count - start >= 4 {
                let size = Int(Int32(bigEndian: buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: start, as: Int32.self) }))
                if buffer.count - start - 4 >= size {
                    let body = Array(buffer[(start + 4)..<(start + 4 + size)])
                    start += 4 + size
                    if start > 1 << 22 {
                        buffer.removeFirst(start)
                        start = 0
                    }
                    return body
                }
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw UsageError("connection closed by the server") }
            buffer += chunk[0..<count]
        }
    }
}
