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

    /// What reading a batch's records found.
    public struct Read: Sendable, Equatable {
        /// The indexes in the batch of the records without a key.
        public var keyless: [Int32] = []
        /// Whether the records' offset deltas are 0, 1, 2, … in order.
        public var offsetDeltasInOrder = true

        /// Nothing keyless, offsets in order: what a control batch, whose records are not read, counts as.
        public init() {}
    }

    /// Reads the batch's records; nil for a control batch, whose records are not read. `header`
    /// is the batch's, already validated (`RecordBatchView.validate`). Throws for records that
    /// cannot be decompressed or read.
    public static func read(_ batch: UnsafeRawBufferPointer, header: RecordBatchHeader) throws(FormatError) -> Read? {
        guard !header.attributes.isControl else { return nil }
        guard header.attributes.compression != Compression.none else {
            return try read(records: UnsafeRawBufferPointer(rebasing: batch[RecordBatchLayout.headerSize...]), count: header.recordsCount)
        }
        let inflated = try InflatedBatch.records(of: batch, header: header)
        let read: Result<Read, FormatError> = inflated.withUnsafeBytes { raw in
            do throws(FormatError) { return .success(try Self.read(records: raw, count: header.recordsCount)) } catch { return .failure(error) }
        }
        return try read.get()
    }

    /// Reads `count` records that fill `records` exactly, as `RecordLayout.scanBatch` does.
    static func read(records: UnsafeRawBufferPointer, count: Int32) throws(FormatError) -> Read {
        var reader = ByteReader(records)
        var read = Read()
        for index in 0..<Int(max(count, 0)) {
            let layout = try RecordLayout.scan(from: &reader, index: index)
            if layout.keyLength < 0 { read.keyless.append(Int32(index)) }
            if Int(layout.offsetDelta) != index { read.offsetDeltasInOrder = false }
        }
        guard reader.remaining == 0 else {
            throw .malformedRecord(index: Int(count), reason: "\(reader.remaining) bytes left after the last record")
        }
        return read
    }
}
