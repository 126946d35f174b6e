import Foundation

/// An object's members, found by a scan of its keys (objects are small).
struct JSONTapeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: JSONTapeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    /// The index of the value of the member named `name`; the first, when a key is repeated.
    private func find(_ name: String) -> Int? { decoder.tape.member(named: name, inObjectAt: decoder.index) }

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
        let end = tape[decoder.index].after
        keys.reserveCapacity(tape[decoder.index].count)
        while at < end {
            if let name = try? tape.string(at), let key = Key(stringValue: name) { keys.append(key) }
            at = tape[at + 1].after
        }
        return keys
    }

    func contains(_ key: Key) -> Bool { find(key.stringValue) != nil }
    func decodeNil(forKey key: Key) throws -> Bool { decoder.tape[try member(key)].kind == .null }
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
        guard let at = find(key.stringValue), decoder.tape[at].kind != .null else { return nil }
        return try decoder.string(at, key)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let at = find(key.stringValue), decoder.tape[at].kind != .null else { return nil }
        return try decoder.decode(type, at: at, key: key)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.nested(try member(key), key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.nested(try member(key), key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { superDecoder(named: JSONTapeKey.super) }
    func superDecoder(forKey key: Key) throws -> any Decoder { superDecoder(named: key) }

    /// The member's decoder, or for a missing one a decoder of null (as Foundation's).
    private func superDecoder(named key: any CodingKey) -> any Decoder {
        guard let at = find(key.stringValue) else { return JSONTapeDecoder(tape: JSONTape.null(), index: 0, path: JSONTapePath(parent: decoder.path, key: key)) }
        return decoder.nested(at, key)
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
        end = decoder.tape[decoder.index].count
    }

    /// Reads the next element; a failed read leaves the position as it was.
    private mutating func take<T>(_ type: T.Type, _ read: (JSONTapeDecoder, Int, JSONTapeKey) throws -> T) throws -> T {
        let key = JSONTapeKey(index: currentIndex)
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [key], debugDescription: "Unkeyed container is at end."))
        }
        let value = try read(decoder, next, key)
        next = decoder.tape[next].after
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw DecodingError.valueNotFound(Any?.self, .init(codingPath: codingPath, debugDescription: "Unkeyed container is at end.")) }
        guard decoder.tape[next].kind == .null else { return false }
        next = decoder.tape[next].after
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
        try take(KeyedDecodingContainer<NestedKey>.self) { try $0.nested($1, $2).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try take((any UnkeyedDecodingContainer).self) { try $0.nested($1, $2).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try take((any Decoder).self) { $0.nested($1, $2) }
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
