/// Where one record's fields lie in its batch's bytes, found by reading its structure without
/// copying anything out: what `Record.decode` materializes and `BatchRecord` reads in place.
/// Every check `Record.decode` makes is made here, in the same order with the same errors, so a
/// record one of them refuses the other refuses too.
struct RecordLayout: Sendable {
    var timestampDelta: Int64
    var offsetDelta: Int32
    var attributes: Int8
    /// Byte ranges in the batch, as start and length; length -1 is null.
    var keyStart: Int32
    var keyLength: Int32
    var valueStart: Int32
    var valueLength: Int32
    /// The header entries: from `headersStart` to `headersEnd`, `headerCount` of them.
    var headersStart: Int32
    var headersEnd: Int32
    var headerCount: Int32

    /// Reads the record at `reader`'s position (its length varint first) and moves past it.
    static func scan(from reader: inout ByteReader, index: Int) throws(FormatError) -> RecordLayout {
        let length = try reader.readVarint32()
        guard length >= 0, Int(length) <= reader.remaining else {
            throw .malformedRecord(index: index, reason: "length \(length) with \(reader.remaining) bytes left")
        }
        let end = reader.position + Int(length)
        var body = ByteReader(UnsafeRawBufferPointer(rebasing: reader.bytes[..<end]), position: reader.position)
        let attributes = try body.readInt8()
        let timestampDelta = try body.readVarint()
        let offsetDelta = try body.readVarint32()
        let key = try skipNullable(&body, index: index, field: "key")
        let value = try skipNullable(&body, index: index, field: "value")
        let headerCount = try body.readVarint32()
        guard headerCount >= 0, Int(headerCount) <= body.remaining / 2 else {
            throw .malformedRecord(index: index, reason: "header count \(headerCount)")
        }
        let headersStart = body.position
        for _ in 0..<Int(headerCount) {
            let name = try skipNullable(&body, index: index, field: "header key")
            guard name.length >= 0 else {
                throw .malformedRecord(index: index, reason: "null header key")
            }
            guard isValidUTF8(UnsafeRawBufferPointer(rebasing: body.bytes[name.start..<(name.start + Int(name.length))])) else {
                throw .malformedRecord(index: index, reason: "header key is not UTF-8")
            }
            _ = try skipNullable(&body, index: index, field: "header value")
        }
        guard body.position == end else {
            throw .malformedRecord(index: index, reason: "\(end - body.position) bytes left inside the record")
        }
        try reader.skip(Int(length))
        return RecordLayout(timestampDelta: timestampDelta, offsetDelta: offsetDelta, attributes: attributes,
                            keyStart: Int32(key.start), keyLength: key.length, valueStart: Int32(value.start), valueLength: value.length,
                            headersStart: Int32(headersStart), headersEnd: Int32(end), headerCount: headerCount)
    }
}

/// Steps over a nullable byte string (a varint length, -1 for null, then the bytes): where its
/// bytes start and its length (-1: null).
func skipNullable(_ reader: inout ByteReader, index: Int, field: String) throws(FormatError) -> (start: Int, length: Int32) {
    let length = try reader.readVarint32()
    if length == -1 { return (reader.position, -1) }
    guard length >= 0, Int(length) <= reader.remaining else {
        throw .malformedRecord(index: index, reason: "\(field) length \(length) with \(reader.remaining) bytes left")
    }
    let start = reader.position
    try reader.skip(Int(length))
    return (start, length)
}

extension RecordLayout {
    /// The record as `Record` holds it, its bytes copied out of `batch` (the batch it was scanned in).
    func record(in batch: UnsafeRawBufferPointer) -> Record {
        Record(attributes: attributes, timestampDelta: timestampDelta, offsetDelta: offsetDelta,
               key: Self.bytes(batch, keyStart, keyLength), value: Self.bytes(batch, valueStart, valueLength),
               headers: headers(in: batch))
    }

    /// The headers, copied out of `batch`.
    func headers(in batch: UnsafeRawBufferPointer) -> [RecordHeader] {
        var headers: [RecordHeader] = []
        headers.reserveCapacity(Int(headerCount))
        var slices = RawHeaderIterator(batch, start: Int(headersStart), count: Int(headerCount))
        while let (name, value) = slices.next() {
            headers.append(RecordHeader(key: String(decoding: name, as: UTF8.self), value: value.map { Array($0) }))
        }
        return headers
    }

    static func bytes(_ batch: UnsafeRawBufferPointer, _ start: Int32, _ length: Int32) -> [UInt8]? {
        length < 0 ? nil : Array(UnsafeRawBufferPointer(rebasing: batch[Int(start)..<(Int(start) + Int(length))]))
    }
}

/// The headers of a scanned record (`RecordLayout`), as raw name and value slices of its batch's
/// bytes, in order (nil value: a null one). The layout was checked when scanned, so reading it
/// again cannot fail.
public struct RawHeaderIterator: IteratorProtocol {
    private let bytes: UnsafeRawBufferPointer
    private var position: Int
    private var left: Int

    init(_ bytes: UnsafeRawBufferPointer, start: Int, count: Int) {
        self.bytes = bytes
        position = start
        left = count
    }

    public mutating func next() -> (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?)? {
        guard left > 0 else { return nil }
        left -= 1
        let nameLength = readLength()
        let name = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + nameLength)])
        position += nameLength
        let valueLength = readLength()
        guard valueLength >= 0 else { return (name, nil) }
        let value = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + valueLength)])
        position += valueLength
        return (name, value)
    }

    /// Where `slice`, a name or value `next()` returned, lies in the record's batch.
    public func span(of slice: UnsafeRawBufferPointer) -> RecordBytesSpan {
        RecordBytesSpan(start: Int32(slice.baseAddress.map { $0 - bytes.baseAddress! } ?? 0), count: Int32(slice.count))
    }

    /// A zig-zag varint the scan read already.
    private mutating func readLength() -> Int {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return Int(Varint.unzigzag(result)) }
            shift += 7
        }
    }
}
