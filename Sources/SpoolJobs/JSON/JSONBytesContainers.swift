/// An object's members, written as they come and sorted when the object is complete.
struct JSONBytesKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: JSONBytesEncoder
    let frame: (depth: Int, id: Int)
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func member(_ key: Key, _ write: (JSONBytesEncoder) throws -> Void) throws {
        let name = key.stringValue
        let start = try encoder.beginMember(frame.depth, frame.id, name)
        try write(encoder)
        encoder.endMember(name, start)
    }

    func encodeNil(forKey key: Key) throws { try member(key) { $0.writeNull() } }
    func encode(_ value: Bool, forKey key: Key) throws { try member(key) { $0.writeBool(value) } }
    func encode(_ value: String, forKey key: Key) throws { try member(key) { $0.writeString(value) } }
    func encode(_ value: Double, forKey key: Key) throws { try member(key) { try $0.writeFloat(value) } }
    func encode(_ value: Float, forKey key: Key) throws { try member(key) { try $0.writeFloat(value) } }
    func encode(_ value: Int, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    func encode(_ value: Int8, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    func encode(_ value: Int16, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    func encode(_ value: Int32, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    func encode(_ value: Int64, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    func encode(_ value: UInt, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    func encode(_ value: UInt8, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    func encode(_ value: UInt16, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    func encode(_ value: UInt32, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    func encode(_ value: UInt64, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }

    func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let name = key.stringValue
        let start = try encoder.beginMember(frame.depth, frame.id, name)
        try encoder.encodeValue(value, key: name, keyStart: start)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(JSONBytesKeyedContainer<NestedKey>(encoder: encoder, frame: nested(.keyed, key)))
    }

    func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        JSONBytesUnkeyedContainer(encoder: encoder, frame: nested(.unkeyed, key))
    }

    /// A frame for a container that is the value of the member `key`.
    private func nested(_ kind: JSONBytesEncoder.Frame.Kind, _ key: Key) -> (depth: Int, id: Int) {
        let name = key.stringValue
        guard let start = try? encoder.beginMember(frame.depth, frame.id, name) else { return (-1, -1) }
        return encoder.open(kind, key: name, keyStart: start)
    }

    func superEncoder() -> any Encoder { encoder.superEncoder() }
    func superEncoder(forKey key: Key) -> any Encoder { encoder.superEncoder() }
}

/// An array's elements, in order.
struct JSONBytesUnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: JSONBytesEncoder
    let frame: (depth: Int, id: Int)
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.elementCount(frame.depth, frame.id) }

    private func element(_ write: (JSONBytesEncoder) throws -> Void) throws {
        try encoder.beginElement(frame.depth, frame.id)
        try write(encoder)
    }

    func encodeNil() throws { try element { $0.writeNull() } }
    func encode(_ value: Bool) throws { try element { $0.writeBool(value) } }
    func encode(_ value: String) throws { try element { $0.writeString(value) } }
    func encode(_ value: Double) throws { try element { try $0.writeFloat(value) } }
    func encode(_ value: Float) throws { try element { try $0.writeFloat(value) } }
    func encode(_ value: Int) throws { try element { $0.writeInteger(value) } }
    func encode(_ value: Int8) throws { try element { $0.writeInteger(value) } }
    func encode(_ value: Int16) throws { try element { $0.writeInteger(value) } }
    func encode(_ value: Int32) throws { try element { $0.writeInteger(value) } }
    func encode(_ value: Int64) throws { try element { $0.writeInteger(value) } }
    func encode(_ value: UInt) throws { try element { $0.writeInteger(value) } }
    func encode(_ value: UInt8) throws { try element { $0.writeInteger(value) } }
    func encode(_ value: UInt16) throws { try element { $0.writeInteger(value) } }
    func encode(_ value: UInt32) throws { try element { $0.writeInteger(value) } }
    func encode(_ value: UInt64) throws { try element { $0.writeInteger(value) } }

    func encode<T: Encodable>(_ value: T) throws {
        try encoder.beginElement(frame.depth, frame.id)
        try encoder.encodeValue(value, key: nil, keyStart: 0)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(JSONBytesKeyedContainer<NestedKey>(encoder: encoder, frame: nested(.keyed)))
    }

    func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        JSONBytesUnkeyedContainer(encoder: encoder, frame: nested(.unkeyed))
    }

    /// A frame for a container that is the next element.
    private func nested(_ kind: JSONBytesEncoder.Frame.Kind) -> (depth: Int, id: Int) {
        guard (try? encoder.beginElement(frame.depth, frame.id)) != nil else { return (-1, -1) }
        return encoder.open(kind, key: nil, keyStart: 0)
    }

    func superEncoder() -> any Encoder { encoder.superEncoder() }
}
