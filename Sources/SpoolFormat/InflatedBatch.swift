/// A compressed batch as a reader of records sees it: its header with the codec cleared, and its
/// records decompressed after it, a batch of the uncompressed kind that every reader of records
/// reads (`BatchReader`, `RecordBatch(decoding:)`). Kafka's consumers decompress what producers
/// compressed, and its broker decompresses every batch it validates; Spool does both, for every
/// codec Kafka has: gzip (`Gzip`), snappy (`Snappy`), lz4 (`LZ4Frame`) and zstd (`Zstd`).
public enum InflatedBatch {
    /// The uncompressed batch the compressed batch `raw` (whole, its `header` parsed) holds. The
    /// batch is checked first (size, magic, CRC-32C) as any read batch is; the records inflate
    /// to at most `KeylessRecords.inflatedBytesMax` bytes.
    static func of(_ raw: UnsafeRawBufferPointer, header: RecordBatchHeader) throws(FormatError) -> [UInt8] {
        _ = try RecordBatchView.validate(raw)
        let inflated = try records(of: raw, header: header)
        var batch = Array(raw[..<RecordBatchLayout.headerSize])
        batch.reserveCapacity(batch.count + inflated.count)
        batch.append(contentsOf: inflated)
        batch.storeBigEndian(header.attributes.rawValue & ~0x7, at: RecordBatchLayout.attributes)
        RecordBatchLayout.seal(&batch)
        return batch
    }

    /// The records of the batch `raw` (its header already checked), decompressed to at most
    /// `KeylessRecords.inflatedBytesMax` bytes: for a consumer's read, the broker's check of a
    /// produced batch and a compacted topic's key check.
    public static func records(of raw: UnsafeRawBufferPointer, header: RecordBatchHeader) throws(FormatError) -> [UInt8] {
        let body = UnsafeRawBufferPointer(rebasing: raw[RecordBatchLayout.headerSize...])
        guard let codec = header.attributes.compression else { throw .invalidCompression(header.attributes.compressionCode) }
        do throws(DecompressionFailure) {
            switch codec {
            case .gzip: return try Gzip.decompress(body, outputLimit: KeylessRecords.inflatedBytesMax)
            case .snappy: return try Snappy.decompress(body, outputLimit: KeylessRecords.inflatedBytesMax)
            case .lz4: return try LZ4Frame.decompress(body, outputLimit: KeylessRecords.inflatedBytesMax)
            case .zstd: return try Zstd.decompress(body, outputLimit: KeylessRecords.inflatedBytesMax)
            case .none: return Array(body)
            }
        } catch {
            throw .undecompressable(codec, reason: error.reason)
        }
    }

    /// The records of the compressed batch `raw`, decompressed as `records(of:header:)` does, once
    /// each is read and they fill the bytes exactly: Kafka's broker reads every record of a
    /// compressed batch it is sent, and refuses the batch for one it cannot read. With them,
    /// whether the records' offset deltas are 0, 1, 2, … in order: a producer's compressed batch
    /// whose records say other offsets is stored with its records renumbered, as Kafka's broker
    /// rebuilds it (`LogValidator`'s `expectedInnerOffset`).
    public static func checkedRecords(of raw: UnsafeRawBufferPointer, header: RecordBatchHeader) throws(FormatError)
        -> (records: [UInt8], offsetDeltasInOrder: Bool) {
        let inflated = try records(of: raw, header: header)
        let checked: Result<KeylessRecords.Read, FormatError> = inflated.withUnsafeBytes { bytes in
            do throws(FormatError) {
                return .success(try KeylessRecords.read(records: bytes, count: header.recordsCount))
            } catch {
                return .failure(error)
            }
        }
        return (inflated, try checked.get().offsetDeltasInOrder)
    }
}
