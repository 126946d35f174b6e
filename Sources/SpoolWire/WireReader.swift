import SpoolFormat

/// Reads Kafka's protocol types from a frame: big-endian integers, unsigned varints, UUIDs, and the
/// strings, byte strings and arrays of both encodings: classic (int16/int32 lengths, -1 for null)
/// and compact (unsigned varint holding length + 1, 0 for null), plus flexible versions' tagged
/// fields. Every read checks its bounds, and every length and count is checked against the bytes
/// left in the frame before anything is allocated for it, so a hostile frame can make the broker
/// neither read past it nor allocate more than its size.
public struct WireReader {
    let bytes: [UInt8]
    public private(set) var position: Int

    public init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    public var remaining: Int { bytes.count - position }

    private func require(_ count: Int) throws(WireError) {
        guard count >= 0, count <= remaining else { throw .truncated(needed: position + max(count, 0), available: bytes.count) }
    }

    // MARK: Fixed-size values

    public mutating func readInt8() throws(WireError) -> Int8 {
        try require(1)
        defer { position += 1 }
        return Int8(bitPattern: bytes[position])
    }

    public mutating func readBool() throws(WireError) -> Bool { try readInt8() != 0 }

    private mutating func readInteger<T: FixedWidthInteger>(_ type: T.Type) throws(WireError) -> T {
        let size = MemoryLayout<T>.size
        try require(size)
        var value: T = 0
        for index in 0..<size { value = value << 8 | T(bytes[position + index]) }
        position += size
        return value
    }

    public mutating func readInt16() throws(WireError) -> Int16 { Int16(bitPattern: try readInteger(UInt16.self)) }
    public mutating func readInt32() throws(WireError) -> Int32 { Int32(bitPattern: try readInteger(UInt32.self)) }
    public mutating func readInt64() throws(WireError) -> Int64 { Int64(bitPattern: try readInteger(UInt64.self)) }
    public mutating func readUInt16() throws(WireError) -> UInt16 { try readInteger(UInt16.self) }
    public mutating func readUInt32() throws(WireError) -> UInt32 { try readInteger(UInt32.self) }
    public mutating func readFloat64() throws(WireError) -> Double { Double(bitPattern: try readInteger(UInt64.self)) }
    public mutating func readUUID() throws(WireError) -> KafkaUUID {
        KafkaUUID(high: try readInteger(UInt64.self), low: try readInteger(UInt64.self))
    }

    /// An unsigned varint (compact lengths, tag numbers and sizes).
    public mutating func readUnsignedVarint() throws(WireError) -> UInt32 {
        var result: UInt32 = 0
        for shift in stride(from: 0, to: 35, by: 7) {
            let byte = UInt8(bitPattern: try readInt8())
            result |= UInt32(byte & 0x7F) << UInt32(shift)
            if byte & 0x80 == 0 { return result }
        }
        throw .invalid("varint longer than 5 bytes")
    }

    // MARK: Lengths

    /// The length of a string, byte string or array, nil for null, checked against the bytes left
    /// (an array's elements take at least a byte each). `what` names it in errors.
    private mutating func readLength(compact: Bool, wide: Bool, _ what: String) throws(WireError) -> Int? {
        let length: Int
        if compact {
            let encoded = try readUnsignedVarint()
            if encoded == 0 { return nil }
            length = Int(encoded) - 1
        } else {
            length = wide ? Int(try readInt32()) : Int(try readInt16())
            if length == -1 { return nil }
            guard length >= 0 else { throw .invalid("\(what) length \(length)") }
        }
        guard length <= remaining else { throw .invalid("\(what) of \(length) in \(remaining) bytes") }
        return length
    }

    private static func null(_ what: String) -> WireError { .invalid("null \(what) where the version does not allow one") }

    // MARK: Strings and bytes

    /// A string; nil when null and `nullable` (a null where it is not allowed is an error).
    public mutating func readNullableString(compact: Bool = false, nullable: Bool = true) throws(WireError) -> String? {
        guard let length = try readLength(compact: compact, wide: false, "string") else {
            if nullable { return nil }
            throw Self.null("string")
        }
        defer { position += length }
        // As Kafka reads them (Java's `new String(bytes, UTF_8)`): bytes that are not UTF-8 become
        // U+FFFD, not a refusal. A client id in Latin-1 must not keep a client from connecting;
        // a topic or group name with such bytes is then refused as that name.
        return bytes.withUnsafeBufferPointer { buffer in
            let slice = UnsafeBufferPointer(rebasing: buffer[position..<(position + length)])
            return validUTF8String(slice) ?? String(decoding: slice, as: UTF8.self)
        }
    }

    public mutating func readString(compact: Bool = false) throws(WireError) -> String {
        guard let text = try readNullableString(compact: compact, nullable: false) else { throw Self.null("string") }
        return text
    }

    public mutating func readNullableBytes(compact: Bool = false, nullable: Bool = true) throws(WireError) -> [UInt8]? {
        guard let length = try readLength(compact: compact, wide: true, "bytes") else {
            if nullable { return nil }
            throw Self.null("bytes")
        }
        defer { position += length }
        return Array(bytes[position..<(position + length)])
    }

    public mutating func readBytes(compact: Bool = false) throws(WireError) -> [UInt8] {
        guard let value = try readNullableBytes(compact: compact, nullable: false) else { throw Self.null("bytes") }
        return value
    }

    /// A `records` field: record batches, kept as the bytes they are, in the frame's own storage
    /// (no copy: a produce appends them from the request).
    public mutating func readRecords(compact: Bool, nullable: Bool) throws(WireError) -> RecordBytes? {
        guard let length = try readLength(compact: compact, wide: true, "bytes") else {
            if nullable { return nil }
            throw Self.null("bytes")
        }
        defer { position += length }
        return RecordBytes(slice: bytes[position..<(position + length)])
    }

    // MARK: Arrays

    /// An array; nil when null and `nullable`. The count is refused before anything is read if the
    /// frame has fewer bytes left than elements.
    public mutating func readNullableArray<T>(compact: Bool = false, nullable: Bool = true,
                                             _ element: (inout WireReader) throws(WireError) -> T) throws(WireError) -> [T]? {
        guard let count = try readLength(compact: compact, wide: true, "array") else {
            if nullable { return nil }
            throw Self.null("array")
        }
        var items: [T] = []
        // The count is at most the bytes left, but an element in memory can be far larger than its
        // one byte on the wire: reserve no more memory than the bytes left, and let `append` grow
        // the array past that if the elements really are there.
        items.reserveCapacity(min(count, remaining / max(1, MemoryLayout<T>.stride)))
        for _ in 0..<count { items.append(try element(&self)) }
        return items
    }

    public mutating func readArray<T>(compact: Bool = false, _ element: (inout WireReader) throws(WireError) -> T) throws(WireError) -> [T] {
        guard let items = try readNullableArray(compact: compact, nullable: false, element) else { throw Self.null("array") }
        return items
    }

    /// A nullable struct outside an array: an int8 marker (-1 null, 1 present), then the struct.
    public mutating func readNullableStruct<T>(nullable: Bool, _ body: (inout WireReader) throws(WireError) -> T) throws(WireError) -> T? {
        guard nullable else { return try body(&self) }
        let marker = try readInt8()
        if marker < 0 { return nil }
        return try body(&self)
    }

    // MARK: Tagged fields

    /// Reads the tagged-field section of a flexible struct. `field` reads a known tag's value and
    /// returns true, or returns false for a tag it does not know, which is skipped; a known field
    /// must use exactly the bytes its size gives.
    public mutating func readTaggedFields(_ field: (UInt32, inout WireReader) throws(WireError) -> Bool) throws(WireError) {
        let count = try readUnsignedVarint()
        guard Int(count) <= remaining else { throw .invalid("\(count) tagged fields in \(remaining) bytes") }
        var previous: UInt32?
        for _ in 0..<count {
            let tag = try readUnsignedVarint()
            if let previous, tag <= previous { throw .invalid("tagged field \(tag) after \(previous)") }
            previous = tag
            let size = Int(try readUnsignedVarint())
            try require(size)
            let end = position + size
            if try field(tag, &self) {
                guard position == end else { throw .invalid("tagged field \(tag) is \(size) bytes but its value took \(position - (end - size))") }
            } else {
                position = end
            }
        }
    }

    /// Skips a tagged-field section whose fields are all unknown.
    public mutating func skipTaggedFields() throws(WireError) {
        try readTaggedFields { _, _ throws(WireError) in false }
    }
}
