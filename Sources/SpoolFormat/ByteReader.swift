/// A cursor over borrowed bytes that reads Kafka's big-endian integers and record varints.
///
/// Every read checks bounds first and throws `FormatError.truncated` when the bytes run out, so a
/// hostile length can never read past the buffer.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position: Int

    public init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    /// Bytes not yet read.
    public var remaining: Int { bytes.count - position }

    @inline(__always) private func require(_ count: Int) throws(FormatError) {
        guard count >= 0, count <= remaining else {
            throw .truncated(needed: position + count, available: bytes.count)
        }
    }

    public mutating func readInt8() throws(FormatError) -> Int8 {
        try require(1)
        defer { position += 1 }
        return Int8(bitPattern: bytes[position])
    }

    public mutating func readInt16() throws(FormatError) -> Int16 {
        try require(2)
        defer { position += 2 }
        return Int16(bigEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int16.self))
    }

    public mutating func readInt32() throws(FormatError) -> Int32 {
        try require(4)
        defer { position += 4 }
        return Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int32.self))
    }

    public mutating func readUInt32() throws(FormatError) -> UInt32 {
        try require(4)
        defer { position += 4 }
        return UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    public mutating func readInt64() throws(FormatError) -> Int64 {
        try require(8)
        defer { position += 8 }
        return Int64(bigEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int64.self))
    }

    /// A zig-zag varlong of at most `maxBytes` bytes.
    public mutating func readVarint(maxBytes: Int = Varint.maxBytes64) throws(FormatError) -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<maxBytes {
            try require(1)
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return Varint.unzigzag(result) }
            shift += 7
        }
        throw .varintTooLong
    }

    /// A zig-zag varint that must fit in 32 bits.
    public mutating func readVarint32() throws(FormatError) -> Int32 {
        let value = try readVarint(maxBytes: Varint.maxBytes32)
        guard let narrow = Int32(exactly: value) else { throw .varintTooLong }
        return narrow
    }

    /// `count` bytes copied out.
    public mutating func readBytes(_ count: Int) throws(FormatError) -> [UInt8] {
        try require(count)
        defer { position += count }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]))
    }

    public mutating func skip(_ count: Int) throws(FormatError) {
        try require(count)
        position += count
    }
}
