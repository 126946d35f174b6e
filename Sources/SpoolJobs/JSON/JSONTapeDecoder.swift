import Foundation

/// Decodes a Decodable value from strict JSON, giving the value Foundation's `JSONDecoder` set up
/// as `JSONJobCoding` sets it up gives (ISO 8601 dates, base64 data, every other strategy the
/// default), several times faster: the document is parsed once into a `JSONTape`, a value's text
/// is converted only when the type asks for it, and a member of a primitive type is read without
/// a decoder of its own. Where it throws, `JSONDecoder` may answer otherwise (it reads some
/// invalid JSON, and words its errors its own way), so `JSONJobCoding` then asks `JSONDecoder`.
enum JSONTapeDecoding {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBufferPointer { try decode(type, from: $0) }
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeBufferPointer<UInt8>) throws -> T {
        var tape: JSONTape
        do { tape = try JSONTape.parse(bytes) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "The given data was not valid JSON: \(error)", underlyingError: error))
        }
        defer { JSONTape.recycle(&tape) }
        return try JSONTapeDecoder(tape: tape, index: 0, path: nil).decodeValue(type)
    }
}

/// The decoder for one value of the tape (the document, a member, an element). A value of three
/// words, not an object: an `any Decoder` holds it inline, so the document's decoder, and a
/// single value's container, allocate nothing. Its coding path is a link to its parent's
/// (`JSONTapePath`), made for a nested decoder only, and built into keys only when asked for.
struct JSONTapeDecoder: Decoder {
    let tape: JSONTape
    let index: Int
    let path: JSONTapePath?
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var codingPath: [any CodingKey] { path?.codingPath ?? [] }

    /// The decoder of the value at `at`, named by `key` under this one.
    func nested(_ at: Int, _ key: any CodingKey) -> JSONTapeDecoder {
        JSONTapeDecoder(tape: tape, index: at, path: JSONTapePath(parent: path, key: key))
    }

    /// No key: the value is this decoder's own.
    static var noKey: JSONTapeOwnValue { JSONTapeOwnValue() }

    /// Generic over the key, not an existential of it: the keyed containers pass theirs with no
    /// box made and no optional of its type looked up, for the path that only an error needs.
    func codingPath<K: CodingKey>(_ key: K) -> [any CodingKey] { K.self == JSONTapeOwnValue.self ? codingPath : codingPath + [key] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard tape[index].kind == .object else { throw mismatch(index, Self.noKey, [String: Any].self, "a dictionary") }
        return KeyedDecodingContainer(JSONTapeKeyedContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard tape[index].kind == .array else { throw mismatch(index, Self.noKey, [Any].self, "an array") }
        return JSONTapeUnkeyedContainer(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: Errors, for the value at `at`, named by `key` under this decoder (`noKey`: this decoder's own)

    func mismatch<K: CodingKey>(_ at: Int, _ key: K, _ type: Any.Type, _ name: String) -> DecodingError {
        let kind = tape[at].kind
        if kind == .null {
            return .valueNotFound(type, .init(codingPath: codingPath(key), debugDescription: "Cannot get value of type \(type) -- found null value instead"))
        }
        let found = switch kind {
        case .null: "null"
        case .true, .false: "bool"
        case .number: "number"
        case .string: "a string"
        case .array: "an array"
        case .object: "a dictionary"
        }
        return .typeMismatch(type, .init(codingPath: codingPath(key), debugDescription: "Expected to decode \(name) but found \(found) instead."))
    }

    func corrupted<K: CodingKey>(_ key: K, _ description: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath(key), debugDescription: description))
    }

    // MARK: Values

    /// The value at `at` as `T`: primitives read in place, anything else by its own decoder.
    func decode<T: Decodable, K: CodingKey>(_ type: T.Type, at: Int, key: K) throws -> T {
        // The common types first, without the generic path; each value is of type T, checked
        // just before (so reinterpreted, not cast at run time).
        if T.self == String.self { return unsafeBitCast(try string(at, key), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try integer(Int.self, at, key), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try bool(at, key), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try float(Double.self, at, key), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try integer(Int64.self, at, key), to: T.self) }
        if T.self == Date.self { return unsafeBitCast(try date(at, key), to: T.self) }
        if T.self == Data.self { return unsafeBitCast(try data(at, key), to: T.self) }
        if T.self == URL.self { return unsafeBitCast(try url(at, key), to: T.self) }
        if T.self == Decimal.self { return unsafeBitCast(try decimal(at, key), to: T.self) }
        if T.self == [String: String].self, let dictionary = stringDictionary(at) { return unsafeBitCast(dictionary, to: T.self) }
        return try T(from: K.self == JSONTapeOwnValue.self ? self : nested(at, key))
    }

    /// An object of string members as `[String: String]`, built as `Dictionary.init(from:)` builds
    /// it through a keyed container: from empty, each key in turn given the value of the first
    /// member with that key (keys equal as Strings, as they are looked up), the first key of equal
    /// ones kept. Nil for anything else (not an object, a member that is not a string, one whose
    /// text cannot be read): the generic path then gives the value or the error it gives.
    func stringDictionary(_ at: Int) -> [String: String]? {
        let object = tape[at]
        guard object.kind == .object else { return nil }
        var dictionary: [String: String] = [:]
        var member = at + 1
        while member < object.after {
            let value = tape[member + 1]
            guard value.kind == .string, let name = try? tape.string(member), let text = try? tape.string(member + 1) else { return nil }
            if dictionary[name] == nil { dictionary[name] = text }
            member = value.after
        }
        return dictionary
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T { try decode(type, at: index, key: Self.noKey) }

    func string<K: CodingKey>(_ at: Int, _ key: K) throws -> String {
        guard tape[at].kind == .string else { throw mismatch(at, key, String.self, "String") }
        do { return try tape.string(at) } catch { throw corrupted(key, "\(error)") }
    }

    func bool<K: CodingKey>(_ at: Int, _ key: K) throws -> Bool {
        switch tape[at].kind {
        case .true: return true
        case .false: return false
        default: throw mismatch(at, key, Bool.self, "Bool")
        }
    }

    /// Inlined where it is called, so that `T` is known there and the common case (`plainInteger`)
    /// is compiled for it: not specialized, generic code looks up `T`'s optional and parses the text
    /// through protocol witnesses, costing several times the rest of a member's decoding.
    @inline(__always)
    func integer<T: FixedWidthInteger, K: CodingKey>(_ type: T.Type, _ at: Int, _ key: K) throws -> T {
        if let integer = tape.plainInteger(T.self, at) { return integer }
        return try anyInteger(T.self, at, key)
    }

    /// An integer written in any way, or the error for a value that is not one.
    private func anyInteger<T: FixedWidthInteger, K: CodingKey>(_ type: T.Type, _ at: Int, _ key: K) throws -> T {
        guard tape[at].kind == .number else { throw mismatch(at, key, T.self, "\(T.self)") }
        let text = tape.numberText(at)
        // Out of range, or a fraction or an exponent that is not a whole number Foundation takes.
        guard let integer = T(text, radix: 10) ?? Self.wholeNumber(T.self, text) else {
            throw corrupted(key, "Parsed JSON number <\(text)> does not fit in \(T.self).")
        }
        return integer
    }

    /// A number written with a fraction or an exponent that Foundation takes as an integer: one
    /// read as a Double that is whole and below 2^53 (1.0, 1e2, -0.0). Larger ones Foundation reads
    /// as a Decimal; they are left to it. Taken here too, not only by the fallback, so that a type
    /// that tries an integer first (`try? decode(Int.self)`) gets what it gets from Foundation.
    static func wholeNumber<T: FixedWidthInteger>(_ type: T.Type, _ text: Substring) -> T? {
        guard let double = Double(String(text)), double.magnitude < 9_007_199_254_740_992 else { return nil }
        return T(exactly: double)
    }

    /// Inlined where it is called, as `integer` is: a number read as `T` known, or else the error.
    @inline(__always)
    func float<T: BinaryFloatingPoint & LosslessStringConvertible, K: CodingKey>(_ type: T.Type, _ at: Int, _ key: K) throws -> T {
        if let number = floatValue(T.self, at) { return number }
        return try anyFloat(T.self, at, key)
    }

    /// The number at `at` as `T`, when it is one Foundation reads as `anyFloat` does; nil otherwise.
    func floatValue<T: BinaryFloatingPoint & LosslessStringConvertible>(_ type: T.Type, _ at: Int) -> T? {
        guard tape[at].kind == .number else { return nil }
        let text = tape.numberText(at)
        guard let number = T(String(text)), number.isFinite, !(number.isZero && (!Self.isTrueZero(text) || text.contains { $0 == "e" || $0 == "E" })) else {
            return nil
        }
        if T.self == Float.self, let double = Double(String(text)), Float(double) != number as? Float { return nil }
        return number
    }

    /// The number at `at` as `T`, or the error for a value that is not one (`floatValue`'s tests, the same).
    private func anyFloat<T: BinaryFloatingPoint & LosslessStringConvertible, K: CodingKey>(_ type: T.Type, _ at: Int, _ key: K) throws -> T {
        guard tape[at].kind == .number else { throw mismatch(at, key, T.self, "\(T.self)") }
        let text = tape.numberText(at)
        // Foundation refuses what is out of range, and a zero read from digits that are not all
        // zeros (an underflow, with an exponent or without: 1e-400, 0.000…0001); a zero written
        // with an exponent is left to it too (it refuses 0e5).
        guard let number = T(String(text)), number.isFinite, !(number.isZero && (!Self.isTrueZero(text) || text.contains { $0 == "e" || $0 == "E" })) else {
            throw corrupted(key, "Number \(text) is not representable in Swift.")
        }
        // A Float read directly and through a Double may round differently; then Foundation decides.
        if T.self == Float.self, let double = Double(String(text)), Float(double) != number as? Float {
            throw corrupted(key, "Number \(text) rounds differently as Float.")
        }
        return number
    }

    /// Whether a number's digits are all zeros.
    static func isTrueZero(_ text: Substring) -> Bool { !text.utf8.contains { $0 >= UInt8(ascii: "1") && $0 <= UInt8(ascii: "9") } }

    private func date<K: CodingKey>(_ at: Int, _ key: K) throws -> Date {
        if let date = tape.plainDate(at) { return date }
        guard let date = try? Date.ISO8601FormatStyle().parse(try string(at, key)) else {
            throw corrupted(key, "Expected date string to be ISO8601-formatted.")
        }
        return date
    }

    private func data<K: CodingKey>(_ at: Int, _ key: K) throws -> Data {
        guard let data = Data(base64Encoded: try string(at, key)) else { throw corrupted(key, "Encountered Data is not valid Base64.") }
        return data
    }

    private func url<K: CodingKey>(_ at: Int, _ key: K) throws -> URL {
        guard let url = URL(string: try string(at, key)) else { throw corrupted(key, "Invalid URL string.") }
        return url
    }

    private func decimal<K: CodingKey>(_ at: Int, _ key: K) throws -> Decimal {
        guard tape[at].kind == .number else { throw mismatch(at, key, Decimal.self, "Decimal") }
        let text = tape.numberText(at)
        guard let decimal = Decimal(string: String(text), locale: Locale(identifier: "en_US_POSIX")) else {
            throw corrupted(key, "Parsed JSON number <\(text)> does not fit in Decimal.")
        }
        return decimal
    }
}

extension JSONTapeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { tape[index].kind == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try bool(index, Self.noKey) }
    func decode(_ type: String.Type) throws -> String { try string(index, Self.noKey) }
    func decode(_ type: Double.Type) throws -> Double { try float(type, index, Self.noKey) }
    func decode(_ type: Float.Type) throws -> Float { try float(type, index, Self.noKey) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type, index, Self.noKey) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type, index, Self.noKey) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type, index, Self.noKey) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type, index, Self.noKey) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type, index, Self.noKey) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type, index, Self.noKey) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type, index, Self.noKey) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type, index, Self.noKey) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type, index, Self.noKey) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type, index, Self.noKey) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type) }
}

/// A nested decoder's coding path: its key, under its parent's path (nil at the document).
final class JSONTapePath {
    let parent: JSONTapePath?
    let key: any CodingKey

    init(parent: JSONTapePath?, key: any CodingKey) {
        self.parent = parent
        self.key = key
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var node: JSONTapePath? = self
        while let current = node {
            path.append(current.key)
            node = current.parent
        }
        return path.reversed()
    }
}
