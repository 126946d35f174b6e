import Testing
@testable import SpoolServer

/// A connection's reader parses each request head once, however its body trickles in: a head
/// parsed again for every body byte let a slow client keep the HTTP loop busy.
struct HTTPRequestReaderTests {
    /// A head of about 15 KiB (just under the 16 KiB limit) announcing `bodyBytes`.
    private func bigHead(bodyBytes: Int) -> [UInt8] {
        var text = "POST /api/v1/things HTTP/1.1\r\nHost: h\r\n"
        for index in 0..<30 { text += "X-Padding-\(index): \(String(repeating: "p", count: 500))\r\n" }
        text += "Content-Length: \(bodyBytes)\r\n\r\n"
        return Array(text.utf8)
    }

    @Test func parsesAHeadOnceWhileItsBodyArrivesAByteAtATime() throws {
        let body = (0..<4_000).map { UInt8(truncatingIfNeeded: $0) }
        let next = Array("GET /next HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        var reader = HTTPRequestReader(limits: .init())
        reader.append(bigHead(bodyBytes: body.count)[...])
        guard case let .head(head) = try reader.next() else { Issue.record("the head alone is not told as a head"); return }
        #expect(head.path == "/api/v1/things")
        var outcomes: [HTTPRequestReader.Next] = []
        for byte in body.dropLast() {
            reader.append([byte][...])
            outcomes.append(try reader.next())
        }
        #expect(outcomes.allSatisfy { $0 == .incomplete })
        reader.append([body.last!] + next[...])
        guard case let .request(request) = try reader.next() else { Issue.record("the whole body is not a request"); return }
        #expect(request.body == body)
        #expect(reader.headParses == 1)
        guard case let .request(second) = try reader.next() else { Issue.record("the pipelined request is not read"); return }
        #expect(second.path == "/next")
        #expect(reader.headParses == 2)
        #expect(reader.buffered.isEmpty)
        #expect(try reader.next() == .incomplete)
    }

    @Test func looksAtEachByteOfAHeadTrickledAByteAtATimeOnceOnly() throws {
        let head = bigHead(bodyBytes: 0)
        var reader = HTTPRequestReader(limits: .init())
        for byte in head.dropLast() {
            reader.append([byte][...])
            #expect(try reader.next() == .incomplete)
        }
        reader.append([head.last!][...])
        guard case let .request(request) = try reader.next() else { Issue.record("the whole head is not a request"); return }
        #expect(request.path == "/api/v1/things")
        // Each byte once, and the three before the newest again (a CRLFCRLF may end in it).
        #expect(reader.headBytesSearched <= 4 * head.count, "\(reader.headBytesSearched) bytes looked at for a head of \(head.count)")
        #expect(reader.headParses == 1)
    }

    @Test func refusesAHeadOverTheLimitTrickledAByteAtATime() throws {
        var limits = HTTPParser.Limits()
        limits.headerBytesMax = 64
        var reader = HTTPRequestReader(limits: limits)
        let text = Array("GET / HTTP/1.1\r\nHost: h\r\nX-Long: \(String(repeating: "x", count: 100))".utf8)
        var failure: HTTPParser.Failure?
        for byte in text where failure == nil {
            reader.append([byte][...])
            do { _ = try reader.next() } catch { failure = error }
        }
        #expect(failure?.status == 431)
    }

    @Test func refusesAnOversizeBodyFromItsHeadAndStartsAfreshAfterRemoveAll() throws {
        var limits = HTTPParser.Limits()
        limits.bodyBytesMax = 100
        var reader = HTTPRequestReader(limits: limits)
        reader.append(Array("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n".utf8)[...])
        #expect(throws: HTTPParser.Failure(413, "body of 101 bytes exceeds 100")) { try reader.next() }
        reader.removeAll()
        reader.append(Array("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n".utf8)[...])
        guard case .head = try reader.next() else { Issue.record("a new head after removeAll is not told"); return }
        reader.append(Array("ok".utf8)[...])
        guard case let .request(request) = try reader.next() else { Issue.record("the body is not taken"); return }
        #expect(request.body == Array("ok".utf8))
    }
}
