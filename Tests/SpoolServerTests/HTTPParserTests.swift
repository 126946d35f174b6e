import Testing
@testable import SpoolServer

/// The request parser takes what RFC 9112 allows and refuses the rest with the right status.
struct HTTPParserTests {
    private func parse(_ text: String, limits: HTTPParser.Limits = .init()) throws(HTTPParser.Failure) -> HTTPParser.Outcome {
        try HTTPParser.parse(Array(text.utf8)[...], limits: limits)
    }

    private func failure(_ text: String, limits: HTTPParser.Limits = .init()) -> HTTPParser.Failure? {
        do { _ = try parse(text, limits: limits) } catch { return error }
        return nil
    }

    @Test func parsesARequestWithQueryHeadersAndBody() throws {
        let text = "POST /api/v1/groups/a%2Fb/reset?x=1&name=a+b%21&x=2 HTTP/1.1\r\nHost: h\r\nX-Thing:  padded \t\r\nContent-Length: 4\r\n\r\nbodyNEXT"
        guard case let .request(request, consumed) = try parse(text) else { Issue.record("incomplete"); return }
        #expect(request.method == "POST")
        #expect(request.path == "/api/v1/groups/a/b/reset")
        #expect(request.query == ["x": "1", "name": "a b!"])
        #expect(request.header("x-thing") == "padded")
        #expect(request.header("HOST") == "h")
        #expect(request.body == Array("body".utf8))
        #expect(consumed == text.utf8.count - 4)
        #expect(request.keepAlive)
    }

    @Test func waitsForTheRestOfAHeadOrABody() throws {
        #expect(try parse("GET / HTTP/1.1\r\nHost: h\r\n") == .incomplete)
        guard case let .needsBody(head) = try parse("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nshort") else {
            Issue.record("a head without its whole body is not needsBody")
            return
        }
        #expect(head.path == "/x")
        #expect(head.body.isEmpty)
        #expect(try parse("") == .incomplete)
    }

    @Test func keepAliveFollowsTheVersionAndConnectionHeader() throws {
        func keepAlive(_ text: String) throws -> Bool? {
            guard case let .request(request, _) = try parse(text) else { return nil }
            return request.keepAlive
        }
        #expect(try keepAlive("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") == false)
        #expect(try keepAlive("GET / HTTP/1.0\r\n\r\n") == false)
        #expect(try keepAlive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") == true)
    }

    @Test(arguments: [
        ("GET /\r\nHost: h\r\n\r\n", 400),                              // no version
        ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),                    // two spaces
        ("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),                     // not a token
        ("GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),             // absolute form
        ("GET /a\u{7F} HTTP/1.1\r\nHost: h\r\n\r\n", 400),              // control byte in the target
        ("GET / HTTP/1.1\nHost: h\r\n\r\n", 400),                       // bare LF
        ("GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n", 400),      // space in a name
        ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),                    // space before the colon
        ("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  folded\r\n\r\n", 400), // obsolete folding
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{01}b\r\n\r\n", 400),      // control byte in a value
        ("GET / HTTP/1.1\r\n\r\n", 400),                                // HTTP/1.1 without Host
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),          // two Hosts
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", 400),  // two, even alike
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400),                  // bad escape
        ("GET /?a=%C3 HTTP/1.1\r\nHost: h\r\n\r\n", 400),               // not UTF-8
        ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        ("GET / HTTP/2\r\nHost: h\r\n\r\n", 505),
        ("GET / HTTP/3\r\nHost: h\r\n\r\n", 505),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),                  // the HTTP/2 connection preface
        ("GET / HTTP/1.2x\r\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/\r\nHost: h\r\n\r\n", 400),
        ("GET / HTTP/1\r\nHost: h\r\n\r\n", 400),
        ("PRI * HTTP/1.1\r\nHost: h\r\n\r\n", 400),                   // `*` is no origin-form target
        ("GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400),
        ("\r\n\r\n", 400),
    ])
    func refusesMalformedRequests(text: String, status: Int) {
        #expect(failure(text)?.status == status, "\(text.debugDescription)")
    }

    @Test func enforcesItsLimits() {
        var limits = HTTPParser.Limits()
        limits.headerBytesMax = 64
        limits.headerCountMax = 3
        limits.bodyBytesMax = 10
        // A head longer than the limit is refused before its end arrives.
        #expect(failure("GET /" + String(repeating: "a", count: 100), limits: limits)?.status == 431)
        #expect(failure("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: limits)?.status == 431)
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits: limits)?.status == 413)
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", limits: limits)?.status == 400)
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n", limits: limits) == nil)
    }

    @Test func refusesEveryTruncationOrByteFlipWithoutCrashing() {
        // Every prefix of a good request is incomplete or a request; every single-byte change is
        // parsed or refused with a 4xx/5xx, never a crash.
        let good = Array("POST /x?a=b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok".utf8)
        let headEnd = good.count - 2
        for end in 0..<good.count {
            let outcome = try? HTTPParser.parse(good[..<end])
            if end < headEnd { #expect(outcome == .incomplete) } else if case .needsBody = outcome {} else { Issue.record("\(end): \(String(describing: outcome))") }
        }
        for index in good.indices {
            for replacement: UInt8 in [0, 10, 13, 32, 58, 0xFF] {
                var bytes = good
                bytes[index] = replacement
                do { _ = try HTTPParser.parse(bytes[...]) } catch { #expect((400...505).contains(error.status)) }
            }
        }
    }

    @Test func base64RoundTripsAndRefusesGarbage() {
        for length in 0..<10 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 250) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("user:secret".utf8)) == "dXNlcjpzZWNyZXQ=")
        #expect(Base64.decode("abc") == nil)
        #expect(Base64.decode("a=bc") == nil)
        #expect(Base64.decode("ab!c") == nil)
    }
}
