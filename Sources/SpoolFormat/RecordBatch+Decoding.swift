extension RecordBatch {
    /// Decodes one whole batch that fills `bytes`, after `RecordBatchView.validate` (size, magic,
    /// CRC). Compressed batches throw `FormatError.compressedRecords`: Spool stores and serves them
    /// unchanged but does not decompress them.
    public init(decoding bytes: UnsafeRawBufferPointer) throws(FormatError) {
        let header = try RecordBatchView.validate(bytes)
        if let codec = header.attributes.compression, codec != .none { throw .compressedRecords(codec) }
        var reader = ByteReader(bytes, position: RecordBatchLayout.headerSize)
        // Each record takes at least 7 bytes, so a count above that bound is a lie: refuse it before
        // reserving memory for it.
        guard Int(header.recordsCount) <= reader.remaining / 7 + 1 else {
            throw .malformedRecord(index: 0, reason: "recordsCount \(header.recordsCount) exceeds what \(reader.remaining) bytes can hold")
        }
        var records: [Record] = []
        records.reserveCapacity(Int(header.recordsCount))
        for index in 0..<Int(header.recordsCount) {
            records.append(try Record.decode(from: &reader, index: index))
        }
        guard reader.remaining == 0 else {
            throw .malformedRecord(index: records.count, reason: "\(reader.remaining) bytes left after the last record")
        }
        self.init(
            baseOffset: header.baseOffset, partitionLeaderEpoch: header.partitionLeaderEpoch,
            attributes: header.attributes, lastOffsetDelta: header.lastOffsetDelta,
            baseTimestamp: header.baseTimestamp, maxTimestamp: header.maxTimestamp,
            producerId: header.producerId, producerEpoch: header.producerEpoch,
            baseSequence: header.baseSequence, records: records)
    }

    /// Decodes one whole batch held in an array.
    public init(decoding bytes: [UInt8]) throws(FormatError) {
        let result: Result<RecordBatch, FormatError> = bytes.withUnsafeBytes { raw in
            do throws(FormatError) { return .success(try RecordBatch(decoding: raw)) } catch { return .failure(error) }
        }
        self = try result.get()
    }
}

extension Record {
    static func decode(from reader: inout ByteReader, index: Int) throws(FormatError) -> Record {
        let length = try reader.readVarint32()
        guard length >= 0, Int(length) <= reader.remaining else {
            throw .malformedRecord(index: index, reason: "length \(length) with \(reader.remaining) bytes left")
        }
        let end = reader.position + Int(length)
        var body = ByteReader(UnsafeRawBufferPointer(rebasing: reader.bytes[..<end]), position: reader.position)
        let attributes = try body.readInt8()
        let timestampDelta = try body.readVarint()
        let offsetDelta = try body.readVarint32()
        let key = try readNullable(&body, index: index, field: "key")
        let value = try readNullable(&body, index: index, field: "value")
        let headerCount = try body.readVarint32()
        guard headerCount >= 0, Int(headerCount) <= body.remaining / 2 else {
            throw .malformedRecord(index: index, reason: "header count \(headerCount)")
        }
        var headers: [RecordHeader] = []
        headers.reserveCapacity(Int(headerCount))
        for _ in 0..<Int(headerCount) {
            guard let keyBytes = try readNullable(&body, index: index, field: "header key") else {
                throw .malformedRecord(index: index, reason: "null header key")
            }
            guard let headerKey = validUTF8String(keyBytes) else {
                throw .malformedRecord(index: index, reason: "header key is not UTF-8")
            }
            headers.append(RecordHeader(key: headerKey, value: try readNullable(&body, index: index, field: "header value")))
        }
        guard body.position == end else {
            throw .malformedRecord(index: index, reason: "\(end - body.position) bytes left inside the record")
        }
        try reader.skip(Int(length))
        return Record(
            attributes: attributes, timestampDelta: timestampDelta, offsetDelta: offsetDelta,
            key: key, value: value, headers: headers)
    }
}

private func readNullable(_ reader: inout ByteReader, index: Int, field: String) throws(FormatError) -> [UInt8]? {
    let length = try reader.readVarint32()
    if length == -1 { return nil }
    guard length >= 0, Int(length) <= reader.remaining else {
        throw .malformedRecord(index: index, reason: "\(field) length \(length) with \(reader.remaining) bytes left")
    }
    return try reader.readBytes(Int(length))
}
