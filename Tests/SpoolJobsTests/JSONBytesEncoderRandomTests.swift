import Foundation
import SpoolTestSupport
import Testing
@testable import SpoolJobs

/// Seeded random documents, nested arrays and objects of random primitives written through every
/// kind of container call, encoded by `JSONBytesEncoding` and by Foundation: the same bytes.
@Suite("JSON payload encoding of random documents matches Foundation's JSONEncoder")
struct JSONBytesEncoderRandomTests {
    typealias Key = JSONBytesEncoderTests.Key

    indirect enum Value: Encodable {
        case int(Int), int8(Int8), int16(Int16), int32(Int32), uint(UInt), uint64(UInt64), double(Double), float(Float)
        case string(String), bool(Bool), null, date(Date), data(Data)
        /// A collection; `nested`: written by its parent's `nestedContainer` calls, not as a value of its own.
        case array([Value], nested: Bool)
        case object([(String, Value)], nested: Bool)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .array(let elements, _):
                var container = encoder.unkeyedContainer()
                try Self.write(elements, into: &container)
            case .object(let members, _):
                var container = encoder.container(keyedBy: Key.self)
                try Self.write(members, into: &container)
            case .null:
                var container = encoder.singleValueContainer()
                try container.encodeNil()
            case .string(let value): try value.encode(to: encoder)
            case .date(let value):
                var container = encoder.singleValueContainer()
                try container.encode(value)
            default:
                var container = encoder.unkeyedContainer()
                try Self.write([self], into: &container)
            }
        }

        static func write(_ elements: [Value], into container: inout any UnkeyedEncodingContainer) throws {
            for element in elements {
                switch element {
                case .int(let value): try container.encode(value)
                case .int8(let value): try container.encode(value)
                case .int16(let value): try container.encode(value)
                case .int32(let value): try container.encode(value)
                case .uint(let value): try container.encode(value)
                case .uint64(let value): try container.encode(value)
                case .double(let value): try container.encode(value)
                case .float(let value): try container.encode(value)
                case .string(let value): try container.encode(value)
                case .bool(let value): try container.encode(value)
                case .null: try container.encodeNil()
                case .data(let value): try container.encode(value)
                case .array(let elements, nested: true):
                    var nested = container.nestedUnkeyedContainer()
                    try write(elements, into: &nested)
                case .object(let members, nested: true):
                    var nested = container.nestedContainer(keyedBy: Key.self)
                    try write(members, into: &nested)
                default: try container.encode(element)
                }
            }
        }

        static func write(_ members: [(String, Value)], into container: inout KeyedEncodingContainer<Key>) throws {
            for (name, value) in members {
                let key = Key(name)
                switch value {
                case .int(let value): try container.encode(value, forKey: key)
                case .int8(let value): try container.encode(value, forKey: key)
                case .int16(let value): try container.encode(value, forKey: key)
                case .int32(let value): try container.encode(value, forKey: key)
                case .uint(let value): try container.encode(value, forKey: key)
                case .uint64(let value): try container.encode(value, forKey: key)
                case .double(let value): try container.encode(value, forKey: key)
                case .float(let value): try container.encode(value, forKey: key)
                case .string(let value): try container.encode(value, forKey: key)
                case .bool(let value): try container.encodeIfPresent(value, forKey: key)
                case .null: try container.encodeNil(forKey: key)
                case .data(let value): try container.encode(value, forKey: key)
                case .array(let elements, nested: true):
                    var nested = container.nestedUnkeyedContainer(forKey: key)
                    try write(elements, into: &nested)
                case .object(let members, nested: true):
                    var nested = container.nestedContainer(keyedBy: Key.self, forKey: key)
                    try write(members, into: &nested)
                default: try container.encode(value, forKey: key)
                }
            }
        }
    }

    struct Generator {
        var random: SplitMix64
        static let characters = Array("aZ0 ~\"\\/\n\t\r\u{8}\u{C}\u{1}\u{1F}\u{7F}é日😀\u{2028}\u{FFFF}e\u{301}")

        mutating func string() -> String {
            String((0..<Int.random(in: 0...8, using: &random)).map { _ in Self.characters.randomElement(using: &random)! })
        }

        mutating func double() -> Double {
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                let value = Double(bitPattern: random.next())
                return value.isFinite ? value : 0
            case 1: return Double(Int.random(in: -1_000_000...1_000_000, using: &random)) / 1000
            case 2: return JSONBytesEncoderTests.doubles.randomElement(using: &random)!
            default: return Double.random(in: -1e25...1e25, using: &random)
            }
        }

        mutating func float() -> Float {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
            return value.isFinite ? value : 1.5
        }

        mutating func value(depth: Int) -> Value {
            let nested = Bool.random(using: &random)
            switch Int.random(in: 0..<(depth > 0 ? 16 : 13), using: &random) {
            case 0: return .int(Int(bitPattern: UInt(random.next())) >> Int.random(in: 0..<64, using: &random))
            case 1: return .int8(Int8(truncatingIfNeeded: random.next()))
            case 2: return .int16(Int16(truncatingIfNeeded: random.next()))
            case 3: return .int32(Int32(truncatingIfNeeded: random.next()))
            case 4: return .uint(UInt(random.next()))
            case 5: return .uint64(random.next() >> Int.random(in: 0..<64, using: &random))
            case 6: return .double(double())
            case 7: return .float(float())
            case 8: return .string(string())
            case 9: return .bool(Bool.random(using: &random))
            case 10: return .null
            case 11: return .date(Date(timeIntervalSince1970: Double.random(in: -1e11...1e11, using: &random)))
            case 12: return .data(Data((0..<Int.random(in: 0...7, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }))
            case 13: return .array((0..<Int.random(in: 0...5, using: &random)).map { _ in value(depth: depth - 1) }, nested: nested)
            default:
                var names = Set<String>()
                var members: [(String, Value)] = []
                for _ in 0..<Int.random(in: 0...6, using: &random) {
                    let name = string()
                    if names.insert(name).inserted { members.append((name, value(depth: depth - 1))) }
                }
                return .object(members, nested: nested)
            }
        }
    }

    @Test("3,000 random documents")
    func randomDocuments() {
        var generator = Generator(random: SplitMix64(seed: 0xE4C0DE))
        for _ in 0..<3_000 {
            let document = generator.value(depth: 4)
            let theirs = (try? JSONBytesEncoderTests.foundation.encode(document)).map { Array($0) }
            let ours = try? JSONBytesEncoding.encode(document)
            #expect(theirs != nil && ours == theirs, "ours \(JSONBytesEncoderTests.text(ours)) Foundation \(JSONBytesEncoderTests.text(theirs))")
            if ours != theirs { break }
        }
    }

    @Test("random documents encoded from several tasks at once, and a document encoded while another is")
    func concurrentDocuments() async {
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<6 {
                group.addTask {
                    let foundation = JSONEncoder()
                    foundation.outputFormatting = .sortedKeys
                    foundation.dateEncodingStrategy = .iso8601
                    var generator = Generator(random: SplitMix64(seed: 0xC0DE + UInt64(task)))
                    var mismatches = 0
                    for _ in 0..<300 {
                        let document = generator.value(depth: 3)
                        if (try? JSONBytesEncoding.encode(document)) != (try? foundation.encode(document)).map({ Array($0) }) { mismatches += 1 }
                    }
                    return mismatches
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        let nesting = JSONBytesEncoderTests.Custom { encoder in
            var container = encoder.container(keyedBy: Key.self)
            let inner = try JSONBytesEncoding.encode(["inner": [1, 2]])
            try container.encode(String(decoding: inner, as: UTF8.self), forKey: Key("outer"))
            try container.encode(0, forKey: Key("a"))
        }
        JSONBytesEncoderTests.expectSame(nesting)
    }
}
