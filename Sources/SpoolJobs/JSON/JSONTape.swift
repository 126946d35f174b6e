import Foundation
import SpoolFormat

/// A JSON document parsed in one pass into a flat list of values ("tape"), each naming its bytes
/// in the input: strings and numbers are converted only when a decoder asks for them, and
/// nothing is allocated per value. Strict RFC 8259, as Foundation's JSONDecoder reads it: one
/// value with optional whitespace around it, no comments, no trailing commas, strings of valid
/// UTF-8 without raw control characters, numbers in JSON's grammar, nesting up to 512 deep.
///
/// A value, not an object: a decoder holds it, and a document costs no allocation but its tape.
struct JSONTape: Sendable {
    enum Kind: UInt8 { case null, `true`, `false`, number, string, array, object }

    struct Value {
        var kind: Kind
        /// A string's contents (inside the quotes) or a number's text; for an array or object,
        /// its number of elements (members for an object).
        var start: Int
        var end: Int
        /// The index after this value and everything inside it: the next sibling.
        var after: Int
        /// A string with a backslash escape, which must be unescaped to be read.
        var escaped: Bool
        /// A string of bytes below 0x80 only (then valid UTF-8 as it stands).
        var ascii: Bool
    }

    let bytes: [UInt8]
    let values: [Value]

    static let depthMax = 512

    /// Parses `bytes`; an object's members are its key (a string value) and value, in order.
    init(_ bytes: [UInt8]) throws(JSONTapeError) {
        self.bytes = bytes
        var values: [Value] = []
        values.reserveCapacity(16)
        var parser = Parser()
        try bytes.withUnsafeBufferPointer { buffer throws(JSONTapeError) in
            parser.buffer = buffer
            // A UTF-8 byte-order mark is passed over, as Foundation does.
            if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { parser.at = 3 }
            parser.skipWhitespace()
            try parser.value(into: &values, depth: 0)
            parser.skipWhitespace()
            if parser.at < buffer.count { throw JSONTapeError(parser.at, "unexpected character after the top-level value") }
        }
        self.values = values
    }

    /// A tape of one escaped string's contents (without its quotes), to unescape them.
    private init(unchecked contents: [UInt8]) {
        bytes = contents
        values = [Value(kind: .string, start: 0, end: contents.count, after: 1, escaped: true, ascii: false)]
    }

    /// A string value's text.
    func string(_ index: Int) throws(JSONTapeError) -> String {
        let value = values[index]
        if !value.escaped {
            let text = bytes.withUnsafeBufferPointer { buffer in
                let contents = UnsafeBufferPointer(rebasing: buffer[value.start..<value.end])
                return value.ascii ? String(decoding: contents, as: UTF8.self) : String(validating: contents, as: UTF8.self)
            }
            guard let text else {
                throw JSONTapeError(value.start, "string is not valid UTF-8")
            }
            return text
        }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(value.end - value.start)
        var at = value.start
        while at < value.end {
            let byte = bytes[at]
            guard byte == UInt8(ascii: "\\") else {
                unescaped.append(byte)
                at += 1
                continue
            }
            let escape = bytes[at + 1]
            at += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped.append(escape)
            case UInt8(ascii: "b"): unescaped.append(0x08)
            case UInt8(ascii: "f"): unescaped.append(0x0C)
            case UInt8(ascii: "n"): unescaped.append(0x0A)
            case UInt8(ascii: "r"): unescaped.append(0x0D)
            case UInt8(ascii: "t"): unescaped.append(0x09)
            default:
                // \uXXXX, checked by the parser: four hex digits.
                var scalar = hex4(at)
                at += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard at + 6 <= value.end, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u"),
                          case let low = hex4(at + 2), (0xDC00...0xDFFF).contains(low) else {
                        throw JSONTapeError(at - 6, "unpaired UTF-16 surrogate in \\u escape")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    at += 6
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw JSONTapeError(at - 6, "unpaired UTF-16 surrogate in \\u escape")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw JSONTapeError(at - 6, "invalid \\u escape") }
                unescaped.append(contentsOf: Array(String(Character(unicode)).utf8))
            }
        }
        guard let text = validUTF8String(unescaped) else { throw JSONTapeError(value.start, "string is not valid UTF-8") }
        return text
    }

    private func hex4(_ at: Int) -> UInt32 {
        var result: UInt32 = 0
        for byte in bytes[at..<at + 4] { result = result << 4 | UInt32(Parser.hexValue(byte)) }
        return result
    }

    /// Whether the string value at `index` equals `key`, without making a String of it.
    func stringEquals(_ index: Int, _ key: String) -> Bool {
        let value = values[index]
        if value.escaped { return (try? string(index)) == key }
        var key = key
        return key.withUTF8 { keyBytes in
            guard keyBytes.count == value.end - value.start else { return false }
            return bytes.withUnsafeBufferPointer { buffer in
                keyBytes.isEmpty || memcmp(buffer.baseAddress! + value.start, keyBytes.baseAddress!, keyBytes.count) == 0
            }
        }
    }

    /// A number value's text.
    func numberText(_ index: Int) -> Substring {
        let value = values[index]
        return Substring(decoding: bytes[value.start..<value.end], as: UTF8.self)
    }

    private struct Parser {
        var buffer = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        var at = 0

        mutating func skipWhitespace() {
            while at < buffer.count {
                switch buffer[at] {
                case 0x20, 0x0A, 0x0D, 0x09: at += 1
                default: return
                }
            }
        }

        mutating func value(into values: inout [Value], depth: Int) throws(JSONTapeError) {
            guard at < buffer.count else { throw JSONTapeError(at, "unexpected end of input") }
            switch buffer[at] {
            case UInt8(ascii: "{"): try container(into: &values, depth: depth, object: true)
            case UInt8(ascii: "["): try container(into: &values, depth: depth, object: false)
            case UInt8(ascii: "\""): try string(into: &values)
            case UInt8(ascii: "t"): try literal("true", .true, into: &values)
            case UInt8(ascii: "f"): try literal("false", .false, into: &values)
            case UInt8(ascii: "n"): try literal("null", .null, into: &values)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number(into: &values)
            default: throw JSONTapeError(at, "unexpected character '\(Unicode.Scalar(buffer[at]))'")
            }
        }

        private mutating func literal(_ word: StaticString, _ kind: Kind, into values: inout [Value]) throws(JSONTapeError) {
            let count = word.utf8CodeUnitCount
            guard at + count <= buffer.count, memcmp(buffer.baseAddress! + at, word.utf8Start, count) == 0 else {
                throw JSONTapeError(at, "invalid literal (expected \(word))")
            }
            values.append(Value(kind: kind, start: at, end: at + count, after: values.count + 1, escaped: false, ascii: true))
            at += count
        }

        private mutating func container(into values: inout [Value], depth: Int, object: Bool) throws(JSONTapeError) {
            guard depth < JSONTape.depthMax else { throw JSONTapeError(at, "nested deeper than \(JSONTape.depthMax) levels") }
            let index = values.count
            values.append(Value(kind: object ? .object : .array, start: 0, end: 0, after: 0, escaped: false, ascii: true))
            let close = object ? UInt8(ascii: "}") : UInt8(ascii: "]")
            at += 1
            skipWhitespace()
            var count = 0
            if at < buffer.count && buffer[at] == close {
                at += 1
            } else {
                while true {
                    if object {
                        guard at < buffer.count, buffer[at] == UInt8(ascii: "\"") else { throw JSONTapeError(at, "expected a string key") }
                        try string(into: &values)
                        try checkKey(values[values.count - 1])
                        skipWhitespace()
                        guard at < buffer.count, buffer[at] == UInt8(ascii: ":") else { throw JSONTapeError(at, "expected ':' after a key") }
                        at += 1
                        skipWhitespace()
                    }
                    try value(into: &values, depth: depth + 1)
                    count += 1
                    skipWhitespace()
                    guard at < buffer.count else { throw JSONTapeError(at, "unexpected end of input") }
                    if buffer[at] == UInt8(ascii: ",") {
                        at += 1
                        skipWhitespace()
                        continue
                    }
                    guard buffer[at] == close else { throw JSONTapeError(at, object ? "expected ',' or '}'" : "expected ',' or ']'") }
                    at += 1
                    break
                }
            }
            values[index].start = count
            values[index].end = count
            values[index].after = values.count
        }

        /// A key must read as a string: a container is looked up by its keys' text.
        private func checkKey(_ key: Value) throws(JSONTapeError) {
            let raw = UnsafeBufferPointer(rebasing: buffer[key.start..<key.end])
            if key.escaped {
                let tape = JSONTape(unchecked: Array(raw))
                _ = try tape.string(0)
            } else if !key.ascii, String(validating: raw, as: UTF8.self) == nil {
                throw JSONTapeError(key.start, "key is not valid UTF-8")
            }
        }

        private mutating func string(into values: inout [Value]) throws(JSONTapeError) {
            at += 1
            let start = at
            var escaped = false
            var ascii = true
            while true {
                // Eight plain bytes at a time: none a quote, a backslash, a control character or
                // part of a multi-byte character.
                while at + 8 <= buffer.count, Self.plain(UnsafeRawPointer(buffer.baseAddress! + at).loadUnaligned(as: UInt64.self)) { at += 8 }
                guard at < buffer.count else { throw JSONTapeError(start - 1, "unterminated string") }
                let byte = buffer[at]
                if byte == UInt8(ascii: "\"") { break }
                if byte >= 0x80 { ascii = false }
                if byte < 0x20 { throw JSONTapeError(at, "unescaped control character in a string") }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    guard at + 1 < buffer.count else { throw JSONTapeError(at, "unterminated string") }
                    switch buffer[at + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                         UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        at += 2
                    case UInt8(ascii: "u"):
                        guard at + 6 <= buffer.count, (2..<6).allSatisfy({ Self.hexValue(buffer[at + $0]) != 0xFF }) else {
                            throw JSONTapeError(at, "invalid \\u escape")
                        }
                        at += 6
                    default:
                        throw JSONTapeError(at, "invalid escape '\\\(Unicode.Scalar(buffer[at + 1]))'")
                    }
                    continue
                }
                at += 1
            }
            values.append(Value(kind: .string, start: start, end: at, after: values.count + 1, escaped: escaped, ascii: ascii))
            at += 1
        }

        /// Whether none of the eight bytes (in either byte order) is `"`, `\\`, below 0x20 or
        /// above 0x7F: a byte is zero in `x ^ pattern` where it matches, and a zero byte, like one
        /// below 0x20, borrows into its top bit when the low bits are subtracted (a bit set in
        /// `x` itself, a byte above 0x7F, is what the last test catches).
        @inline(__always)
        static func plain(_ x: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let high: UInt64 = 0x8080_8080_8080_8080
            let quote = x ^ (ones &* 0x22)
            let backslash = x ^ (ones &* 0x5C)
            let found = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((x &- ones &* 0x20) & ~x) | x
            return found & high == 0
        }

        private mutating func number(into values: inout [Value]) throws(JSONTapeError) {
            let start = at
            if buffer[at] == UInt8(ascii: "-") { at += 1 }
            guard at < buffer.count, isDigit(buffer[at]) else { throw JSONTapeError(start, "invalid number") }
            if buffer[at] == UInt8(ascii: "0") {
                at += 1
                if at < buffer.count, isDigit(buffer[at]) { throw JSONTapeError(start, "number with a leading zero") }
            } else {
                while at < buffer.count, isDigit(buffer[at]) { at += 1 }
            }
            if at < buffer.count, buffer[at] == UInt8(ascii: ".") {
                at += 1
                guard at < buffer.count, isDigit(buffer[at]) else { throw JSONTapeError(start, "invalid number") }
                while at < buffer.count, isDigit(buffer[at]) { at += 1 }
            }
            if at < buffer.count, buffer[at] == UInt8(ascii: "e") || buffer[at] == UInt8(ascii: "E") {
                at += 1
                if at < buffer.count, buffer[at] == UInt8(ascii: "+") || buffer[at] == UInt8(ascii: "-") { at += 1 }
                guard at < buffer.count, isDigit(buffer[at]) else { throw JSONTapeError(start, "invalid number") }
                while at < buffer.count, isDigit(buffer[at]) { at += 1 }
            }
            values.append(Value(kind: .number, start: start, end: at, after: values.count + 1, escaped: false, ascii: true))
        }

        private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        /// 0–15 for a hex digit, 0xFF otherwise.
        static func hexValue(_ byte: UInt8) -> UInt8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: 0xFF
            }
        }
    }
}

/// Why a payload is not JSON: where, and what was wrong.
struct JSONTapeError: Error, CustomStringConvertible {
    var offset: Int
    var reason: String

    init(_ offset: Int, _ reason: String) {
        self.offset = offset
        self.reason = reason
    }

    var description: String { "\(reason) at byte \(offset)" }
}
