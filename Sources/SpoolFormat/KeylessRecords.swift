/// The records of a batch that have no key, found by reading every record: the broker reads each
/// batch it is sent this way, as Kafka's `LogValidator` does (a record that cannot be read refuses
/// the batch), and a compacted topic refuses keyless records (`LogValidator.validateKey`). Kafka
/// reads compressed batches' records too (`validateMessagesAndAssignOffsetsCompressed`), so a
/// compressed batch is decompressed here (`InflatedBatch`).
public enum KeylessRecords {
    /// The most bytes a compressed batch's records may decompress to, wherever they are read: a
    /// few KiB can decompress to gigabytes, and the whole batch is held decompressed while its
    /// records are read. A batch past it is refused (`FormatError.undecompressable`).
    public static let inflatedBytesMax = 64 << 20

    /// The indexes in the batch of the records without a key; nil for a control batch, whose
    /// records are not read. `header` is the batch's, already validated
    /// (`RecordBatchView.validate`). Throws for records that cannot be decompressed or read.
    public static func indexes(in batch: UnsafeRawBufferPointer, header: RecordBatchHeader) throws(FormatError) -> [Int32]? {
        guard !header.attributes.isControl else { return nil }
        guard header.attributes.compression != Compression.none else {
            return try indexes(inRecords: UnsafeRawBufferPointer(rebasing: batch[RecordBatchLayout.headerSize...]), count: header.recordsCount)
        }
        let inflated = try InflatedBatch.records(of: batch, header: header)
        let keyless: Result<[Int32], FormatError> = inflated.withUnsafeBytes { raw in
            do throws(FormatError) { return .success(try indexes(inRecords: raw, count: header.recordsCount)) } catch { return .failure(error) }
        }
        return try keyless.get()
    }

    /// Reads `count` records that fill `records` exactly, as `RecordLayout.scanBatch` does.
    static func indexes(inRecords records: UnsafeRawBufferPointer, count: Int32) throws(FormatError) -> [Int32] {
        var reader = ByteReader(records)
        var keyless: [Int32] = []
        for index in 0..<Int(max(count, 0)) where try RecordLayout.scan(from: &reader, index: index).keyLength < 0 {
            keyless.append(Int32(index))
        }
        guard reader.remaining == 0 else {
            throw .malformedRecord(index: Int(count), reason: "\(reader.remaining) bytes left after the last record")
        }
        return keyless
    }
}
