/// Writes Kafka's protocol types, in the classic or compact encoding (see `WireReader`).
public struct WireWriter {
    /// The encoded bytes, less any `records` field spliced out of them (see `splices`).
    public private(set) var bytes: [UInt8]
    /// `records` fields of at least this many bytes are kept by reference instead of copied into
    /// `bytes` (nil: every one is copied). Set for a frame written to a socket with `writev`.
    public var spliceRecordsMin: Int?
    /// The `records` fields kept by reference, each with the position in `bytes` it goes at.
    public private(set) var splices: [(at: Int, records: RecordBytes)] = []
    private var splicedBytes = 0

    public init(capacity: Int = 256, spliceRecordsMin: Int? = nil) {
        bytes = []
        bytes.reserveCapacity(capacity)
        self.spliceRecordsMin = spliceRecordsMin
    }

    /// Bytes written, spliced fields included.
    public var count: Int { bytes.count + splicedBytes }

    // MARK: Fixed-size values

    public mutating func writeInt8(_ value: Int8) { bytes.append(UInt8(bitPattern: value)) }
    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    private mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeInt16(_ value: Int16) { writeInteger(value) }
    public mutating func writeInt32(_ value: Int32) { writeInteger(value) }
    public mutating func writeInt64(_ value: Int64) { writeInteger(value) }
    public mutating func writeUInt16(_ value: UInt16) { writeInteger(value) }
    public mutating func writeUInt32(_ value: UInt32) { writeInteger(value) }
    public mutating func writeFloat64(_ value: Double) { writeInteger(value.bitPattern) }
    public mutating func writeUUID(_ value: KafkaUUID) {
        writeInteger(value.high)
        writeInteger(value.low)
    }

    public mutating func writeUnsignedVarint(_ value: UInt32) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Overwrites 4 bytes at `offset` with `value` (a size prefix written once the size is known).
    public mutating func setInt32(_ value: Int32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= bytes.count, "int32 at \(offset) is outside \(bytes.count) bytes")
        withUnsafeBytes(of: value.bigEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
    }

    // MARK: Lengths

    private mutating func writeLength(_ length: Int?, compact: Bool, wide: Bool) {
        if compact {
            writeUnsignedVarint(length.map { UInt32($0) + 1 } ?? 0)
        } else if wide {
            writeInt32(length.map { Int32($0) } ?? -1)
        } else {
            writeInt16(length.map { Int16($0) } ?? -1)
        }
    }

    // MARK: Strings and bytes

    /// A string; a classic string is cut at the last whole character within its int16 length.
    public mutating func writeNullableString(_ value: String?, compact: Bool = false) {
        guard let value else { return writeLength(nil, compact: compact, wide: false) }
        var utf8 = Substring(value).utf8
        if !compact && utf8.count > Int(Int16.max) {
            var end = utf8.index(utf8.startIndex, offsetBy: Int(Int16.max))
            while end > utf8.startIndex && !utf8[end].isUTF8Start { end = utf8.index(before: end) }
            utf8 = utf8[..<end]
        }
        writeLength(utf8.count, compact: compact, wide: false)
        bytes.append(contentsOf: utf8)
    }

    public mutating func writeString(_ value: String, compact: Bool = false) { writeNullableString(value, compact: compact) }

    public mutating func writeNullableBytes(_ value: [UInt8]?, compact: Bool = false) {
        writeLength(value?.count, compact: compact, wide: true)
        if let value { bytes.append(contentsOf: value) }
    }

    public mutating func writeBytes(_ value: [UInt8], compact: Bool = false) { writeNullableBytes(value, compact: compact) }

    /// A `records` field: copied once from wherever its bytes live, or, from `spliceRecordsMin`
    /// bytes, kept by reference as a splice.
    public mutating func writeRecords(_ value: RecordBytes?, compact: Bool) {
        writeLength(value?.count, compact: compact, wide: true)
        guard let value else { return }
        if let spliceRecordsMin, value.count >= spliceRecordsMin {
            splices.append((bytes.count, value))
            splicedBytes += value.count
        } else {
            value.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
    }

    // MARK: Arrays

    public mutating func writeNullableArray<T>(_ items: [T]?, compact: Bool = false, _ element: (inout WireWriter, T) -> Void) {
        writeLength(items?.count, compact: compact, wide: true)
        for item in items ?? [] { element(&self, item) }
    }

    public mutating func writeArray<T>(_ items: [T], compact: Bool = false, _ element: (inout WireWriter, T) -> Void) {
        writeNullableArray(items, compact: compact, element)
    }

    /// A nullable struct outside an array: an int8 marker (-1 null, 1 present), then the struct.
    public mutating func writeNullableStruct<T>(_ value: T?, nullable: Bool, _ body: (inout WireWriter, T) -> Void, empty: T) {
        guard nullable else { return body(&self, value ?? empty) }
        guard let value else { return writeInt8(-1) }
        writeInt8(1)
        body(&self, value)
    }

    // MARK: Tagged fields

    /// Writes a tagged-field section: `fields` in ascending tag order, each as tag, size, value.
    public mutating func writeTaggedFields(_ fields: [(tag: UInt32, write: (inout WireWriter) -> Void)]) {
        writeUnsignedVarint(UInt32(fields.count))
        for field in fields {
            // No splices: a tagged field's size is written before it, from its copied bytes.
            var value = WireWriter(capacity: 16)
            field.write(&value)
            writeUnsignedVarint(field.tag)
            writeUnsignedVarint(UInt32(value.bytes.count))
            bytes.append(contentsOf: value.bytes)
        }
    }

    /// An empty tagged-field section.
    public mutating func writeNoTaggedFields() { bytes.append(0) }
}

extension UInt8 {
    /// True unless this is a UTF-8 continuation byte.
    fileprivate var isUTF8Start: Bool { self & 0xC0 != 0x80 }
}
