/// A strict parser of HTTP/1.x request heads (RFC 9112), fed the bytes read so far. It accepts
/// only what the RFC allows and refuses the rest with the status to answer: CRLF line endings
/// (no bare LF), origin-form targets, token methods and header names, no whitespace before a
/// header's colon, no obsolete line folding, no control characters in values, one
/// Content-Length and no Transfer-Encoding (bodies are sized up front). Requests that could be
/// read two ways by two parsers (request smuggling) are refused rather than guessed at.
public enum HTTPParser {
    /// Why a request was refused, with the status to answer it with.
    public struct Failure: Error, Equatable, Sendable {
        /// The status to answer with (400, 413, 431, 505).
        public var status: Int
        /// What was wrong, for the client.
        public var message: String

        init(_ status: Int, _ message: String) {
            self.status = status
            self.message = message
        }
    }

    /// What a buffer holds.
    public enum Outcome: Equatable, Sendable {
        /// Not a whole request head yet.
        case incomplete
        /// A valid head whose body has not all arrived (`body` is empty).
        case needsBody(HTTPRequest)
        /// A request, and how many bytes of the buffer it took (head and body).
        case request(HTTPRequest, consumed: Int)
    }

    /// Limits on what one request may hold.
    public struct Limits: Sendable {
        /// Bytes of the request line and headers, CRLFs included; more gets 431.
        public var headerBytesMax = 16 << 10
        /// Header fields; more gets 431.
        public var headerCountMax = 100
        /// Bytes of a body; a larger Content-Length gets 413.
        public var bodyBytesMax = 1 << 20

        public init() {}
    }

    /// A valid request head (its `body` empty) and where its body lies.
    public struct Head: Equatable, Sendable {
        public var request: HTTPRequest
        /// Bytes of the head, its closing blank line included: where the body starts.
        public var headBytes: Int
        /// Bytes of the body (its Content-Length, 0 without one).
        public var bodyBytes: Int
    }

    /// Parses the request at the start of `bytes`.
    public static func parse(_ bytes: ArraySlice<UInt8>, limits: Limits = Limits()) throws(Failure) -> Outcome {
        guard let head = try parseHead(bytes, limits: limits) else { return .incomplete }
        let bodyStart = bytes.startIndex + head.headBytes
        guard bytes.endIndex - bodyStart >= head.bodyBytes else { return .needsBody(head.request) }
        var request = head.request
        request.body = Array(bytes[bodyStart..<(bodyStart + head.bodyBytes)])
        return .request(request, consumed: head.headBytes + head.bodyBytes)
    }

    /// Parses the request head at the start of `bytes`; nil until it is whole. Its body is left
    /// to the caller, which need not parse the head again while the body arrives. The blank line
    /// that ends the head is looked for from `searchFrom` bytes in: a caller that found none in
    /// the bytes it had need not look at them again as more arrive.
    public static func parseHead(_ bytes: ArraySlice<UInt8>, limits: Limits = Limits(), searchFrom: Int = 0) throws(Failure) -> Head? {
        guard let headEnd = headEnd(bytes, within: limits.headerBytesMax, from: bytes.startIndex + searchFrom) else {
            if bytes.count > limits.headerBytesMax { throw Failure(431, "request line and headers exceed \(limits.headerBytesMax) bytes") }
            return nil
        }
        let head = bytes[bytes.startIndex..<headEnd]
        var lines = try splitLines(head)
        guard !lines.isEmpty else { throw Failure(400, "empty request") }
        var request = try requestLine(lines.removeFirst())
        guard lines.count <= limits.headerCountMax else { throw Failure(431, "more than \(limits.headerCountMax) header fields") }
        for line in lines { request.headers.append(try headerField(line)) }
        if request.minorVersion == 1 && request.headers.filter({ $0.name == "host" }).count != 1 {
            throw Failure(400, "an HTTP/1.1 request needs exactly one Host header")
        }
        if request.header("transfer-encoding") != nil { throw Failure(400, "Transfer-Encoding is not accepted; send Content-Length") }
        // Two, even alike, are refused (RFC 9112 allows merging alike ones; a proxy in front
        // that reads the first of them while this reads a merge is what smuggling is made of).
        let lengths = request.headers.filter { $0.name == "content-length" }.map(\.value)
        guard lengths.count <= 1 else { throw Failure(400, "more than one Content-Length header") }
        var bodyBytes = 0
        if let length = lengths.first {
            guard !length.isEmpty, length.utf8.count <= 18, length.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int(length) else {
                throw Failure(400, "Content-Length must be decimal digits")
            }
            guard value <= limits.bodyBytesMax else { throw Failure(413, "body of \(value) bytes exceeds \(limits.bodyBytesMax)") }
            bodyBytes = value
        }
        return Head(request: request, headBytes: headEnd + 4 - bytes.startIndex, bodyBytes: bodyBytes)
    }

    /// The index of the CRLFCRLF that ends the head, looked for in the first `limit` + 4 bytes.
    static func headEnd(_ bytes: ArraySlice<UInt8>, within limit: Int, from start: Int? = nil) -> Int? {
        let end = min(bytes.endIndex, bytes.startIndex + limit + 4)
        var index = max(bytes.startIndex, start ?? bytes.startIndex)
        while index + 3 < end {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }

    /// The head's lines; every line break must be CRLF.
    static func splitLines(_ head: ArraySlice<UInt8>) throws(Failure) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var index = head.startIndex
        while index < head.endIndex {
            switch head[index] {
            case 13:
                guard index + 1 < head.endIndex, head[index + 1] == 10 else { throw Failure(400, "a CR not followed by LF") }
                lines.append(head[start..<index])
                index += 2
                start = index
            case 10:
                throw Failure(400, "a bare LF line ending (CRLF is required)")
            default:
                index += 1
            }
        }
        lines.append(head[start..<head.endIndex])
        return lines
    }

    /// RFC 9110 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 48...57, 65...90, 97...122: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }

    static func requestLine(_ line: ArraySlice<UInt8>) throws(Failure) -> HTTPRequest {
        let parts = line.split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw Failure(400, "the request line must be METHOD TARGET VERSION, one space apart") }
        let (method, target, version) = (parts[0], parts[1], parts[2])
        guard !method.isEmpty, method.count <= 32, method.allSatisfy(isTokenByte) else { throw Failure(400, "malformed method") }
        // The version before the target: HTTP/2's preface (`PRI * HTTP/2.0`) has a target no
        // HTTP/1 request may, and is answered 505 like any other version not served.
        let minor: Int
        switch String(decoding: version, as: UTF8.self) {
        case "HTTP/1.1": minor = 1
        case "HTTP/1.0": minor = 0
        case let other where isVersion(other): throw Failure(505, "only HTTP/1.0 and HTTP/1.1 are served")
        default: throw Failure(400, "malformed HTTP version")
        }
        guard target.first == UInt8(ascii: "/"), target.count <= 8192, target.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw Failure(400, "the target must be a path starting with / in visible ASCII")
        }
        let targetText = String(decoding: target, as: UTF8.self)
        let pathPart = targetText.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard let path = percentDecoded(pathPart[0], plusIsSpace: false) else { throw Failure(400, "malformed percent-encoding in the path") }
        var query: [String: String] = [:]
        if pathPart.count == 2 {
            for pair in pathPart[1].split(separator: "&") {
                let nameValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = percentDecoded(nameValue[0], plusIsSpace: true),
                      let value = percentDecoded(nameValue.count == 2 ? nameValue[1] : "", plusIsSpace: true) else {
                    throw Failure(400, "malformed percent-encoding in the query")
                }
                if query[name] == nil { query[name] = value }
            }
        }
        return HTTPRequest(method: String(decoding: method, as: UTF8.self), target: targetText, path: path, query: query,
                           minorVersion: minor, headers: [], body: [])
    }

    /// `HTTP/D.D` (RFC 9112's HTTP-version) or `HTTP/D`, as HTTP/2 and HTTP/3 name themselves.
    static func isVersion(_ text: String) -> Bool {
        guard text.hasPrefix("HTTP/") else { return false }
        let digits = Array(text.utf8.dropFirst(5))
        func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
        switch digits.count {
        case 1: return isDigit(digits[0]) && digits[0] >= UInt8(ascii: "2")
        case 3: return isDigit(digits[0]) && digits[1] == UInt8(ascii: ".") && isDigit(digits[2])
        default: return false
        }
    }

    static func headerField(_ line: ArraySlice<UInt8>) throws(Failure) -> (name: String, value: String) {
        guard let first = line.first else { throw Failure(400, "an empty header line") }
        guard first != 32 && first != 9 else { throw Failure(400, "obsolete line folding in a header") }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw Failure(400, "a header without a colon") }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else { throw Failure(400, "malformed header name (no spaces before the colon)") }
        let value = line[(colon + 1)...]
        // field-vchar, SP and HTAB; obs-text (0x80...) is allowed as opaque bytes.
        guard value.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else { throw Failure(400, "a control character in a header value") }
        return (String(decoding: name, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self)[...].trimmingSpaces)
    }

    /// Percent-decodes `text` (and `+` as space in a query); nil when an escape is malformed or
    /// the result is not UTF-8.
    static func percentDecoded(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard iterator.count >= 2, let high = hexValue(iterator.removeFirst()), let low = hexValue(iterator.removeFirst()) else { return nil }
                bytes.append(high << 4 | low)
            } else if byte == UInt8(ascii: "+") && plusIsSpace {
                bytes.append(32)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }
}
