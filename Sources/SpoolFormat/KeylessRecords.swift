/// The records of a batch that have no key, which a compacted topic refuses (Kafka's
/// `LogValidator.validateKey`). Kafka reads every record of a batch to check it, compressed or
/// not (`validateMessagesAndAssignOffsetsCompressed` inflates the records), so a compressed batch
/// is inflated here too; only a compacted topic asks, so only it pays for that.
public enum KeylessRecords {
    /// The most bytes a compressed batch's records may inflate to for the check: a few KiB can
    /// inflate to gigabytes, and the whole batch is held inflated while its records are read.
    /// A batch past it is refused (`FormatError.undecompressable`) rather than stored unchecked.
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

    /// Reads each record of the uncompressed batch `batch` (its `header` validated): they must
    /// be `header.recordsCount` records that fill the batch exactly, as `RecordLayout.scanBatch`
    /// reads them. Kafka's broker reads every record of a batch it is sent (`LogValidator`), so
    /// a producer's malformed record is refused rather than stored where consumers would stop at it.
    public static func checkUncompressed(_ batch: UnsafeRawBufferPointer, header: RecordBatchHeader) throws(FormatError) {
        var reader = ByteReader(batch, position: RecordBatchLayout.headerSize)
        for index in 0..<Int(max(header.recordsCount, 0)) { _ = try RecordLayout.scan(from: &reader, index: index) }
        guard reader.remaining == 0 else {
            throw .malformedRecord(index: Int(header.recordsCount), reason: "\(reader.remaining) bytes left after the last record")
        }
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
