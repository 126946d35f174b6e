import Foundation

/// Writes a document's values into a tape's storage, in one pass. Strict RFC 8259, as
/// Foundation's JSONDecoder reads it: one value with optional whitespace around it, no comments,
/// no trailing commas, strings of valid UTF-8 without raw control characters, numbers in JSON's
/// grammar, nesting up to 512 deep.
///
/// It lives only inside `JSONTape.parse`, which lends it the document's bytes and the tape's room
/// for values for that call.
struct JSONTapeParser {
    typealias Value = JSONTape.Value

    private let buffer: UnsafeBufferPointer<UInt8>
    /// The document's first byte and its length: read through the pointer where `at` is known
    /// to be inside, without the buffer's bounds check.
    private let base: UnsafePointer<UInt8>
    private let length: Int
    private let values: UnsafeMutablePointer<Value>
    private let capacity: Int
    private(set) var count = 0
    private var at = 0

    init(buffer: UnsafeBufferPointer<UInt8>, values: UnsafeMutablePointer<Value>, capacity: Int) {
        (self.buffer, self.values, self.capacity) = (buffer, values, capacity)
        // The tape's bytes: an address even for an empty document.
        (base, length) = (buffer.baseAddress!, buffer.count)
    }

    /// The whole document: one value, with whitespace around it.
    mutating func document() throws(JSONTapeError) {
        // A UTF-8 byte-order mark is passed over, as Foundation does.
        if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { at = 3 }
        skipWhitespace()
        try value(depth: 0)
        skipWhitespace()
        if at < buffer.count { throw JSONTapeError(at, "unexpected character after the top-level value") }
    }

    /// Adds a value; the tape has room for every value of a valid document, so one that needs
    /// more is not JSON (`JSONTape.capacity(for:)`).
    private mutating func append(_ value: Value) throws(JSONTapeError) {
        guard count < capacity else { throw JSONTapeError(at, "more values than a valid document of its length holds") }
        (values + count).initialize(to: value)
        count += 1
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while at < length {
            switch base[at] {
            case 0x20, 0x0A, 0x0D, 0x09: at += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(JSONTapeError) {
        guard at < length else { throw JSONTapeError(at, "unexpected end of input") }
        switch base[at] {
        case UInt8(ascii: "{"): try container(depth: depth, object: true)
        case UInt8(ascii: "["): try container(depth: depth, object: false)
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "t"): try literal("true", .true)
        case UInt8(ascii: "f"): try literal("false", .false)
        case UInt8(ascii: "n"): try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw JSONTapeError(at, "unexpected character '\(Unicode.Scalar(buffer[at]))'")
        }
    }

    private mutating func literal(_ word: StaticString, _ kind: JSONTape.Kind) throws(JSONTapeError) {
        let length = word.utf8CodeUnitCount
        guard at + length <= buffer.count, memcmp(buffer.baseAddress! + at, word.utf8Start, length) == 0 else {
            throw JSONTapeError(at, "invalid literal (expected \(word))")
        }
        try append(Value(kind: kind, start: at, end: at + length, after: count + 1, escaped: false, ascii: true))
        at += length
    }

    private mutating func container(depth: Int, object: Bool) throws(JSONTapeError) {
        guard depth < JSONTape.depthMax else { throw JSONTapeError(at, "nested deeper than \(JSONTape.depthMax) levels") }
        let index = count
        try append(Value(kind: object ? .object : .array, start: 0, end: 0, after: 0, escaped: false, ascii: true))
        let close = object ? UInt8(ascii: "}") : UInt8(ascii: "]")
        at += 1
        skipWhitespace()
        var elements = 0
        if at < length && base[at] == close {
            at += 1
        } else {
            while true {
                if object {
                    guard at < length, base[at] == UInt8(ascii: "\"") else { throw JSONTapeError(at, "expected a string key") }
                    try string()
                    if !(values[count - 1].ascii && !values[count - 1].escaped) { try checkKey(values[count - 1]) }
                    skipWhitespace()
                    guard at < length, base[at] == UInt8(ascii: ":") else { throw JSONTapeError(at, "expected ':' after a key") }
                    at += 1
                    skipWhitespace()
                }
                try value(depth: depth + 1)
                elements += 1
                skipWhitespace()
                guard at < length else { throw JSONTapeError(at, "unexpected end of input") }
                if base[at] == UInt8(ascii: ",") {
                    at += 1
                    skipWhitespace()
                    continue
                }
                guard base[at] == close else { throw JSONTapeError(at, object ? "expected ',' or '}'" : "expected ',' or ']'") }
                at += 1
                break
            }
        }
        values[index].close(count: elements, after: count)
    }

    /// A key must read as a string: a container is looked up by its keys' text.
    private func checkKey(_ key: Value) throws(JSONTapeError) {
        if key.ascii && !key.escaped { return }
        let raw = UnsafeBufferPointer(rebasing: buffer[key.start..<key.end])
        if key.escaped {
            _ = try JSONTape.unescape(raw, at: key.start)
        } else if String(validating: raw, as: UTF8.self) == nil {
            throw JSONTapeError(key.start, "key is not valid UTF-8")
        }
    }

    private mutating func string() throws(JSONTapeError) {
        at += 1
        let start = at
        var escaped = false
        var ascii = true
        while true {
            // Eight bytes at a time up to the first that is not plain (`special`), then that byte.
            while at + 8 <= length {
                let special = Self.special(UnsafeRawPointer(base + at).loadUnaligned(as: UInt64.self))
                if special != 0 {
                    at += special.trailingZeroBitCount / 8
                    break
                }
                at += 8
            }
            guard at < length else { throw JSONTapeError(start - 1, "unterminated string") }
            let byte = base[at]
            if byte == UInt8(ascii: "\"") { break }
            if byte >= 0x80 { ascii = false }
            if byte < 0x20 { throw JSONTapeError(at, "unescaped control character in a string") }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                guard at + 1 < buffer.count else { throw JSONTapeError(at, "unterminated string") }
                switch base[at + 1] {
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
        try append(Value(kind: .string, start: start, end: at, after: count + 1, escaped: escaped, ascii: ascii))
        at += 1
    }

    /// Of eight bytes loaded from memory, the top bit of each that is `"`, `\\`, below 0x20 or
    /// above 0x7F, but perhaps of some bytes after the first of those too: a byte is zero in
    /// `x ^ pattern` where it matches, and a zero byte, like one below 0x20, borrows into its top
    /// bit when the low bits are subtracted (and the borrow may run on into the bytes above it);
    /// a bit set in `x` itself, a byte above 0x7F, is what the last test catches. So the lowest
    /// bit set is the first such byte (the bytes in memory order, lowest first), and zero means
    /// all eight are plain.
    @inline(__always)
    static func special(_ loaded: UInt64) -> UInt64 {
        let x = UInt64(littleEndian: loaded)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let quote = x ^ (ones &* 0x22)
        let backslash = x ^ (ones &* 0x5C)
        return (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((x &- ones &* 0x20) & ~x) | x) & high
    }

    private mutating func number() throws(JSONTapeError) {
        let start = at
        if base[at] == UInt8(ascii: "-") { at += 1 }
        guard at < length, isDigit(base[at]) else { throw JSONTapeError(start, "invalid number") }
        if base[at] == UInt8(ascii: "0") {
            at += 1
            if at < length, isDigit(base[at]) { throw JSONTapeError(start, "number with a leading zero") }
        } else {
            while at < length, isDigit(base[at]) { at += 1 }
        }
        if at < length, base[at] == UInt8(ascii: ".") {
            at += 1
            guard at < length, isDigit(base[at]) else { throw JSONTapeError(start, "invalid number") }
            while at < length, isDigit(base[at]) { at += 1 }
        }
        if at < length, base[at] == UInt8(ascii: "e") || base[at] == UInt8(ascii: "E") {
            at += 1
            if at < length, base[at] == UInt8(ascii: "+") || base[at] == UInt8(ascii: "-") { at += 1 }
            guard at < length, isDigit(base[at]) else { throw JSONTapeError(start, "invalid number") }
            while at < length, isDigit(base[at]) { at += 1 }
        }
        try append(Value(kind: .number, start: start, end: at, after: count + 1, escaped: false, ascii: true))
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
