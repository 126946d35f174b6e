import Foundation

/// Decodes a Decodable value from strict JSON, giving the value Foundation's `JSONDecoder` set up
/// as `JSONJobCoding` sets it up gives (ISO 8601 dates, base64 data, every other strategy the
/// default), several times faster: the document is parsed once into a `JSONTape`, a value's text
/// is converted only when the type asks for it, and a member of a primitive type is read without
/// a decoder of its own. Where it throws, `JSONDecoder` may answer otherwise (it reads some
/// invalid JSON, and words its errors its own way), so `JSONJobCoding` then asks `JSONDecoder`.
enum JSONTapeDecoding {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let tape: JSONTape
        do { tape = try JSONTape(bytes) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "The given data was not valid JSON: \(error)", underlyingError: error))
        }
        return try JSONTapeDecoder(tape: tape, index: 0, parent: nil, key: nil).decodeValue(type)
    }
}

/// The decoder for one value of the tape (the document, a member, an element). Its coding path
/// is kept as a link to its parent and is built only when asked for.
final class JSONTapeDecoder: Decoder {
    let tape: JSONTape
    let index: Int
    let parent: JSONTapeDecoder?
    let key: (any CodingKey)?
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(tape: JSONTape, index: Int, parent: JSONTapeDecoder?, key: (any CodingKey)?) {
        self.tape = tape
        self.index = index
        self.parent = parent
        self.key = key
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var decoder: JSONTapeDecoder? = self
        while let current = decoder, let key = current.key {
            path.append(key)
            decoder = current.parent
        }
        return path.reversed()
    }

    /// No key: the value is this decoder's own.
    static var noKey: JSONTapeOwnValue { JSONTapeOwnValue() }

    /// Generic over the key, not an existential of it: the keyed containers pass theirs with no
    /// box made and no optional of its type looked up, for the path that only an error needs.
    func path<K: CodingKey>(_ key: K) -> [any CodingKey] { K.self == JSONTapeOwnValue.self ? codingPath : codingPath + [key] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard tape.values[index].kind == .object else { throw mismatch(index, Self.noKey, [String: Any].self, "a dictionary") }
        return KeyedDecodingContainer(JSONTapeKeyedContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard tape.values[index].kind == .array else { throw mismatch(index, Self.noKey, [Any].self, "an array") }
        return JSONTapeUnkeyedContainer(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: Errors, for the value at `at`, named by `key` under this decoder (`noKey`: this decoder's own)

    func mismatch<K: CodingKey>(_ at: Int, _ key: K, _ type: Any.Type, _ name: String) -> DecodingError {
        let kind = tape.values[at].kind
        if kind == .null {
            return .valueNotFound(type, .init(codingPath: path(key), debugDescription: "Cannot get value of type \(type) -- found null value instead"))
        }
        let found = switch kind {
        case .null: "null"
        case .true, .false: "bool"
        case .number: "number"
        case .string: "a string"
        case .array: "an array"
        case .object: "a dictionary"
        }
        return .typeMismatch(type, .init(codingPath: path(key), debugDescription: "Expected to decode \(name) but found \(found) instead."))
    }

    func corrupted<K: CodingKey>(_ key: K, _ description: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: path(key), debugDescription: description))
    }

    // MARK: Values

    /// The value at `at` as `T`: primitives read in place, anything else by its own decoder.
    func decode<T: Decodable, K: CodingKey>(_ type: T.Type, at: Int, key: K) throws -> T {
        // The common types first, without the generic path.
        if T.self == String.self { return try string(at, key) as! T }
        if T.self == Int.self { return try integer(Int.self, at, key) as! T }
        if T.self == Bool.self { return try bool(at, key) as! T }
        if T.self == Double.self { return try float(Double.self, at, key) as! T }
        if T.self == Int64.self { return try integer(Int64.self, at, key) as! T }
        if T.self == Date.self { return try date(at, key) as! T }
        if T.self == Data.self { return try data(at, key) as! T }
        if T.self == URL.self { return try url(at, key) as! T }
        if T.self == Decimal.self { return try decimal(at, key) as! T }
        let own = K.self == JSONTapeOwnValue.self
        let decoder = own && at == index ? self : JSONTapeDecoder(tape: tape, index: at, parent: self, key: own ? nil : key as any CodingKey)
        return try T(from: decoder)
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T { try decode(type, at: index, key: Self.noKey) }

    func string<K: CodingKey>(_ at: Int, _ key: K) throws -> String {
        guard tape.values[at].kind == .string else { throw mismatch(at, key, String.self, "String") }
        do { return try tape.string(at) } catch { throw corrupted(key, "\(error)") }
    }

    func bool<K: CodingKey>(_ at: Int, _ key: K) throws -> Bool {
        switch tape.values[at].kind {
        case .true: return true
        case .false: return false
        default: throw mismatch(at, key, Bool.self, "Bool")
        }
    }

    func integer<T: FixedWidthInteger, K: CodingKey>(_ type: T.Type, _ at: Int, _ key: K) throws -> T {
        guard tape.values[at].kind == .number else { throw mismatch(at, key, T.self, "\(T.self)") }
        let text = tape.numberText(at)
        // A fraction or an exponent (Foundation takes some, by rules of its own), or out of range.
        guard let integer = T(text, radix: 10) else { throw corrupted(key, "Parsed JSON number <\(text)> does not fit in \(T.self).") }
        return integer
    }

    func float<T: BinaryFloatingPoint & LosslessStringConvertible, K: CodingKey>(_ type: T.Type, _ at: Int, _ key: K) throws -> T {
        guard tape.values[at].kind == .number else { throw mismatch(at, key, T.self, "\(T.self)") }
        let text = tape.numberText(at)
        // Foundation refuses what is out of range, and a zero written with an exponent (which
        // is how an underflow shows).
        guard let number = T(String(text)), number.isFinite, !(number.isZero && text.contains { $0 == "e" || $0 == "E" }) else {
            throw corrupted(key, "Number \(text) is not representable in Swift.")
        }
        // A Float read directly and through a Double may round differently; then Foundation decides.
        if T.self == Float.self, let double = Double(String(text)), Float(double) != number as? Float {
            throw corrupted(key, "Number \(text) rounds differently as Float.")
        }
        return number
    }

    private func date<K: CodingKey>(_ at: Int, _ key: K) throws -> Date {
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
        guard tape.values[at].kind == .number else { throw mismatch(at, key, Decimal.self, "Decimal") }
        let text = tape.numberText(at)
        guard let decimal = Decimal(string: String(text), locale: Locale(identifier: "en_US_POSIX")) else {
            throw corrupted(key, "Parsed JSON number <\(text)> does not fit in Decimal.")
        }
        return decimal
    }
}

extension JSONTapeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { tape.values[index].kind == .null }
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

/// An object's members, found by a scan of its keys (objects are small).
struct JSONTapeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: JSONTapeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    /// The index of the value of the member named `key`; the first, when a key is repeated.
    private func find(_ name: String) -> Int? {
        let tape = decoder.tape
        var at = decoder.index + 1
        let end = tape.values[decoder.index].after
        while at < end {
            if tape.stringEquals(at, name) { return at + 1 }
            at = tape.values[at + 1].after
        }
        return nil
    }

    private func member(_ key: Key) throws -> Int {
        guard let index = find(key.stringValue) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return index
    }

    var allKeys: [Key] {
        let tape = decoder.tape
        var keys: [Key] = []
        var at = decoder.index + 1
        let end = tape.values[decoder.index].after
        while at < end {
            if let name = try? tape.string(at), let key = Key(stringValue: name) { keys.append(key) }
            at = tape.values[at + 1].after
        }
        return keys
    }

    func contains(_ key: Key) -> Bool { find(key.stringValue) != nil }
    func decodeNil(forKey key: Key) throws -> Bool { decoder.tape.values[try member(key)].kind == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder.bool(try member(key), key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder.string(try member(key), key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder.float(type, try member(key), key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder.float(type, try member(key), key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder.integer(type, try member(key), key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder.integer(type, try member(key), key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder.integer(type, try member(key), key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder.integer(type, try member(key), key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder.integer(type, try member(key), key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder.integer(type, try member(key), key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder.integer(type, try member(key), key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder.integer(type, try member(key), key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder.integer(type, try member(key), key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder.integer(type, try member(key), key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder.decode(type, at: try member(key), key: key) }

    /// A missing member or a null one is nil, as Foundation's.
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let at = find(key.stringValue), decoder.tape.values[at].kind != .null else { return nil }
        return try decoder.string(at, key)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let at = find(key.stringValue), decoder.tape.values[at].kind != .null else { return nil }
        return try decoder.decode(type, at: at, key: key)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try JSONTapeDecoder(tape: decoder.tape, index: try member(key), parent: decoder, key: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try JSONTapeDecoder(tape: decoder.tape, index: try member(key), parent: decoder, key: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { superDecoder(named: JSONTapeKey.super) }
    func superDecoder(forKey key: Key) throws -> any Decoder { superDecoder(named: key) }

    /// The member's decoder, or for a missing one a decoder of null (as Foundation's).
    private func superDecoder(named key: any CodingKey) -> any Decoder {
        guard let at = find(key.stringValue) else { return JSONTapeDecoder(tape: JSONTape.null, index: 0, parent: decoder, key: key) }
        return JSONTapeDecoder(tape: decoder.tape, index: at, parent: decoder, key: key)
    }
}

/// An array's elements, in order.
struct JSONTapeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: JSONTapeDecoder
    private var next: Int
    private(set) var currentIndex = 0
    private let end: Int
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { end }
    var isAtEnd: Bool { currentIndex >= end }

    init(decoder: JSONTapeDecoder) {
        self.decoder = decoder
        next = decoder.index + 1
        end = decoder.tape.values[decoder.index].start
    }

    /// Reads the next element; a failed read leaves the position as it was.
    private mutating func take<T>(_ type: T.Type, _ read: (JSONTapeDecoder, Int, JSONTapeKey) throws -> T) throws -> T {
        let key = JSONTapeKey(index: currentIndex)
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [key], debugDescription: "Unkeyed container is at end."))
        }
        let value = try read(decoder, next, key)
        next = decoder.tape.values[next].after
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw DecodingError.valueNotFound(Any?.self, .init(codingPath: codingPath, debugDescription: "Unkeyed container is at end.")) }
        guard decoder.tape.values[next].kind == .null else { return false }
        next = decoder.tape.values[next].after
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try take(type) { try $0.bool($1, $2) } }
    mutating func decode(_ type: String.Type) throws -> String { try take(type) { try $0.string($1, $2) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try take(type) { try $0.float(type, $1, $2) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try take(type) { try $0.float(type, $1, $2) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try take(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try take(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try take(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try take(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try take(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try take(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try take(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try take(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try take(type) { try $0.integer(type, $1, $2) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try take(type) { try $0.integer(type, $1, $2) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try take(type) { try $0.decode(type, at: $1, key: $2) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try take(KeyedDecodingContainer<NestedKey>.self) { try JSONTapeDecoder(tape: $0.tape, index: $1, parent: $0, key: $2).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try take((any UnkeyedDecodingContainer).self) { try JSONTapeDecoder(tape: $0.tape, index: $1, parent: $0, key: $2).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try take((any Decoder).self) { JSONTapeDecoder(tape: $0.tape, index: $1, parent: $0, key: $2) }
    }
}

/// Keys of the coding path that name no member: array positions and "super". A position's name
/// is made only when asked for (an error's path), not for every element read.
struct JSONTapeKey: CodingKey {
    static let `super` = JSONTapeKey(stringValue: "super")

    private let name: String?
    let intValue: Int?

    var stringValue: String { name ?? "Index \(intValue ?? 0)" }

    init(stringValue: String) { (name, intValue) = (stringValue, nil) }
    init(intValue: Int) { (name, self.intValue) = (nil, intValue) }
    init(index: Int) { self.init(intValue: index) }
}

/// The key readers are given for a decoder's own value, which its coding path already names.
struct JSONTapeOwnValue: CodingKey {
    var stringValue: String { "" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) { nil }
    init?(intValue: Int) { nil }
}

extension JSONTape {
    /// A document that is just `null`.
    static let null: JSONTape = try! JSONTape(Array("null".utf8))
}
