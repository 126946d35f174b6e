import Foundation
import SpoolFormat

/// A JSON document parsed in one pass into a flat list of values ("tape"), each naming its bytes
/// in the input: strings and numbers are converted only when a decoder asks for them. Strict
/// RFC 8259, as Foundation's JSONDecoder reads it (`JSONTapeParser`).
///
/// One allocation, with nothing in it to count references to: the values are stored in the
/// object itself, in room for as many values as the document can hold (`capacity(for:)`), so the
/// tape never grows or copies, and after them a copy of the document's bytes, read in place. A
/// decoder holds the tape, so a document costs that allocation and nothing per value.
final class JSONTape: ManagedBuffer<JSONTape.Header, JSONTape.Value> {
    enum Kind: UInt8 { case null, `true`, `false`, number, string, array, object }

    struct Header {
        /// Values written.
        var count: Int
        /// Room for values: the document's bytes start after it.
        var room: Int
        var byteCount: Int
        /// The values' worth of storage asked for when the tape was made (`ManagedBuffer.capacity`
        /// asks the allocator, which costs more than a small document's decoding).
        let storage: Int
    }

    /// Offsets fit 32 bits (larger documents are left to Foundation), which makes a value 16
    /// bytes instead of 40: a document's tape is a quarter of the memory it would be.
    struct Value {
        /// A string's contents (inside the quotes) or a number's text; for an array or object,
        /// its number of elements (members for an object) in both.
        private var start32: UInt32
        private var end32: UInt32
        /// The index after this value and everything inside it: the next sibling.
        private var after32: UInt32
        let kind: Kind
        /// A string with a backslash escape, which must be unescaped to be read.
        let escaped: Bool
        /// A string of bytes below 0x80 only (then valid UTF-8 as it stands).
        let ascii: Bool

        init(kind: Kind, start: Int, end: Int, after: Int, escaped: Bool, ascii: Bool) {
            (start32, end32, after32) = (UInt32(truncatingIfNeeded: start), UInt32(truncatingIfNeeded: end), UInt32(truncatingIfNeeded: after))
            (self.kind, self.escaped, self.ascii) = (kind, escaped, ascii)
        }

        var start: Int { Int(start32) }
        var end: Int { Int(end32) }
        var after: Int { Int(after32) }
        /// An array's elements or an object's members.
        var count: Int { Int(start32) }

        mutating func close(count: Int, after: Int) {
            (start32, end32, after32) = (UInt32(truncatingIfNeeded: count), UInt32(truncatingIfNeeded: count), UInt32(truncatingIfNeeded: after))
        }
    }

    static let depthMax = 512
    /// The largest document whose offsets fit a `Value`.
    static let bytesMax = Int(UInt32.max) - 1

    /// Parses `bytes`; an object's members are its key (a string value) and value, in order.
    static func parse(_ bytes: [UInt8]) throws(JSONTapeError) -> JSONTape {
        let result: Result<JSONTape, JSONTapeError> = bytes.withUnsafeBufferPointer { bytes in
            do throws(JSONTapeError) { return .success(try parse(bytes)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses `bytes` where they lie (a record's value in its batch): the tape copies them.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONTapeError) -> JSONTape {
        guard bytes.count <= bytesMax else { throw JSONTapeError(0, "document too large for a tape") }
        let room = capacity(for: bytes)
        let byteValues = (bytes.count + MemoryLayout<Value>.stride - 1) / MemoryLayout<Value>.stride
        let needed = room + byteValues
        let tape: JSONTape
        if needed <= reusableStorage, let spare = JSONTapeThreadState.takeSpareTape() {
            tape = spare
        } else {
            let storage = needed <= reusableStorage ? reusableStorage : needed
            tape = unsafeDowncast(create(minimumCapacity: storage) { _ in Header(count: 0, room: 0, byteCount: 0, storage: storage) }, to: JSONTape.self)
        }
        try tape.withUnsafeMutablePointers { header, values throws(JSONTapeError) -> Void in
            (header.pointee.count, header.pointee.room, header.pointee.byteCount) = (0, room, bytes.count)
            let text = UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(values + room).bindMemory(to: UInt8.self, capacity: bytes.count), count: bytes.count)
            _ = text.initialize(fromContentsOf: bytes)
            var parser = JSONTapeParser(buffer: UnsafeBufferPointer(text), values: values, capacity: room)
            try parser.document()
            header.pointee.count = parser.count
        }
        return tape
    }

    /// A tape of this many values' storage (16 KiB: a document of up to 1.8 KiB at least, more
    /// when its values are not all one-byte numbers and empty containers) is kept by its
    /// thread when its document is decoded and nothing holds it any more, for the thread's next
    /// document: most documents then allocate no tape. Larger ones get a tape of their own size.
    static let reusableStorage = 1024

    /// Gives `tape` to its thread for its next document, when it is of the reusable size and
    /// nothing else holds it (a decoder kept by the decoded value holds it, and then it is not).
    static func recycle(_ tape: inout JSONTape) {
        guard isKnownUniquelyReferenced(&tape), tape.withUnsafeMutablePointerToHeader({ $0.pointee.storage }) == reusableStorage else { return }
        JSONTapeThreadState.putSpareTape(tape)
    }

    /// How many values the parser may write for `bytes`. A valid document of n values has at
    /// least 2n - 1 bytes (every value but the first follows a `,` or `:` or is the first in its
    /// container, which has a closing bracket of its own), so half its bytes are room enough for
    /// a small document; the parser stops a document that needs more (it is not JSON). A larger
    /// one is given exactly what it can need: each value but the first follows a `[`, `{`, `,`
    /// or `:` of its own.
    static func capacity(for bytes: UnsafeBufferPointer<UInt8>) -> Int {
        if bytes.count <= 128 { return (bytes.count + 1) / 2 + 1 }
        // Eight bytes at a time: the top bit of each byte that is one of the four, counted.
        let base = bytes.baseAddress!
        var structural = 1
        var at = 0
        while at + 8 <= bytes.count {
            structural += structuralBytes(UnsafeRawPointer(base + at).loadUnaligned(as: UInt64.self)).nonzeroBitCount
            at += 8
        }
        while at < bytes.count {
            let byte = base[at]
            if byte == UInt8(ascii: ",") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") { structural += 1 }
            at += 1
        }
        return min(structural, (bytes.count + 1) / 2 + 1)
    }

    /// Of eight bytes, the top bit of each that is `,`, `:`, `[` or `{`, and of no other: exact,
    /// unlike `JSONTapeParser.special`, as each byte's test is kept inside its byte (no borrow
    /// runs into the next).
    @inline(__always)
    static func structuralBytes(_ loaded: UInt64) -> UInt64 {
        let x = UInt64(littleEndian: loaded)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let high: UInt64 = 0x8080_8080_8080_8080
        /// The top bit of each byte of x equal to `byte`: a byte is zero in `x ^ pattern` where it
        /// matches, and adding 0x7F to its low seven bits sets its top bit unless they are zero.
        func equal(_ byte: UInt8) -> UInt64 {
            let y = x ^ (ones &* UInt64(byte))
            return ~(((y & low7) &+ low7) | y) & high
        }
        return equal(UInt8(ascii: ",")) | equal(UInt8(ascii: ":")) | equal(UInt8(ascii: "[")) | equal(UInt8(ascii: "{"))
    }

    var count: Int { withUnsafeMutablePointerToHeader { $0.pointee.count } }

    subscript(index: Int) -> Value {
        withUnsafeMutablePointers { header, values in
            precondition(index >= 0 && index < header.pointee.count, "index outside the tape")
            return values[index]
        }
    }

    /// The document's bytes, for the length of `body`.
    func withBytes<R, E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        try withUnsafeMutablePointers { header, values throws(E) in
            let text = UnsafeRawPointer(values + header.pointee.room).assumingMemoryBound(to: UInt8.self)
            return try body(UnsafeBufferPointer(start: text, count: header.pointee.byteCount))
        }
    }

    /// A string value's text.
    func string(_ index: Int) throws(JSONTapeError) -> String {
        let value = self[index]
        return try withBytes { buffer throws(JSONTapeError) in
            let contents = UnsafeBufferPointer(rebasing: buffer[value.start..<value.end])
            if value.escaped { return try Self.unescape(contents, at: value.start) }
            // ASCII as the parser found it: no need to check it again.
            if value.ascii { return String(copying: unsafe UTF8Span(unchecked: contents.span, isKnownASCII: true)) }
            guard let text = String(validating: contents, as: UTF8.self) else { throw JSONTapeError(value.start, "string is not valid UTF-8") }
            return text
        }
    }

    /// The text of a string's contents with backslash escapes (checked by the parser: each is
    /// one of JSON's, a `\u` with four hex digits); `offset` is where they start in the document.
    static func unescape(_ contents: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONTapeError) -> String {
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(contents.count)
        var at = 0
        while at < contents.count {
            let byte = contents[at]
            guard byte == UInt8(ascii: "\\") else {
                unescaped.append(byte)
                at += 1
                continue
            }
            let escape = contents[at + 1]
            at += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped.append(escape)
            case UInt8(ascii: "b"): unescaped.append(0x08)
            case UInt8(ascii: "f"): unescaped.append(0x0C)
            case UInt8(ascii: "n"): unescaped.append(0x0A)
            case UInt8(ascii: "r"): unescaped.append(0x0D)
            case UInt8(ascii: "t"): unescaped.append(0x09)
            default:
                var scalar = hex4(contents, at)
                at += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard at + 6 <= contents.count, contents[at] == UInt8(ascii: "\\"), contents[at + 1] == UInt8(ascii: "u"),
                          case let low = hex4(contents, at + 2), (0xDC00...0xDFFF).contains(low) else {
                        throw JSONTapeError(offset + at - 6, "unpaired UTF-16 surrogate in \\u escape")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    at += 6
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw JSONTapeError(offset + at - 6, "unpaired UTF-16 surrogate in \\u escape")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw JSONTapeError(offset + at - 6, "invalid \\u escape") }
                unescaped.append(contentsOf: Array(String(Character(unicode)).utf8))
            }
        }
        guard let text = validUTF8String(unescaped) else { throw JSONTapeError(offset, "string is not valid UTF-8") }
        return text
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        var result: UInt32 = 0
        for byte in bytes[at..<at + 4] { result = result << 4 | UInt32(JSONTapeParser.hexValue(byte)) }
        return result
    }

    /// The index of the value of the member of the object at `object` whose key is `name`; the
    /// first, when a key is repeated. Keys are Strings to Foundation, equal when canonically
    /// equivalent ("e\u{301}" is "\u{E9}", the Kelvin sign is "K"), so only two ASCII keys are
    /// compared byte for byte, in place; an escaped key, or one where either is not ASCII, is
    /// made a String to compare.
    func member(named name: String, inObjectAt object: Int) -> Int? {
        if let found = name.utf8.withContiguousStorageIfAvailable({ member(named: $0, name, inObjectAt: object) }) { return found }
        var contiguous = name
        return contiguous.withUTF8 { member(named: $0, name, inObjectAt: object) }
    }

    private func member(named key: UnsafeBufferPointer<UInt8>, _ name: String, inObjectAt object: Int) -> Int? {
        withUnsafeMutablePointers { header, values in
            let end = values[object].after
            precondition(object >= 0 && end <= header.pointee.count, "object outside the tape")
            let text = UnsafeRawPointer(values + header.pointee.room).assumingMemoryBound(to: UInt8.self)
            // Whether the name is ASCII is asked only once a key is not plain ASCII (an ASCII key
            // whose bytes are not the name's is another String only when the name is ASCII too).
            var nameASCII: Bool?
            var at = object + 1
            while at < end {
                let value = values[at]
                if value.ascii && !value.escaped {
                    if value.end - value.start == key.count && Self.equal(text + value.start, key) { return at + 1 }
                    if nameASCII == nil { nameASCII = key.allSatisfy { $0 < 0x80 } }
                    if nameASCII == false && String(decoding: UnsafeBufferPointer(start: text + value.start, count: value.end - value.start), as: UTF8.self) == name {
                        return at + 1
                    }
                } else if value.escaped {
                    if (try? Self.unescape(UnsafeBufferPointer(start: text + value.start, count: value.end - value.start), at: value.start)) == name { return at + 1 }
                } else if String(decoding: UnsafeBufferPointer(start: text + value.start, count: value.end - value.start), as: UTF8.self) == name {
                    // Valid UTF-8: the parser checked every key.
                    return at + 1
                }
                at = values[at + 1].after
            }
            return nil
        }
    }

    /// Whether the bytes at `bytes` are `key`'s. A loop, not `memcmp`: keys are short, and a
    /// call costs more than comparing them.
    @inline(__always)
    private static func equal(_ bytes: UnsafePointer<UInt8>, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        for offset in 0..<key.count where bytes[offset] != key[offset] { return false }
        return true
    }

    /// The number at `index` as `T` when it is written as a whole number of at most 18 digits
    /// (after a minus, for a signed type) in `T`'s range, read from its bytes; nil for any other
    /// value, which is then read from its text as before. The same value: such a number is read
    /// by `T(text, radix: 10)` exactly, and one out of `T`'s range is refused by it and by the
    /// reading as a Double that follows.
    func plainInteger<T: FixedWidthInteger>(_ type: T.Type, _ index: Int) -> T? {
        withUnsafeMutablePointers { header, values in
            precondition(index >= 0 && index < header.pointee.count, "index outside the tape")
            let value = values[index]
            guard value.kind == .number else { return nil }
            let text = UnsafeRawPointer(values + header.pointee.room).assumingMemoryBound(to: UInt8.self)
            var at = value.start
            let negative = text[at] == UInt8(ascii: "-")
            if negative {
                guard T.isSigned else { return nil }
                at += 1
            }
            guard value.end - at <= 18 else { return nil }
            var magnitude: Int64 = 0
            while at < value.end {
                let digit = text[at] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                magnitude = magnitude &* 10 &+ Int64(digit)
                at += 1
            }
            return T(exactly: negative ? -magnitude : magnitude)
        }
    }

    /// The string at `index` as a Date when it is written "YYYY-MM-DDTHH:MM:SSZ" (the form
    /// `JSONBytesEncoder` and Foundation write) of a real day and time of the years 1970 to 9999:
    /// what Foundation's ISO 8601 parsing gives for it, a whole number of seconds, computed here.
    /// Nil for any other value or form, which Foundation's parsing then reads.
    func plainDate(_ index: Int) -> Date? {
        withUnsafeMutablePointers { header, values in
            precondition(index >= 0 && index < header.pointee.count, "index outside the tape")
            let value = values[index]
            guard value.kind == .string, !value.escaped, value.end - value.start == 20 else { return nil }
            let text = UnsafeRawPointer(values + header.pointee.room).assumingMemoryBound(to: UInt8.self) + value.start
            guard text[4] == UInt8(ascii: "-"), text[7] == UInt8(ascii: "-"), text[10] == UInt8(ascii: "T"), text[13] == UInt8(ascii: ":"),
                  text[16] == UInt8(ascii: ":"), text[19] == UInt8(ascii: "Z") else { return nil }
            func digits(_ at: Int, _ count: Int) -> Int? {
                var result = 0
                for offset in at..<at + count {
                    let digit = text[offset] &- UInt8(ascii: "0")
                    guard digit < 10 else { return nil }
                    result = result * 10 + Int(digit)
                }
                return result
            }
            guard let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2), let hour = digits(11, 2),
                  let minute = digits(14, 2), let second = digits(17, 2),
                  year >= 1970, (1...12).contains(month), day >= 1, day <= CivilDate.days(inMonth: month, year: year),
                  hour < 24, minute < 60, second < 60 else { return nil }
            let days = CivilDate.daysSince1970(year: year, month: month, day: day)
            return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3600 + minute * 60 + second))
        }
    }

    /// A number value's text.
    func numberText(_ index: Int) -> Substring {
        let value = self[index]
        return withBytes { Substring(decoding: UnsafeBufferPointer(rebasing: $0[value.start..<value.end]), as: UTF8.self) }
    }

    /// A document that is just `null`.
    static func null() -> JSONTape { try! parse(Array("null".utf8)) }
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
