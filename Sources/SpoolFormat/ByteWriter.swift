/// Big-endian integer writes onto a growing byte array, as the Kafka formats use.
extension Array where Element == UInt8 {
    /// Appends `value` in big-endian byte order.
    @inline(__always) public mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    /// Overwrites the bytes at `offset` with `value` in big-endian byte order.
    @inline(__always) public mutating func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeMutableBytes { $0.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self) }
    }
}
