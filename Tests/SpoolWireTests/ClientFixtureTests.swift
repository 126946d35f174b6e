import Foundation
import SpoolWire
import Testing

/// The codec against what real clients send: request frames recorded from kcat, confluent-kafka,
/// kafka-python and aiokafka talking to `spool serve`, and spool's responses to them, kept in
/// `Fixtures/<client>/` (recorded by `Tests/Fixtures/capture.py`; docs/protocol.md, "Codec
/// fixtures"). Every request decodes with the decoder the server uses and encodes back to the bytes
/// the client sent; every response decodes with its API's response type and encodes back to the
/// bytes spool sent.
@Suite struct ClientFixtureTests {
    struct Fixture: Sendable, CustomTestStringConvertible {
        var client: String
        var name: String          // "0007-Metadata-v12"
        var request: [UInt8]
        var response: [UInt8]?    // none for a Produce with acks=0
        var rejected = false      // spool closed the connection on this request (…-rejected-request.hex)
        var trailing = false      // bytes follow the body, which Kafka ignores (…-trailing-request.hex)

        var testDescription: String { "\(client)/\(name)\(rejected ? " (rejected)" : "")" }
        /// "client/Api-vN".
        var key: String { "\(client)/" + (name.split(separator: "-", maxSplits: 1).last.map(String.init) ?? name) }
    }

    static let clients = ["kcat", "confluent-kafka", "kafka-python", "aiokafka"]
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let fixtures: [Fixture] = load()

    /// Requests a client encodes differently from the codec's canonical encoding, though legitimately,
    /// keyed "client/Api-vN": for these the request must decode, and its re-encoding must decode to
    /// the same request.
    static let nonCanonicalRequests: [String: String] = [:]

    /// Requests spool answered by closing the connection, keyed "client/Api-vN", with the decoder's
    /// reason: the test holds the reason, so a change in how they are treated is seen here.
    static let rejectedRequests: [String: (reason: String, why: String)] = [:]

    /// Requests with bytes after their body, keyed "client/Api-vN", and why the client sends them.
    /// Kafka ignores such bytes, and so does `DecodedRequest`.
    static let trailingRequests: [String: String] = [
        "confluent-kafka/Metadata-v12": """
            librdkafka 2.16.0 (confluentinc/librdkafka#5049, fix proposed in #5053) writes the null \
            topic array of an all-topics Metadata request at v9+ as the 4-byte placeholder it reserves \
            for the count, 00 00 00 00, instead of the 1-byte compact length 00: the body is \
            00000000 01 00 00 where 00 00 00 00 is meant. Read as the schema says that is Topics=null, \
            AllowAutoTopicCreation=false, IncludeTopicAuthorizedOperations=false, no tagged fields, \
            then 3 bytes left over (01 00 00), which Kafka ignores: it answers with every topic.
            """,
    ]

    static func load() -> [Fixture] {
        var fixtures: [Fixture] = []
        for client in clients {
            let folder = directory.appendingPathComponent(client)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
            for file in names where file.hasSuffix("-request.hex") {
                let stem = String(file.dropLast("-request.hex".count))
                guard let request = hex(folder.appendingPathComponent(file)) else { continue }
                if stem.hasSuffix("-trailing") {
                    fixtures.append(Fixture(client: client, name: String(stem.dropLast("-trailing".count)), request: request,
                                            response: nil, trailing: true))
                    continue
                }
                if stem.hasSuffix("-rejected") {
                    fixtures.append(Fixture(client: client, name: String(stem.dropLast("-rejected".count)), request: request,
                                            response: nil, rejected: true))
                } else {
                    fixtures.append(Fixture(client: client, name: stem, request: request,
                                            response: hex(folder.appendingPathComponent(stem + "-response.hex"))))
                }
            }
        }
        return fixtures
    }

    /// The bytes of a hex file (whitespace ignored), nil if it is missing or not hex.
    static func hex(_ url: URL) -> [UInt8]? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        let digits = Array(text.utf8.filter { ![UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains($0) })
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    static func apiAndVersion(_ frame: [UInt8]) -> (ApiKey, Int16)? {
        guard frame.count >= 4, let api = ApiKey(rawValue: Int16(frame[0]) << 8 | Int16(frame[1])) else { return nil }
        return (api, Int16(frame[2]) << 8 | Int16(frame[3]))
    }

    /// Where two encodings first differ, for failure messages.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        let index = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        func around(_ bytes: [UInt8]) -> String {
            bytes[max(0, index - 8)..<min(bytes.count, index + 16)].map { String(format: "%02x", $0) }.joined()
        }
        return "\(a.count) vs \(b.count) bytes; first difference at byte \(index): captured …\(around(a))… re-encoded …\(around(b))…"
    }

    @Test func everyClientHasFixtures() {
        for client in Self.clients {
            #expect(Self.fixtures.contains { $0.client == client }, "no fixtures for \(client) in \(Self.directory.path)")
        }
        #expect(Self.fixtures.contains { fixture in
            Self.apiAndVersion(fixture.request).map { api, version in api.flexibleFrom.map { version >= $0 } ?? false } ?? false
        }, "flexible versions are among the fixtures")
    }

    @Test(arguments: fixtures.filter { !$0.rejected && !$0.trailing })
    func requestReencodesToTheCapturedBytes(_ fixture: Fixture) throws {
        guard case let .success(decoded) = DecodedRequest.decode(fixture.request) else {
            Issue.record("\(fixture.testDescription) does not decode: \(DecodedRequest.decode(fixture.request))")
            return
        }
        let key = fixture.key
        #expect("\(fixture.client)/\(decoded.apiKey.name)-v\(decoded.version)" == key, "the file name matches the header")
        let body = try #require(decoded.body, "a version the codec knows")
        let header = decoded.header
        let encoded = Array(Frames.request(body.message, version: decoded.version, correlationId: header.correlationId,
                                           clientId: header.clientId).dropFirst(4))
        if Self.nonCanonicalRequests[key] != nil {
            guard case let .success(again) = DecodedRequest.decode(encoded) else {
                Issue.record("\(key): the re-encoding does not decode")
                return
            }
            #expect(again.body == decoded.body && again.header == decoded.header, "\(key): the re-encoding decodes to the same request")
        } else {
            #expect(encoded == fixture.request, "\(key): \(Self.firstDifference(fixture.request, encoded))")
        }
    }

    @Test(arguments: fixtures.filter(\.rejected))
    func rejectedRequestsAreTheKnownOnes(_ fixture: Fixture) throws {
        let known = try #require(Self.rejectedRequests[fixture.key], "\(fixture.key) is rejected: \(DecodedRequest.decode(fixture.request))")
        switch DecodedRequest.decode(fixture.request) {
        case .success: Issue.record("\(fixture.key) decodes now: move it to the other fixtures (\(known.why))")
        case let .failure(failure): #expect(failure.description == known.reason)
        }
    }

    @Test(arguments: fixtures.filter(\.trailing))
    func bytesAfterARequestBodyAreIgnoredAsKafkaIgnoresThem(_ fixture: Fixture) throws {
        #expect(Self.trailingRequests[fixture.key] != nil, "\(fixture.key) has bytes after its body: say why in trailingRequests")
        guard case let .success(decoded) = DecodedRequest.decode(fixture.request), let body = decoded.body else {
            Issue.record("\(fixture.key) does not decode")
            return
        }
        let encoded = Array(Frames.request(body.message, version: decoded.version, correlationId: decoded.header.correlationId,
                                           clientId: decoded.header.clientId).dropFirst(4))
        #expect(encoded.count < fixture.request.count, "the re-encoding leaves the extra bytes out")
        guard case let .success(again) = DecodedRequest.decode(encoded) else {
            Issue.record("\(fixture.key): the re-encoding does not decode")
            return
        }
        #expect(again.body == body)
    }

    /// librdkafka's all-topics Metadata request (see `trailingRequests`): what Kafka makes of it.
    @Test func librdkafkaAllTopicsMetadataReadsAsKafkaReadsIt() throws {
        let fixture = try #require(Self.fixtures.first { $0.trailing && $0.key == "confluent-kafka/Metadata-v12" })
        var reader = WireReader(fixture.request)
        let header = try RequestHeader(from: &reader, version: 2)
        #expect(header.requestApiKey == ApiKey.metadata.rawValue && header.requestApiVersion == 12 && header.clientId == "rdkafka")
        #expect(Array(fixture.request[reader.position...]) == [0, 0, 0, 0, 1, 0, 0], "a 4-byte count where a 1-byte one belongs")
        let request = try MetadataRequest(from: &reader, version: 12)
        #expect(request.topics == nil && !request.allowAutoTopicCreation && !request.includeTopicAuthorizedOperations)
        #expect(reader.remaining == 3)
        guard case let .success(decoded) = DecodedRequest.decode(fixture.request), case let .metadata(metadata)? = decoded.body else {
            Issue.record("the server's decoder refuses it")
            return
        }
        #expect(metadata.topics == nil, "an all-topics request, as Kafka answers it")
    }

    @Test(arguments: fixtures.filter { $0.response != nil })
    func responseReencodesToTheCapturedBytes(_ fixture: Fixture) throws {
        let (api, version) = try #require(Self.apiAndVersion(fixture.request))
        let response = try #require(fixture.response)
        let encoded = try Self.reencodeResponse(api.requestType, response, version: version)
        #expect(encoded == response, "\(fixture.testDescription) response: \(Self.firstDifference(response, encoded))")
    }

    /// Decodes a response frame (without its size prefix) as `Request.Response` at `version`, after
    /// the response header of that version, and encodes it again with the same correlation id.
    static func reencodeResponse<Request: KafkaRequest>(_ request: Request.Type, _ frame: [UInt8], version: Int16) throws -> [UInt8] {
        let body = try Frames.decodeResponse(frame, to: request, version: version)
        var reader = WireReader(frame)
        let header = try ResponseHeader(from: &reader, version: request.responseHeaderVersion(version))
        return Array(Frames.response(body, version: version, correlationId: header.correlationId,
                                     headerVersion: request.responseHeaderVersion(version)).dropFirst(4))
    }
}
