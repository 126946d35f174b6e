extension RecordBatch {
    /// Decodes one whole batch that fills `bytes`, after `RecordBatchView.validate` (size, magic,
    /// CRC). Compressed batches throw `FormatError.compressedRecords`: Spool stores and serves them
    /// unchanged; `init(inflating:)` reads their records.
    public init(decoding bytes: UnsafeRawBufferPointer) throws(FormatError) {
        var records: [Record] = []
        let header = try RecordLayout.scanBatch(bytes) { count in
            records.reserveCapacity(count)
        } each: { layout in
            records.append(layout.record(in: bytes))
        }
        self.init(
            baseOffset: header.baseOffset, partitionLeaderEpoch: header.partitionLeaderEpoch,
            attributes: header.attributes, lastOffsetDelta: header.lastOffsetDelta,
            baseTimestamp: header.baseTimestamp, maxTimestamp: header.maxTimestamp,
            producerId: header.producerId, producerEpoch: header.producerEpoch,
            baseSequence: header.baseSequence, records: records)
    }

    /// Decodes one whole batch that fills `bytes` as `init(decoding:)` does, decompressing the
    /// records of a compressed one first (`InflatedBatch`): the batch then says it is uncompressed,
    /// as its records are, so that encoding it again writes what it holds. For what the broker
    /// reads inside batches (Spool's headers, a record's timestamp) and `spool log dump`.
    public init(inflating bytes: UnsafeRawBufferPointer) throws(FormatError) {
        let header = try RecordBatchView.validate(bytes)
        guard header.attributes.compression != Compression.none else {
            try self.init(decoding: bytes)
            return
        }
        try self.init(decoding: try InflatedBatch.of(bytes, header: header))
    }

    /// Decodes one whole batch held in an array.
    public init(decoding bytes: [UInt8]) throws(FormatError) {
        let result: Result<RecordBatch, FormatError> = bytes.withUnsafeBytes { raw in
            do throws(FormatError) { return .success(try RecordBatch(decoding: raw)) } catch { return .failure(error) }
        }
        self = try result.get()
    }

    /// `init(inflating:)` of a batch held in an array.
    public init(inflating bytes: [UInt8]) throws(FormatError) {
        let result: Result<RecordBatch, FormatError> = bytes.withUnsafeBytes { raw in
            do throws(FormatError) { return .success(try RecordBatch(inflating: raw)) } catch { return .failure(error) }
        }
        self = try result.get()
    }
}

extension Record {
    static func decode(from reader: inout ByteReader, index: Int) throws(FormatError) -> Record {
        try RecordLayout.scan(from: &reader, index: index).record(in: reader.bytes)
    }
}

extension RecordLayout {
    /// Checks one whole batch that fills `bytes` (`RecordBatchView.validate`: size, magic, CRC)
    /// and scans its records in order: `reserve` is told how many it declares (once that count
    /// is known to be possible), `each` gets every record. Compressed batches throw
    /// `FormatError.compressedRecords`: Spool stores and serves them unchanged but does not
    /// decompress them. Both ways of reading a batch (`RecordBatch`, `BatchRecord`) go through it.
    static func scanBatch(_ bytes: UnsafeRawBufferPointer, reserve: (Int) -> Void,
                          each: (RecordLayout) -> Void) throws(FormatError) -> RecordBatchHeader {
        let header = try RecordBatchView.validate(bytes)
        if let codec = header.attributes.compression, codec != .none { throw .compressedRecords(codec) }
        var reader = ByteReader(bytes, position: RecordBatchLayout.headerSize)
        // Each record takes at least 7 bytes, so a count above that bound is a lie: refuse it before
        // reserving memory for it.
        guard Int(header.recordsCount) <= reader.remaining / 7 + 1 else {
            throw .malformedRecord(index: 0, reason: "recordsCount \(header.recordsCount) exceeds what \(reader.remaining) bytes can hold")
        }
        reserve(Int(header.recordsCount))
        for index in 0..<Int(header.recordsCount) {
            each(try RecordLayout.scan(from: &reader, index: index))
        }
        guard reader.remaining == 0 else {
            throw .malformedRecord(index: Int(header.recordsCount), reason: "\(reader.remaining) bytes left after the last record")
        }
        return header
    }
}
