/// Writes Kafka's non-flexible protocol types into a response body.
public struct WireWriter {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func writeInt8(_ value: Int8) { bytes.append(UInt8(bitPattern: value)) }
    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    private mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeInt16(_ value: Int16) { writeInteger(value) }
    public mutating func writeInt32(_ value: Int32) { writeInteger(value) }
    public mutating func writeInt64(_ value: Int64) { writeInteger(value) }

    public mutating func writeNullableString(_ value: String?) {
        guard let value else { return writeInt16(-1) }
        let utf8 = value.utf8.prefix(Int(Int16.max))
        writeInt16(Int16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    public mutating func writeString(_ value: String) { writeNullableString(value) }

    public mutating func writeNullableBytes(_ value: [UInt8]?) {
        guard let value else { return writeInt32(-1) }
        writeInt32(Int32(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func writeBytes(_ value: [UInt8]) { writeNullableBytes(value) }

    /// Bytes of a `records` field written straight from storage: int32 length, then the bytes.
    public mutating func writeRecords(_ value: UnsafeRawBufferPointer?) {
        guard let value else { return writeInt32(-1) }
        writeInt32(Int32(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func writeArray<T>(_ items: [T], _ element: (inout WireWriter, T) -> Void) {
        writeInt32(Int32(items.count))
        for item in items { element(&self, item) }
    }

    public mutating func writeNullableArray<T>(_ items: [T]?, _ element: (inout WireWriter, T) -> Void) {
        guard let items else { return writeInt32(-1) }
        writeArray(items, element)
    }
}
