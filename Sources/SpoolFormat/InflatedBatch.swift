/// A gzip batch as a consumer reads it: its header with the codec cleared, and its records
/// inflated after it, a batch of the uncompressed kind that every reader of records reads
/// (`BatchReader`). Kafka's consumers inflate what producers compressed; Spool's inflate gzip,
/// the one codec Spool has (`Gzip`). Snappy, lz4 and zstd stay unread (`FormatError.compressedRecords`).
enum InflatedBatch {
    /// The uncompressed batch the gzip batch `raw` (whole, its `header` parsed) holds. The
    /// batch is checked first (size, magic, CRC-32C) as any read batch is; the records inflate
    /// to at most `KeylessRecords.inflatedBytesMax` bytes.
    static func of(_ raw: UnsafeRawBufferPointer, header: RecordBatchHeader) throws(FormatError) -> [UInt8] {
        _ = try RecordBatchView.validate(raw)
        let inflated = try records(of: raw)
        var batch = Array(raw[..<RecordBatchLayout.headerSize])
        batch.reserveCapacity(batch.count + inflated.count)
        batch.append(contentsOf: inflated)
        batch.storeBigEndian(header.attributes.rawValue & ~0x7, at: RecordBatchLayout.attributes)
        RecordBatchLayout.seal(&batch)
        return batch
    }

    /// The records of the gzip batch `raw` (its header already checked), inflated to at most
    /// `KeylessRecords.inflatedBytesMax` bytes: for a consumer's read and a compacted topic's key check.
    static func records(of raw: UnsafeRawBufferPointer) throws(FormatError) -> [UInt8] {
        do {
            return try Gzip.decompress(UnsafeRawBufferPointer(rebasing: raw[RecordBatchLayout.headerSize...]), outputLimit: KeylessRecords.inflatedBytesMax)
        } catch {
            throw .undecompressable(.gzip, reason: error.reason)
        }
    }
}
