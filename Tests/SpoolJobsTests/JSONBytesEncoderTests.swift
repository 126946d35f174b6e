import Foundation
import SpoolTestSupport
import Testing
@testable import SpoolJobs

/// The job payload encoder must write the bytes Foundation's JSONEncoder (set up as
/// `JSONJobCoding` sets it up) writes. Foundation is the oracle: every value `JSONBytesEncoding`
/// takes must come out byte for byte the same, and what it refuses must still come out the same
/// through `JSONJobCoding`'s fallback.
@Suite("JSON payload encoding matches Foundation's JSONEncoder")
struct JSONBytesEncoderTests {
    typealias Everything = JSONTapeDecoderTests.Everything
    typealias Inner = JSONTapeDecoderTests.Inner

    static let foundation: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func text(_ bytes: [UInt8]?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "(threw)" }

    /// Taken by the fast encoder, with Foundation's bytes.
    static func expectSame<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) {
        let theirs = (try? foundation.encode(value)).map { Array($0) }
        let ours = try? JSONBytesEncoding.encode(value)
        #expect(theirs != nil && ours == theirs, "ours \(text(ours)) Foundation \(text(theirs))", sourceLocation: sourceLocation)
        #expect((try? JSONJobCoding().encode(value)) == theirs, sourceLocation: sourceLocation)
    }

    /// Refused by the fast encoder (by `JSONBytesNotHandled` or an error of the standard library's),
    /// and so written (or refused) by Foundation.
    static func expectFallback<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: (any Error).self, sourceLocation: sourceLocation) { try JSONBytesEncoding.encode(value) }
        let theirs = Result { Array(try foundation.encode(value)) }
        let ours = Result { try JSONJobCoding().encode(value) }
        switch (ours, theirs) {
        case (.success(let ours), .success(let theirs)): #expect(ours == theirs, "\(text(ours)) \(text(theirs))", sourceLocation: sourceLocation)
        case (.failure(let ours), .failure(let theirs)): #expect("\(ours)" == "\(theirs)", sourceLocation: sourceLocation)
        default: Issue.record("ours \(ours), Foundation \(theirs)", sourceLocation: sourceLocation)
        }
    }

    struct Number<T: Encodable>: Encodable { var n: T }

    @Test("a payload with every kind of value, and variations of it")
    func everything() {
        let sample = JSONTapeDecoderTests.sample
        Self.expectSame(sample)
        var other = sample
        other.optional = "present"
        other.missing = 0
        other.shapes = []
        other.map = [:]
        other.intMap = [-1: "minus", 0: "zero", 100: "hundred"]
        other.set = []
        other.nested = [[], [Int.min, Int.max]]
        other.inner = Inner(name: "", tags: [""], score: -0.0)
        Self.expectSame(other)
        Self.expectSame([sample, other])
        Self.expectSame(["first": sample])
    }

    @Test("integers of every width at their limits")
    func integers() {
        func limits<T: FixedWidthInteger & Encodable>(_ type: T.Type) {
            for value in [T.min, T.max, 0, 1, T.max / 10, T.max / 10 + 1, T.min / 10 - (T.isSigned ? 1 : 0)] {
                Self.expectSame(Number(n: value))
                Self.expectSame([value])
                Self.expectSame(value)
            }
        }
        limits(Int.self); limits(Int8.self); limits(Int16.self); limits(Int32.self); limits(Int64.self)
        limits(UInt.self); limits(UInt8.self); limits(UInt16.self); limits(UInt32.self); limits(UInt64.self)
        for value in [-1, -9, -10, 9, 10, 99, 100, 999_999_999, 1_000_000_000] { Self.expectSame(Number(n: value)) }
    }

    static let doubles: [Double] = [
        0, -0.0, 1, -1, 0.1, 0.2, 0.30000000000000004, 1e-7, 1e-5, 1e-4, 0.001, 1e15, 1e16, 1e17, 1e21, 1e22, 123456789012345680,
        9007199254740992, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 2.2250738585072014e-308, Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude,
        3.141592653589793, 100, 1.5, 2.5e-10, 12345.678, Double(Float(1.1)), 4.35, 0.5, 1 / 3,
    ]

    static let floats: [Float] = [
        0, -0.0, 1, 1.1, 0.1, 1e-7, 1e7, 1e8, 16777216, 16777218, Float.leastNonzeroMagnitude, Float.leastNormalMagnitude,
        Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude, 3.4028235e38, 1 / 3, 123.456,
    ]

    @Test("doubles and floats: shortest text, exponents, zeros, limits")
    func floatingPoint() {
        for value in Self.doubles {
            Self.expectSame(Number(n: value))
            Self.expectSame([value, -value])
            Self.expectSame(value)
        }
        for value in Self.floats {
            Self.expectSame(Number(n: value))
            Self.expectSame([value, -value])
            Self.expectSame(value)
        }
    }

    @Test("128-bit integers, which the standard library's containers refuse unless the encoder takes them, are written by Foundation")
    func wideIntegers() {
        for value in [Int128.min, -1, 0, Int128.max] { Self.expectFallback(Number(n: value)) }
        Self.expectFallback([UInt128.max])
    }

    @Test("a number that is not finite is Foundation's EncodingError")
    func nonFinite() {
        for value in [Double.nan, .infinity, -.infinity] {
            Self.expectFallback(Number(n: value))
            Self.expectFallback([value])
            #expect(throws: EncodingError.self) { try JSONJobCoding().encode(Number(n: value)) }
        }
        for value in [Float.nan, .infinity, -.infinity] { Self.expectFallback(Number(n: value)) }
    }

    static let strings: [String] = {
        var strings = (0..<0x80).map { String(UnicodeScalar(UInt8($0))) }
        strings += ["", "plain", "héllo \"wörld\"\n\t\\ / \u{1F600}", "\u{7F}\u{80}\u{FF}", "\u{2028}\u{2029}", "\u{FEFF}x", "\u{FFFF}",
                    "日本語", "e\u{301}", "\u{10FFFF}", "a/b/c", "https://example.com/a?b=c&d=e", "\\\\", "\"\"", "\r\n", "\0end",
                    String(repeating: "long ", count: 100), String(repeating: "/\"", count: 40)]
        return strings
    }()

    @Test("strings: every ASCII character, escapes, multi-byte characters; as values and as keys")
    func strings() {
        for string in Self.strings {
            Self.expectSame(Number(n: string))
            Self.expectSame([string: string])
            Self.expectSame(string)
        }
        Self.expectSame(Self.strings)
        Self.expectSame(Dictionary(uniqueKeysWithValues: Self.strings.enumerated().map { ($1, $0) }))
    }

    @Test("keys are sorted as Foundation sorts them (by UTF-8 bytes)")
    func keyOrder() {
        let keys = ["a", "B", "é", "a1", "a10", "a2", "", "_", "A", "Z", "ab", "e\u{301}x", "f", "éy", "\u{1F600}", "\u{FFFF}", "\"", "/",
                    "\\", "\u{1}", " ", "~", "\u{7F}", "aa", "a\u{0}"]
        Self.expectSame(Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) }))
        Self.expectSame(Dictionary(uniqueKeysWithValues: keys.reversed().enumerated().map { ($1, $0) }))
        Self.expectSame([Int.min: 1, -1: 2, 0: 3, 1: 4, 10: 5, 2: 6, 100: 7, Int.max: 8])
    }

    @Test("dates (ISO 8601), data (base64), URLs (absolute) and decimals")
    func specialTypes() {
        let times: [Double] = [0, 0.9999, -0.5, -1, 1_796_184_720, 1_796_184_720.123, 1e10, -1e11, 1e12, -62_135_596_800, 253_402_300_799,
                               253_402_300_800]
        for time in times { Self.expectSame(Number(n: Date(timeIntervalSince1970: time))) }
        Self.expectSame([Date.distantPast, .distantFuture, Date(timeIntervalSinceReferenceDate: 0)])
        // Fractions that round to the whole second, or not, depending on how.
        for second in [0.0, 1, 59, 86_399, 1_796_184_720, 4_102_444_800, 253_402_300_799] {
            let reference = second - 978_307_200
            for time in [reference.nextDown, reference.nextUp, reference - 1e-9, reference - 1e-7, reference - 4e-4, reference - 6e-4,
                         reference + 1e-9, reference + 0.999] {
                Self.expectSame(Number(n: Date(timeIntervalSinceReferenceDate: time)))
            }
        }
        // Every day of some years (leap years, century years), at a random time of day.
        var random = SplitMix64(seed: 0xDA7E)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for year in [1970, 1972, 2000, 2024, 2026, 2100, 2400, 9999] {
            let start = calendar.date(from: DateComponents(year: year, month: 1, day: 1))!.timeIntervalSince1970
            let days = (0..<366).map { Date(timeIntervalSince1970: start + Double($0) * 86_400 + Double.random(in: 0..<86_400, using: &random)) }
            Self.expectSame(days)
        }
        for bytes in [[], [0], [0, 1], [0, 1, 2], [250, 255, 0xFB, 0xFF], Array(0...255)] as [[UInt8]] { Self.expectSame(Number(n: Data(bytes))) }
        for text in ["https://example.com", "https://example.com/a b?c=d#e", "file:///tmp/x", "mailto:a@b.c", "relative/path", "é"] {
            if let url = URL(string: text) { Self.expectSame(Number(n: url)) }
        }
        Self.expectSame(URL(string: "rel/x", relativeTo: URL(string: "https://example.com/d/")))
        for text in ["0", "-0", "12.345", "-12.345", "1e30", "1e-30", "0.000001", "123456789012345678901234567890", "3.14159265358979323846"] {
            Self.expectSame(Number(n: Decimal(string: text)!))
        }
        Self.expectSame(Number(n: Decimal.nan))
    }

    enum Colour: String, Codable { case red, green }
    enum Shape: Codable {
        case circle(radius: Double)
        case square(side: Int, label: String?)
        case pair(Int, String)
        case none
    }

    struct Optionals: Codable {
        var a: Int?
        var b: String?
        var c: [Int?]?
    }

    struct Empty: Encodable {
        func encode(to encoder: any Encoder) throws {}
    }

    struct EmptySingle: Encodable {
        func encode(to encoder: any Encoder) throws { _ = encoder.singleValueContainer() }
    }

    @Test("enums, optionals, empty containers, other-keyed dictionaries, nested collections")
    func shapes() {
        Self.expectSame([Colour.red, .green])
        Self.expectSame([Shape.circle(radius: 1), .square(side: 2, label: nil), .square(side: 3, label: "x"), .pair(4, "y"), .none])
        Self.expectSame(Optionals())
        Self.expectSame(Optionals(a: 1, b: "", c: [nil, 1]))
        Self.expectSame([Int?.none, 1])
        Self.expectSame(Int?.none)
        Self.expectSame([Int]())
        Self.expectSame([String: Int]())
        Self.expectSame([[[Int]]]([[], [[]], [[1]]]))
        Self.expectSame([1.5: "a", -2: "b"])
        Self.expectSame([true: 1])
        Self.expectSame([Colour.red: 1])
        Self.expectSame(["k": Empty()])
        Self.expectSame([Empty(), Empty()])
        Self.expectSame([EmptySingle()])
        Self.expectSame(Set(["x", "y", "z"]))
        let inner = Inner(name: "n", tags: ["t"], score: nil)
        Self.expectSame([inner, nil])
        Self.expectSame(Optional(inner))
        Self.expectSame(["k": Optional(inner)])
        Self.expectFallback(Empty())
        Self.expectFallback(EmptySingle())
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init(stringValue: String) { self.init(stringValue) }
        init?(intValue: Int) { nil }
    }

    /// Encodes itself by `body`, with string keys.
    struct Custom: Encodable {
        let body: @Sendable (any Encoder) throws -> Void
        func encode(to encoder: any Encoder) throws { try body(encoder) }
    }

    @Test("containers asked for twice, nested ones filled in order, are written as Foundation writes them")
    func containers() {
        Self.expectSame(Custom { encoder in
            var first = encoder.container(keyedBy: Key.self)
            try first.encode(1, forKey: Key("b"))
            var second = encoder.container(keyedBy: Key.self)
            try second.encode(2, forKey: Key("a"))
        })
        Self.expectSame(Custom { encoder in
            var top = encoder.container(keyedBy: Key.self)
            var list = top.nestedUnkeyedContainer(forKey: Key("z"))
            try list.encode(1)
            var object = list.nestedContainer(keyedBy: Key.self)
            try object.encode("v", forKey: Key("y"))
            try object.encode("u", forKey: Key("x"))
            var inner = list.nestedUnkeyedContainer()
            try inner.encodeNil()
            try list.encode(2)
            try top.encode(true, forKey: Key("a"))
            var empty = top.nestedContainer(keyedBy: Key.self, forKey: Key("m"))
            _ = empty
            empty = top.nestedContainer(keyedBy: Key.self, forKey: Key("n"))
            try empty.encode(0, forKey: Key("0"))
        })
        Self.expectSame(Custom { encoder in
            var list = encoder.unkeyedContainer()
            #expect(list.count == 0)
            try list.encode("a")
            try list.encode(Number(n: 1))
            #expect(list.count == 2)
        })
    }

    @Test("what Foundation writes in ways not followed goes to Foundation: a key twice, a container written late, a super encoder")
    func fallbacks() {
        Self.expectFallback(Custom { encoder in
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(1, forKey: Key("a"))
            try container.encode(2, forKey: Key("a"))
        })
        Self.expectFallback(Custom { encoder in
            var container = encoder.container(keyedBy: Key.self)
            var late = container.nestedContainer(keyedBy: Key.self, forKey: Key("a"))
            try container.encode(1, forKey: Key("b"))
            try late.encode(3, forKey: Key("c"))
        })
        Self.expectFallback(Custom { encoder in
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(1, forKey: Key("a"))
            var inherited = container.superEncoder().container(keyedBy: Key.self)
            try inherited.encode(2, forKey: Key("b"))
        })
        Self.expectFallback(Custom { encoder in
            var container = encoder.unkeyedContainer()
            try container.encode(1)
            var inherited = container.superEncoder().singleValueContainer()
            try inherited.encode(2)
        })
    }

    @Test("keys that are the same String but not the same bytes (canonically equivalent) are one key to Foundation, wherever they sort")
    func canonicallyEquivalentKeys() {
        for keys in [["cafe\u{301}", "cafe\u{3000}", "caf\u{E9}"], ["caf\u{E9}", "cafe\u{3000}", "cafe\u{301}"], ["K", "L", "\u{212A}"],
                     ["K", "\u{212A}"], ["cafe\u{301}", "caf\u{E9}"]] {
            Self.expectFallback(Custom { encoder in
                var container = encoder.container(keyedBy: Key.self)
                for (value, key) in keys.enumerated() { try container.encode(value, forKey: Key(key)) }
            })
        }
        // Different Strings, not ASCII, are written as ever.
        Self.expectSame(["caf\u{E9}": 1, "cafe": 2, "cafe\u{3000}": 3, "\u{212A}": 4, "L": 5])
    }

    struct ThrowingValue: Encodable {
        struct Refused: Error {}
        func encode(to encoder: any Encoder) throws { throw Refused() }
    }

    @Test("an error of the value's own is the one thrown")
    func ownError() {
        #expect(throws: ThrowingValue.Refused.self) { try JSONJobCoding().encode(["k": ThrowingValue()]) }
    }

    /// Writes the coding path it was encoded at.
    struct PathProbe: Encodable {
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(encoder.codingPath.map { "\($0.stringValue)/\($0.intValue.map(String.init) ?? "-")" }.joined(separator: "."))
        }
    }

    @Test("a value that reads its coding path is written by Foundation")
    func codingPaths() {
        Self.expectFallback(["k": [PathProbe(), PathProbe()]])
        Self.expectFallback([1: ["x": PathProbe()]])
        Self.expectFallback(Custom { encoder in
            var top = encoder.container(keyedBy: Key.self)
            var list = top.nestedUnkeyedContainer(forKey: Key("list"))
            try list.encode(PathProbe())
            var object = list.nestedContainer(keyedBy: Key.self)
            _ = object.codingPath
            try object.encode(1, forKey: Key("deep"))
        })
    }
}
