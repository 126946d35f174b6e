/// Reads Kafka's non-flexible protocol types from a request body: big-endian integers, int16-length
/// strings, int32-length bytes and int32-count arrays, plus the unsigned varints of flexible
/// headers. Every read checks its bounds, and every length and count is checked against the bytes
/// left before anything is allocated for it, so a hostile frame cannot make the broker read past
/// it or allocate more than the frame's size.
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

    /// An unsigned varint (flexible versions' lengths and tag counts).
    public mutating func readUnsignedVarint() throws(WireError) -> UInt32 {
        var result: UInt32 = 0
        for shift in stride(from: 0, to: 35, by: 7) {
            let byte = UInt8(bitPattern: try readInt8())
            result |= UInt32(byte & 0x7F) << UInt32(shift)
            if byte & 0x80 == 0 { return result }
        }
        throw .invalid("varint longer than 5 bytes")
    }

    public mutating func readNullableString() throws(WireError) -> String? {
        let length = try readInt16()
        if length == -1 { return nil }
        guard length >= 0 else { throw .invalid("string length \(length)") }
        try require(Int(length))
        defer { position += Int(length) }
        guard let text = String(validating: bytes[position..<(position + Int(length))], as: UTF8.self) else {
            throw .invalid("string is not UTF-8")
        }
        return text
    }

    public mutating func readString() throws(WireError) -> String {
        guard let text = try readNullableString() else { throw .invalid("null where a string is required") }
        return text
    }

    public mutating func readNullableBytes() throws(WireError) -> [UInt8]? {
        let length = try readInt32()
        if length == -1 { return nil }
        guard length >= 0 else { throw .invalid("bytes length \(length)") }
        try require(Int(length))
        defer { position += Int(length) }
        return Array(bytes[position..<(position + Int(length))])
    }

    public mutating func readBytes() throws(WireError) -> [UInt8] { try readNullableBytes() ?? [] }

    /// An int32-count array; nil for a null array (-1). Each element takes at least one byte, so a
    /// count above the bytes left is refused before anything is read.
    public mutating func readNullableArray<T>(_ element: (inout WireReader) throws(WireError) -> T) throws(WireError) -> [T]? {
        let count = try readInt32()
        if count == -1 { return nil }
        guard count >= 0, Int(count) <= remaining else { throw .invalid("array of \(count) elements in \(remaining) bytes") }
        var items: [T] = []
        items.reserveCapacity(Int(count))
        for _ in 0..<Int(count) { items.append(try element(&self)) }
        return items
    }

    public mutating func readArray<T>(_ element: (inout WireReader) throws(WireError) -> T) throws(WireError) -> [T] {
        try readNullableArray(element) ?? []
    }

    /// Skips the tagged fields of a flexible header or body.
    public mutating func skipTaggedFields() throws(WireError) {
        let count = try readUnsignedVarint()
        guard Int(count) <= remaining else { throw .invalid("\(count) tagged fields in \(remaining) bytes") }
        for _ in 0..<count {
            _ = try readUnsignedVarint()
            let size = Int(try readUnsignedVarint())
            try require(size)
            position += size
        }
    }
}
