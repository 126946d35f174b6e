import Foundation
import SpoolTestSupport
import Testing
@testable import SpoolJobs

/// The job payload decoder must answer as Foundation's JSONDecoder (set up as `JSONJobCoding`
/// sets it up) does: the same value, or an error of the same kind. Foundation is the oracle here;
/// `JSONTapeDecoding` is strict, and what it refuses goes to Foundation, so the cases that matter
/// are the ones it takes.
@Suite("JSON payload decoding matches Foundation's JSONDecoder")
struct JSONTapeDecoderTests {
    enum Colour: String, Codable, Equatable { case red, green }
    enum Shape: Codable, Equatable {
        case circle(radius: Double)
        case square(side: Int, label: String?)
        case none
    }

    struct Inner: Codable, Equatable {
        var name: String
        var tags: [String]
        var score: Double?
    }

    struct Everything: Codable, Equatable {
        var string: String
        var int: Int
        var int8: Int8
        var int16: Int16
        var int32: Int32
        var int64: Int64
        var uint: UInt
        var uint8: UInt8
        var uint16: UInt16
        var uint32: UInt32
        var uint64: UInt64
        var double: Double
        var float: Float
        var bool: Bool
        var optional: String?
        var missing: Int?
        var date: Date
        var data: Data
        var url: URL
        var decimal: Decimal
        var colour: Colour
        var shapes: [Shape]
        var inner: Inner
        var nested: [[Int]]
        var map: [String: Inner]
        var intMap: [Int: String]
        var set: Set<String>
    }

    static let foundation: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    enum Outcome<T: Equatable>: Equatable {
        case value(T)
        case error(String)
    }

    /// The value, or the error's kind.
    static func outcome<T: Codable & Equatable>(_ type: T.Type, _ bytes: [UInt8], foundation: Bool) -> Outcome<T> {
        do {
            return .value(foundation ? try Self.foundation.decode(type, from: Data(bytes)) : try JSONJobCoding().decode(type, from: bytes))
        } catch let error as DecodingError {
            let kind = switch error {
            case .dataCorrupted: "dataCorrupted"
            case .keyNotFound(let key, _): "keyNotFound \(key.stringValue)"
            case .typeMismatch: "typeMismatch"
            case .valueNotFound: "valueNotFound"
            @unknown default: "other"
            }
            return .error(kind)
        } catch {
            return .error("not a DecodingError: \(error)")
        }
    }

    static func expectSame<T: Codable & Equatable>(_ type: T.Type, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = Array(text.utf8)
        #expect(outcome(type, bytes, foundation: false) == outcome(type, bytes, foundation: true), "\(text)", sourceLocation: sourceLocation)
    }

    static let sample = Everything(
        string: "héllo \"wörld\"\n\t\\ / \u{1F600} \u{7}", int: -42, int8: -128, int16: 32767, int32: -2_147_483_648, int64: Int64.max,
        uint: 7, uint8: 255, uint16: 65535, uint32: 4_294_967_295, uint64: UInt64.max, double: 3.141592653589793, float: 1.1, bool: true,
        optional: nil, missing: nil, date: Date(timeIntervalSince1970: 1_796_184_720), data: Data([0, 1, 2, 250, 255]),
        url: URL(string: "https://example.com/a?b=c")!, decimal: Decimal(string: "12.345")!, colour: .green,
        shapes: [.circle(radius: 2.5), .square(side: 3, label: nil), .square(side: 4, label: "x"), .none],
        inner: Inner(name: "n", tags: ["a", "b"], score: 0.5), nested: [[1, 2], [], [3]],
        map: ["k": Inner(name: "m", tags: [], score: nil)], intMap: [1: "one", 22: "twenty-two"], set: ["s", "t"])

    @Test("a payload with every kind of value decodes to the same value")
    func roundTrip() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        for formatting: JSONEncoder.OutputFormatting in [[], [.sortedKeys], [.prettyPrinted, .withoutEscapingSlashes]] {
            encoder.outputFormatting = formatting
            let bytes = Array(try encoder.encode(Self.sample))
            #expect(try JSONTapeDecoding.decode(Everything.self, from: bytes) == Self.sample)
            #expect(try JSONJobCoding().decode(Everything.self, from: bytes) == Self.sample)
        }
    }

    struct Number<T: Codable & Equatable>: Codable, Equatable { var n: T }

    @Test("numbers: ranges, fractions, exponents, overflow and underflow are taken or refused as Foundation does")
    func numbers() {
        let texts = ["0", "-0", "1", "-1", "1.0", "1e2", "1E2", "1.5", "2.55e2", "01", "-", "1.", ".5", "1e", "1e+", "+1", "0e5", "-0.0", "0.000",
                     "1e-400", "-1e-400", "1e-320", "1e308", "2e308", "1e400", "1e39", "1e-40", "1e-50", "3.4028235e38", "3.5e38", "16777217",
                     "127", "128", "-128", "-129", "255", "256", "32767", "32768", "65535", "65536", "2147483647", "2147483648", "4294967295",
                     "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
                     "18446744073709551615", "18446744073709551616", "9.2e18", "1e19", "123456789012345678901234567890", "1.0e0", "0.1",
                     "\"1\"", "true", "null", "[1]", "{}"]
        for text in texts {
            let json = "{\"n\":\(text)}"
            Self.expectSame(Number<Int>.self, json)
            Self.expectSame(Number<Int8>.self, json)
            Self.expectSame(Number<Int16>.self, json)
            Self.expectSame(Number<Int32>.self, json)
            Self.expectSame(Number<Int64>.self, json)
            Self.expectSame(Number<UInt8>.self, json)
            Self.expectSame(Number<UInt16>.self, json)
            Self.expectSame(Number<UInt32>.self, json)
            Self.expectSame(Number<UInt64>.self, json)
            Self.expectSame(Number<UInt>.self, json)
            Self.expectSame(Number<Double>.self, json)
            Self.expectSame(Number<Float>.self, json)
            Self.expectSame(Number<Decimal>.self, json)
            Self.expectSame(Number<Bool>.self, json)
            Self.expectSame(Number<String>.self, json)
        }
    }

    @Test("a number too small for the type written without an exponent is refused, as with one; zeros are taken")
    func underflowWithoutExponent() {
        let tiny = "0." + String(repeating: "0", count: 400) + "1"
        for text in [tiny, "-" + tiny, "0." + String(repeating: "0", count: 46) + "1", "0." + String(repeating: "0", count: 400), "-0.000", "0e-999"] {
            let json = "{\"n\":\(text)}"
            Self.expectSame(Number<Double>.self, json)
            Self.expectSame(Number<Float>.self, json)
            #expect(Self.outcome(Number<Double>.self, Array(json.utf8), foundation: true) == Self.outcome(Number<Double>.self, Array(json.utf8), foundation: false))
        }
        // Foundation refuses these; the fast decoder took them as zero.
        #expect(throws: (any Error).self) { try JSONTapeDecoding.decode(Double.self, from: Array(tiny.utf8)) }
        #expect(throws: (any Error).self) { try JSONTapeDecoding.decode(Float.self, from: Array(("0." + String(repeating: "0", count: 46) + "1").utf8)) }
    }

    struct Accented: Codable, Equatable {
        var K: Int?
        var café: Int?
        var plain: Int?
    }

    @Test("keys are found as Foundation finds them, as Strings: canonically equivalent keys are the same key, the first of them wins")
    func canonicallyEquivalentKeys() throws {
        for text in ["{\"\u{212A}\":1}", "{\"cafe\u{301}\":1}", "{\"caf\u{E9}\":1}", "{\"cafe\u{301}\":1,\"caf\u{E9}\":2}",
                     "{\"caf\u{E9}\":1,\"cafe\u{301}\":2}", #"{"cafe\u0301":1,"café":2}"#, "{\"K\":1,\"\u{212A}\":2}", #"{"plain":1,"pla\u0069n":2}"#] {
            Self.expectSame(Accented.self, text)
            Self.expectSame([String: Int].self, text)
        }
        #expect(try JSONTapeDecoding.decode(Accented.self, from: Array("{\"\u{212A}\":1,\"cafe\u{301}\":2}".utf8)) == Accented(K: 1, café: 2))
    }

    /// A number read as an integer where it can be, else as a Double.
    enum IntegerFirst: Codable, Equatable {
        case integer(Int8), double(Double)

        init(from decoder: any Decoder) throws {
            let single = try decoder.singleValueContainer()
            if let integer = try? single.decode(Int8.self) { self = .integer(integer) } else { self = .double(try single.decode(Double.self)) }
        }

        func encode(to encoder: any Encoder) throws {}
    }

    @Test("a whole number written with a fraction or an exponent is an integer, as to Foundation, to a type that tries an integer first")
    func wholeNumbersWithFractions() throws {
        for text in ["1", "1.0", "1e2", "1E+2", "100.000", "-0.0", "0e0", "1.5", "1e-2", "127.0", "128.0", "-128e0", "-1.28e2", "3e2", "1e400", "12.5e1"] {
            Self.expectSame(IntegerFirst.self, text)
            Self.expectSame(Number<Int>.self, "{\"n\":\(text)}")
            Self.expectSame(Number<UInt8>.self, "{\"n\":\(text)}")
        }
        #expect(try JSONTapeDecoding.decode(IntegerFirst.self, from: Array("1e2".utf8)) == .integer(100))
        #expect(try JSONTapeDecoding.decode([UInt64].self, from: Array("[1.0,9007199254740991.0]".utf8)) == [1, 9_007_199_254_740_991])
    }

    @Test("strings: escapes, surrogate pairs, control characters and bad UTF-8")
    func strings() {
        let texts = [#""plain""#, #""\"\\\/\b\f\n\r\t""#, #""\u00e9\u0000""#, #""\ud83d\ude00""#, #""\ud83d""#, #""\ude00""#, #""\ud83dx""#,
                     #""\ud83d\u0041""#, #""\x""#, #""\u12""#, #""\u12G4""#, "\"a\u{7F}\"", "\"tab\there\"", "\"new\nline\"", "\"unterminated",
                     #""é""#, #""\u00""#]
        for text in texts {
            Self.expectSame(Number<String>.self, "{\"n\":\(text)}")
            Self.expectSame([String: String].self, "{\(text):\"v\"}")
        }
        var invalid = Array("{\"n\":\"".utf8)
        invalid += [0xFF, 0xC3]
        invalid += Array("\"}".utf8)
        #expect(Self.outcome(Number<String>.self, invalid, foundation: false) == Self.outcome(Number<String>.self, invalid, foundation: true))
    }

    @Test("strings read eight bytes at a time: a quote, an escape, a control character or a non-ASCII byte at every place of a string up to 40 bytes long")
    func stringsAcrossChunks() {
        let specials: [[UInt8]] = [Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\u00e9"#.utf8), [0x09], [0x1F], [0x7F], Array("é".utf8),
                                   Array("\u{1F600}".utf8), [0xC3], [0xFF], [0x80]]
        for length in 0...40 {
            for place in 0...length {
                for special in specials {
                    let contents = Array(repeating: UInt8(ascii: "a"), count: place) + special + Array(repeating: UInt8(ascii: "b"), count: length - place)
                    let bytes = Array("{\"n\":\"".utf8) + contents + Array("\"}".utf8)
                    let ours = Self.outcome(Number<String>.self, bytes, foundation: false)
                    #expect(ours == Self.outcome(Number<String>.self, bytes, foundation: true), "\(bytes)")
                    // The same bytes as a key.
                    let keyed = Array("{\"".utf8) + contents + Array("\":\"v\"}".utf8)
                    #expect(Self.outcome([String: String].self, keyed, foundation: false) == Self.outcome([String: String].self, keyed, foundation: true),
                            "\(keyed)")
                }
            }
            // No closing quote: the scan must stop at the end of the input.
            let open = Array("{\"n\":\"".utf8) + Array(repeating: UInt8(ascii: "a"), count: length)
            #expect(Self.outcome(Number<String>.self, open, foundation: false) == .error("dataCorrupted"))
        }
    }

    @Test("documents: whitespace, a byte-order mark, trailing text, nesting, duplicate keys, missing and null members")
    func documents() {
        let texts = [" {\"n\":1} ", "\u{FEFF}{\"n\":1}", "{\"n\":1}x", "{\"n\":1,}", "{\"n\":1 \"m\":2}", "{\"n\" 1}", "{n:1}", "{\"n\":1,\"n\":2}",
                     "{}", "{\"m\":1}", "{\"n\":null}", "[]", "", " ", "null", "{\"n\":[1,2,]}", "{\"n\":1}{", "{\"n\":tru}", "{\"n\":nul}",
                     String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
                     "{\"n\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"]
        for text in texts {
            Self.expectSame(Number<Int>.self, text)
            Self.expectSame(Number<Int?>.self, text)
            Self.expectSame(Number<[[Int]]>.self, text)
        }
    }

    @Test("dates, data and URLs take the same strings as Foundation with ISO 8601 dates")
    func specialTypes() {
        for text in ["2026-12-02T04:12:00Z", "2026-12-02T04:12:00.123Z", "2026-12-02T04:12:00+01:00", "2026-12-02", "2026-12-02T04:12:00", "x"] {
            Self.expectSame(Number<Date>.self, "{\"n\":\"\(text)\"}")
        }
        for text in ["AAEC", "AAE=", "AA", "!!", ""] { Self.expectSame(Number<Data>.self, "{\"n\":\"\(text)\"}") }
        for text in ["https://example.com", "", "a b", "relative/path"] { Self.expectSame(Number<URL>.self, "{\"n\":\"\(text)\"}") }
        Self.expectSame(Number<Date>.self, "{\"n\":5}")
        Self.expectSame(Number<Data>.self, "{\"n\":[1,2]}")
    }

    @Test("wrong shapes: a missing key, a type mismatch, null for a value, an array too short")
    func errors() {
        Self.expectSame(Everything.self, "{}")
        Self.expectSame(Inner.self, "{\"name\":1,\"tags\":[]}")
        Self.expectSame(Inner.self, "{\"name\":null,\"tags\":[]}")
        Self.expectSame(Inner.self, "{\"name\":\"a\",\"tags\":[1]}")
        Self.expectSame(Inner.self, "{\"name\":\"a\",\"tags\":{}}")
        Self.expectSame(Inner.self, "[]")
        Self.expectSame(Shape.self, "{\"circle\":{}}")
        Self.expectSame(Shape.self, "{\"triangle\":{}}")
        Self.expectSame(Colour.self, "\"blue\"")
        Self.expectSame([Int].self, "[1,null,3]")
        Self.expectSame([Int?].self, "[1,null,3]")
        Self.expectSame([String: Int].self, "{\"a\":1,\"b\":\"x\"}")
    }

    @Test("mutated payloads: whatever one decoder takes or refuses, so does the other")
    func mutations() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        let original = Array(try encoder.encode(Self.sample))
        var generator = SplitMix64(seed: 0x5eed)
        let alphabet = Array("{}[]\",:0123456789-+.eEtrufalsn \\u".utf8)
        for _ in 0..<10_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[at] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: at)
                }
            }
            let ours = Self.outcome(Everything.self, bytes, foundation: false)
            let theirs = Self.outcome(Everything.self, bytes, foundation: true)
            #expect(ours == theirs, "\(String(decoding: bytes, as: UTF8.self))")
            if ours != theirs { break }
        }
    }
}
