/// One parsed HTTP/1.x request: its head as the client sent it and its body.
public struct HTTPRequest: Sendable, Equatable {
    /// The method as sent (`GET`, `POST`, …; case matters).
    public var method: String
    /// The request target as sent (origin form: path and query, still percent-encoded).
    public var target: String
    /// The path, percent-decoded.
    public var path: String
    /// Query parameters, percent-decoded; a name given twice keeps its first value.
    public var query: [String: String]
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// Header fields in arrival order, names lowercased, values without surrounding whitespace.
    public var headers: [(name: String, value: String)]
    /// The body (`Content-Length` bytes; empty without one).
    public var body: [UInt8]

    /// The first value of a header (name in any case).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }

    /// Whether the connection stays open after the response (HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`).
    public var keepAlive: Bool {
        let tokens = (header("connection") ?? "").lowercased().split(separator: ",").map { $0.trimmingSpaces }
        return minorVersion == 1 ? !tokens.contains("close") : tokens.contains("keep-alive")
    }

    public static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.minorVersion == rhs.minorVersion && lhs.body == rhs.body
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
