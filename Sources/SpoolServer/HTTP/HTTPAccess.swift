/// Who may use the HTTP listener: a bearer token (or the same token as a basic-auth password)
/// when one is set, and for state-changing methods, requests from the console's own origin only.
public struct HTTPAccess: Sendable {
    /// The token every request but `/healthz` must carry; nil lets every request in.
    public var token: String?

    public init(token: String? = nil) { self.token = token }

    /// Whether `host` (an IPv4 address) is a loopback address: reachable from this machine only.
    public static func isLoopback(_ host: String) -> Bool { host.hasPrefix("127.") }

    /// nil when the request may go on; otherwise the response refusing it.
    func refusal(_ request: HTTPRequest, listeningOn listenHost: String) -> HTTPResponse? {
        // DNS rebinding: a page on another site can point its own name at 127.0.0.1 and then
        // read (and POST to) a tokenless loopback listener as its own origin. The Host header
        // still names that site, so a tokenless loopback listener answers loopback names only.
        if token == nil, Self.isLoopback(listenHost), request.path != "/healthz", !Self.namesLoopback(request.header("host") ?? "") {
            return .error(403, "this listener answers requests for 127.0.0.1 or localhost only (Host was '\(request.header("host") ?? "")')")
        }
        if let token, request.path != "/healthz", !carriesToken(request, token) {
            var response = HTTPResponse.error(401, "this listener needs a token: Authorization: Bearer TOKEN (or basic auth with the token as password)")
            response.headers.append(("WWW-Authenticate", "Basic realm=\"spool\", charset=\"UTF-8\""))
            return response
        }
        if request.method != "GET" && request.method != "HEAD" && !isSameOrigin(request) {
            return .error(403, "a state-changing request must come from the console's own origin")
        }
        return nil
    }

    /// Whether a Host header names this machine by a loopback address or `localhost`.
    static func namesLoopback(_ host: String) -> Bool {
        var name = Substring(host.lowercased())
        if name.hasPrefix("[") {
            return name.hasPrefix("[::1]") && (name.count == 5 || name.dropFirst(5).first == ":")
        }
        if let colon = name.lastIndex(of: ":") {
            guard name[name.index(after: colon)...].allSatisfy(\.isNumber) else { return false }
            name = name[..<colon]
        }
        if name == "localhost" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    private func carriesToken(_ request: HTTPRequest, _ token: String) -> Bool {
        guard let authorization = request.header("authorization") else { return false }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return false }
        switch parts[0].lowercased() {
        case "bearer":
            return Self.constantTimeEqual(Array(parts[1].utf8), Array(token.utf8))
        case "basic":
            guard let decoded = Base64.decode(String(parts[1])), let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return false }
            return Self.constantTimeEqual(Array(decoded[(colon + 1)...]), Array(token.utf8))
        default:
            return false
        }
    }

    /// A browser names the page's origin in `Origin` on every cross-origin POST and says where a
    /// request came from in `Sec-Fetch-Site`; a request without either (curl, scripts) is not a
    /// forged browser request.
    private func isSameOrigin(_ request: HTTPRequest) -> Bool {
        if let site = request.header("sec-fetch-site"), site != "same-origin" && site != "none" { return false }
        guard let origin = request.header("origin") else { return true }
        guard let host = request.header("host") else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
        return difference == 0
    }
}

/// Standard base64 (RFC 4648, with padding).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = (UInt32(bytes[index]) << 16) | (index + 1 < bytes.count ? UInt32(bytes[index + 1]) << 8 : 0)
                | (index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0)
            out.append(alphabet[Int(chunk >> 18 & 63)])
            out.append(alphabet[Int(chunk >> 12 & 63)])
            out.append(index + 1 < bytes.count ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(chunk & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            var chunk: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let byte = bytes[index + offset]
                if byte == UInt8(ascii: "=") && index + 4 == bytes.count && offset >= 2 {
                    padding += 1
                    chunk <<= 6
                } else if padding == 0, let value = alphabet.firstIndex(of: byte) {
                    chunk = chunk << 6 | UInt32(value)
                } else {
                    return nil
                }
            }
            out.append(UInt8(chunk >> 16 & 255))
            if padding < 2 { out.append(UInt8(chunk >> 8 & 255)) }
            if padding < 1 { out.append(UInt8(chunk & 255)) }
            index += 4
        }
        return out
    }
}
