import Foundation
import SpoolTestSupport
import Testing
@testable import SpoolJobs

/// Seeded random differential tests of the payload codec against Foundation: typed values encoded
/// by both encoders (the same bytes) and decoded by both decoders (the same value), and JSON texts,
/// valid and broken, that the fast decoder may refuse (Foundation then answers) but must never
/// take with another value than Foundation's, nor take where Foundation refuses.
@Suite("JSON payload codec against Foundation: random values and texts")
struct JSONDifferentialTests {
    typealias Number = JSONTapeDecoderTests.Number

    /// Any JSON value, read as a value of its own shape. Numbers compare by their bits (-0).
    indirect enum Value: Codable, Equatable {
        case null, bool(Bool), number(Double), string(String), array([Value]), object([String: Value])

        init(from decoder: any Decoder) throws {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() { self = .null }
            else if let value = try? single.decode(Bool.self) { self = .bool(value) }
            else if let value = try? single.decode(String.self) { self = .string(value) }
            else if let value = try? single.decode(Double.self) { self = .number(value) }
            else if let value = try? single.decode([Value].self) { self = .array(value) }
            else { self = .object(try single.decode([String: Value].self)) }
        }

        func encode(to encoder: any Encoder) throws {
            var single = encoder.singleValueContainer()
            switch self {
            case .null: try single.encodeNil()
            case .bool(let value): try single.encode(value)
            case .number(let value): try single.encode(value)
            case .string(let value): try single.encode(value)
            case .array(let value): try single.encode(value)
            case .object(let value): try single.encode(value)
            }
        }

        static func == (a: Value, b: Value) -> Bool {
            switch (a, b) {
            case (.null, .null): true
            case (.bool(let x), .bool(let y)): x == y
            case (.number(let x), .number(let y)): x.bitPattern == y.bitPattern
            case (.string(let x), .string(let y)): x == y
            case (.array(let x), .array(let y)): x == y
            case (.object(let x), .object(let y)): x == y
            default: false
            }
        }
    }

    typealias Everything = JSONTapeDecoderTests.Everything
    typealias Inner = JSONTapeDecoderTests.Inner

    struct Generator {
        var random: SplitMix64
        static let characters = Array("aZK0 ~\"\\/\n\t\u{0}\u{1F}\u{7F}é\u{212A}日😀\u{2028}\u{FEFF}\u{FFFF}e\u{301}")
        static let doubles: [Double] = [0, -0.0, 1, -1, 0.1, 1e16, 1e-7, Double.leastNonzeroMagnitude, 2.2250738585072014e-308, 1.7976931348623157e308, 9007199254740992, 1e300]

        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
        mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }

        mutating func string() -> String { String((0..<int(0...6)).map { _ in Self.characters.randomElement(using: &random)! }) }

        mutating func double() -> Double {
            switch int(0...2) {
            case 0: let value = Double(bitPattern: random.next()); return value.isFinite ? value : 1.5
            case 1: return Self.doubles.randomElement(using: &random)!
            default: return Double(int(-100_000...100_000)) / 100
            }
        }

        mutating func integer<T: FixedWidthInteger>(_ type: T.Type) -> T {
            [T.min, T.max, 0, T(truncatingIfNeeded: random.next() >> UInt64(int(0...63)))].randomElement(using: &random)!
        }

        mutating func inner() -> Inner { Inner(name: string(), tags: (0..<int(0...3)).map { _ in string() }, score: chance(50) ? double() : nil) }

        mutating func everything() -> Everything {
            let float = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
            return Everything(
                string: string(), int: integer(Int.self), int8: integer(Int8.self), int16: integer(Int16.self), int32: integer(Int32.self),
                int64: integer(Int64.self), uint: integer(UInt.self), uint8: integer(UInt8.self), uint16: integer(UInt16.self),
                uint32: integer(UInt32.self), uint64: integer(UInt64.self), double: double(), float: float.isFinite ? float : 0.5, bool: chance(50),
                optional: chance(50) ? string() : nil, missing: chance(50) ? int(-5...5) : nil,
                // Years 1 to 9999: Foundation does not read back what it writes for years before 1.
                date: Date(timeIntervalSince1970: Double(int(-62_135_596_800...253_402_300_799))),
                data: Data((0..<int(0...5)).map { _ in UInt8(truncatingIfNeeded: random.next()) }),
                url: URL(string: ["https://example.com/a?b=c", "relative/path", "%25", "http://xn--4ca.com/%C3%BC"].randomElement(using: &random)!)!,
                decimal: Decimal(int(-1_000_000...1_000_000)) / 1000, colour: chance(50) ? .red : .green,
                shapes: (0..<int(0...3)).map { _ in [.circle(radius: double()), .square(side: int(-9...9), label: chance(50) ? string() : nil), .none][int(0...2)] },
                inner: inner(), nested: (0..<int(0...3)).map { _ in (0..<int(0...3)).map { _ in int(-9...9) } },
                map: Dictionary((0..<int(0...3)).map { _ in (string(), inner()) }, uniquingKeysWith: { first, _ in first }),
                intMap: Dictionary((0..<int(0...3)).map { _ in (int(-99...99), string()) }, uniquingKeysWith: { first, _ in first }),
                set: Set((0..<int(0...3)).map { _ in string() }))
        }

        /// A number's text in one of JSON's forms, or a form JSON does not have.
        mutating func number() -> String {
            let digits = String(int(0...999_999))
            return switch int(0...15) {
            case 0: "-" + digits
            case 1: digits + "e" + String(int(-400...400))
            case 2: digits + "E+" + String(int(0...30))
            case 3: "0." + String(repeating: "0", count: int(0...400)) + digits
            case 4: "-0"
            case 5: "0" + digits
            case 6: digits + "."
            case 7: "." + digits
            case 8: "+" + digits
            case 9: ["9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
                     "9007199254740993", "300", "-129", "255", "1.5", "1e2", "1.0", "0e5"].randomElement(using: &random)!
            case 10: "1e" + String(int(300...320))
            default: digits + "." + String(int(0...9999))
            }
        }

        /// A string literal's text: plain, escaped, with \u escapes (pairs and lone surrogates) and raw bytes.
        mutating func stringText() -> [UInt8] {
            var bytes: [UInt8] = [UInt8(ascii: "\"")]
            for _ in 0..<int(0...5) {
                switch int(0...9) {
                case 0: bytes += Array(#"\"\\\/\b\f\n\r\t"#.utf8).prefix(int(2...16))
                case 1: bytes += Array(String(format: "\\u%04x", int(0...0xFFFF)).utf8)
                case 2: bytes += Array(#"\ud83d\ude00"#.utf8)
                case 3: bytes += Array([#"\ud800"#, #"\udc00"#, #"\ud800\u0041"#].randomElement(using: &random)!.utf8)
                case 4: bytes.append([0xFF, 0xC3, 0x80, 0xED, 0x01, 0x1F].randomElement(using: &random)!)
                default: bytes += Array(string().utf8).filter { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
                }
            }
            return bytes + [UInt8(ascii: "\"")]
        }

        mutating func space() -> [UInt8] { (0..<int(0...2)).map { _ in [0x20, 0x0A, 0x0D, 0x09].randomElement(using: &random)! } }

        /// A document's text: mostly valid JSON, sometimes with a trailing comma, a leading zero or the like.
        mutating func text(depth: Int) -> [UInt8] {
            var out = space()
            switch int(0...(depth > 0 ? 9 : 6)) {
            case 0: out += Array(["null", "true", "false", "nul", "True"].randomElement(using: &random)!.utf8)
            case 1, 2: out += Array(number().utf8)
            case 3, 4, 5, 6: out += stringText()
            case 7: 
                out.append(UInt8(ascii: "["))
                let count = int(0...3)
                for at in 0..<count { out += text(depth: depth - 1) + (at < count - 1 || chance(5) ? [UInt8(ascii: ",")] : []) }
                out.append(UInt8(ascii: "]"))
            default:
                out.append(UInt8(ascii: "{"))
                let count = int(0...3)
                var keys: [[UInt8]] = []
                for at in 0..<count {
                    let key = !keys.isEmpty && chance(20) ? keys.randomElement(using: &random)! : stringText()
                    keys.append(key)
                    out += space() + key + space() + [UInt8(ascii: ":")] + text(depth: depth - 1) + (at < count - 1 || chance(5) ? [UInt8(ascii: ",")] : [])
                }
                out.append(UInt8(ascii: "}"))
            }
            return out + space()
        }

        mutating func document() -> [UInt8] {
            var bytes = text(depth: 4)
            if chance(5) { bytes = [0xEF, 0xBB, 0xBF] + bytes }
            if chance(5) { bytes += Array(["x", "]", "}", ",", "\u{0}", "1"].randomElement(using: &random)!.utf8) }
            if chance(3) { bytes = Array(repeating: UInt8(ascii: "["), count: 513) + bytes + Array(repeating: UInt8(ascii: "]"), count: 513) }
            return bytes
        }
    }

    /// Taken by the fast decoder: Foundation takes it too, with the same value.
    static func expectTakenAlike<T: Decodable & Equatable>(_ type: T.Type, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        guard let ours = try? JSONTapeDecoding.decode(type, from: bytes) else { return false }
        let theirs = Result { try JSONTapeDecoderTests.foundation.decode(type, from: Data(bytes)) }
        #expect((try? theirs.get()) == ours, "\(String(decoding: bytes, as: UTF8.self)): ours \(ours), Foundation \(theirs)", sourceLocation: sourceLocation)
        return true
    }

    @Test("2,000 random payloads of every kind of value: both encoders write the same bytes, and both decoders read them, and each other's, as the value")
    func payloads() throws {
        var generator = Generator(random: SplitMix64(seed: 0xD1FF))
        for _ in 0..<2_000 {
            let record = generator.everything()
            let theirs = Array(try JSONBytesEncoderTests.foundation.encode(record))
            let ours = try JSONJobCoding().encode(record)
            #expect(ours == theirs, "ours \(JSONBytesEncoderTests.text(ours)) Foundation \(JSONBytesEncoderTests.text(theirs))")
            let foundation = Result { try JSONTapeDecoderTests.foundation.decode(Everything.self, from: Data(ours)) }
            let tape = Result { try JSONTapeDecoding.decode(Everything.self, from: theirs) }
            #expect((try? foundation.get()) == record, "Foundation read \(foundation) from \(JSONBytesEncoderTests.text(ours))")
            #expect((try? tape.get()) == record, "read \(tape) from \(JSONBytesEncoderTests.text(theirs))")
            if ours != theirs { break }
        }
    }

    @Test("2,000 random texts: what the fast decoder takes, Foundation takes with the same value, as any value and as typed numbers")
    func texts() {
        var generator = Generator(random: SplitMix64(seed: 0x7E47))
        var taken = 0
        for _ in 0..<2_000 {
            let bytes = generator.document()
            if Self.expectTakenAlike(Value.self, bytes) { taken += 1 }
            let member = Array("{\"n\":".utf8) + Array(generator.number().utf8) + Array("}".utf8)
            _ = Self.expectTakenAlike(Number<Int8>.self, member)
            _ = Self.expectTakenAlike(Number<Int>.self, member)
            _ = Self.expectTakenAlike(Number<Int64>.self, member)
            _ = Self.expectTakenAlike(Number<UInt64>.self, member)
            _ = Self.expectTakenAlike(Number<Double>.self, member)
            _ = Self.expectTakenAlike(Number<Float>.self, member)
            _ = Self.expectTakenAlike(Number<Decimal>.self, member)
        }
        // Most documents are valid and taken: the comparison is not vacuous.
        #expect(taken > 600)
    }

    @Test("2,000 objects of random keys, some the same String in other bytes, written and read by both sides alike")
    func randomKeys() throws {
        var generator = Generator(random: SplitMix64(seed: 0x4E75))
        let pieces = ["e", "\u{301}", "\u{E9}", "K", "\u{212A}", "caf", "\u{3000}", "a", "Z"]
        for _ in 0..<2_000 {
            let keys = (0..<generator.int(0...5)).map { _ in (0..<generator.int(1...3)).map { _ in pieces.randomElement(using: &generator.random)! }.joined() }
            let object = JSONBytesEncoderTests.Custom { encoder in
                var container = encoder.container(keyedBy: JSONBytesEncoderTests.Key.self)
                for (value, key) in keys.enumerated() { try container.encode(value, forKey: JSONBytesEncoderTests.Key(key)) }
            }
            let theirs = Array(try JSONBytesEncoderTests.foundation.encode(object))
            #expect(try JSONJobCoding().encode(object) == theirs, "\(keys.map { Array($0.unicodeScalars) })")
            // Read back with each key as written, duplicates and all.
            let text = "{" + keys.enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",") + "}"
            _ = Self.expectTakenAlike([String: Int].self, Array(text.utf8))
        }
    }

    @Test("integers: out of range and fractions are refused, the widest are exact")
    func integerLimits() throws {
        #expect(throws: (any Error).self) { try JSONJobCoding().decode(Int8.self, from: Array("300".utf8)) }
        #expect(throws: (any Error).self) { try JSONJobCoding().decode(Int.self, from: Array("1.5".utf8)) }
        #expect(try JSONTapeDecoding.decode(Int64.self, from: Array("9007199254740993".utf8)) == 9_007_199_254_740_993)
        #expect(try JSONTapeDecoding.decode(UInt64.self, from: Array("18446744073709551615".utf8)) == UInt64.max)
        #expect(try JSONTapeDecoding.decode(Int64.self, from: Array("-9223372036854775808".utf8)) == Int64.min)
    }
}
