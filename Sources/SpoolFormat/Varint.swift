/// Zig-zag varints as used inside Kafka records (protobuf's signed varint).
///
/// A value is zig-zag mapped (`(n << 1) ^ (n >> 63)`), then written 7 bits at a time, least
/// significant group first, with 0x80 on every byte but the last. A varint takes at most 5 bytes,
/// a varlong at most 10.
public enum Varint {
    /// Longest encoding of a 32-bit varint.
    public static let maxBytes32 = 5
    /// Longest encoding of a 64-bit varlong.
    public static let maxBytes64 = 10

    @inline(__always) public static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inline(__always) public static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    /// Bytes `value` takes when written as a zig-zag varint.
    public static func encodedSize(_ value: Int64) -> Int {
        var rest = zigzag(value)
        var size = 1
        while rest >= 0x80 {
            rest >>= 7
            size += 1
        }
        return size
    }

    /// Appends `value` as a zig-zag varint.
    public static func write(_ value: Int64, to bytes: inout [UInt8]) {
        var rest = zigzag(value)
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}
