import Foundation
import Glibc
@testable import SpoolServer

/// A parsed HTTP response, as a test reads it off the socket.
struct HTTPReply {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:] }
    var jsonArray: [[String: Any]] { (try? JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]]) ?? [] }
    /// `error.status` of an error body.
    var errorStatus: Int? { (json["error"] as? [String: Any])?["status"] as? Int }
}

/// A blocking HTTP/1.1 client over one connection (with a 10 s receive timeout), for tests that
/// send what a browser would not.
final class HTTPTestClient: @unchecked Sendable {
    // Safe to share: used from one task at a time.
    let raw: RawClient
    private var buffer: [UInt8] = []

    init(port: Int) throws { raw = try RawClient(port: port) }

    func send(_ text: String) { raw.send(Array(text.utf8)) }

    /// Sends a request with the usual headers and reads its response.
    func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) -> HTTPReply? {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        send(head + "\r\n" + (body ?? ""))
        return readReply()
    }

    /// Reads one response (head and Content-Length body); nil if the connection ends first.
    func readReply() -> HTTPReply? {
        while true {
            if let end = HTTPParser.headEnd(buffer[...], within: 1 << 20) {
                let head = String(decoding: buffer[..<end], as: UTF8.self).components(separatedBy: "\r\n")
                let status = Int(head[0].split(separator: " ")[1]) ?? 0
                var headers: [String: String] = [:]
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                if buffer.count >= end + 4 + length {
                    let body = Array(buffer[(end + 4)..<(end + 4 + length)])
                    buffer.removeFirst(end + 4 + length)
                    return HTTPReply(status: status, headers: headers, body: body)
                }
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(raw.fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            buffer += chunk[0..<count]
        }
    }

    /// True when the server closes the connection (after any bytes still unread).
    func isClosedByPeer() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(raw.fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { return false }
        }
    }
}

/// One request on a connection of its own.
func httpRequest(port: UInt16, _ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) -> HTTPReply? {
    guard let client = try? HTTPTestClient(port: Int(port)) else { return nil }
    return client.request(method, path, body: body, headers: headers)
}

extension RawClient {
    /// Reads until the text received ends with `suffix` (or the connection ends or times out).
    func readAll(until suffix: String) -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).hasSuffix(suffix) {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += chunk[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
