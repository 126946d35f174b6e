import Foundation
import Glibc

/// A bare TCP client speaking Kafka frames, for tests that send what no real client would.
final class RawClient: @unchecked Sendable {
    // Safe to share: each test uses a client from one task at a time; the descriptor never changes.
    let fd: Int32

    /// `receiveBufferBytes`: a small socket receive buffer (set before connecting), for a client
    /// that reads slowly, so the server's writes fill the socket.
    init(port: Int, receiveBufferBytes: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBufferBytes { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw ProcessFailure("connect to \(port): errno \(errno)") }
    }

    deinit { close(fd) }

    /// Sends raw bytes.
    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return }
            sent += count
        }
    }

    /// Sends as much of `bytes` as the socket takes now, without waiting; returns the count sent.
    func sendWithoutWaiting(_ bytes: [UInt8]) -> Int {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if count <= 0 { break }
            sent += count
        }
        return sent
    }

    /// Sends one request frame (adds the size prefix).
    func send(frame: [UInt8]) {
        let size = UInt32(frame.count).bigEndian
        send(withUnsafeBytes(of: size) { Array($0) } + frame)
    }

    /// Reads one response frame (without its size), or nil when the server closed the connection
    /// (or nothing came within the receive timeout).
    func receive() -> [UInt8]? {
        guard let sizeBytes = read(4) else { return nil }
        let size = Int(UInt32(sizeBytes[0]) << 24 | UInt32(sizeBytes[1]) << 16 | UInt32(sizeBytes[2]) << 8 | UInt32(sizeBytes[3]))
        return read(size)
    }

    /// True when the server has closed the connection (a read returns end of file).
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }

    private func read(_ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + done, count - done, 0) }
            if got <= 0 { return nil }
            done += got
        }
        return bytes
    }
}

extension Array where Element == UInt8 {
    /// The correlation id at the start of a response frame.
    var correlationId: Int32 { Int32(bigEndian: withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }) }
    func int16(at offset: Int) -> Int16 { Int16(bigEndian: withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Int16.self) }) }
    func int32(at offset: Int) -> Int32 { Int32(bigEndian: withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Int32.self) }) }
}
