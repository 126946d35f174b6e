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
        var offsetDeltasInOrder = true
        return try indexes(in: batch, header: header, offsetDeltasInOrder: &offsetDeltasInOrder)
    }

    /// The same, and whether the records' offset deltas are 0, 1, 2, … in order (left as it is for
    /// a control batch).
    public static func indexes(in batch: UnsafeRawBufferPointer, header: RecordBatchHeader, offsetDeltasInOrder: inout Bool) throws(FormatError) -> [Int32]? {
        guard !header.attributes.isControl else { return nil }
        guard header.attributes.compression != Compression.none else {
            return try indexes(inRecords: UnsafeRawBufferPointer(rebasing: batch[RecordBatchLayout.headerSize...]), count: header.recordsCount,
                               offsetDeltasInOrder: &offsetDeltasInOrder)
        }
        let inflated = try InflatedBatch.records(of: batch, header: header)
        let keyless: Result<([Int32], Bool), FormatError> = inflated.withUnsafeBytes { raw in
            do throws(FormatError) {
                var inOrder = true
                let found = try indexes(inRecords: raw, count: header.recordsCount, offsetDeltasInOrder: &inOrder)
                return .success((found, inOrder))
            } catch {
                return .failure(error)
            }
        }
        let (found, inOrder) = try keyless.get()
        offsetDeltasInOrder = inOrder
        return found
    }

    /// Reads `count` records that fill `records` exactly, as `RecordLayout.scanBatch` does.
    static func indexes(inRecords records: UnsafeRawBufferPointer, count: Int32) throws(FormatError) -> [Int32] {
        var offsetDeltasInOrder = true
        return try indexes(inRecords: records, count: count, offsetDeltasInOrder: &offsetDeltasInOrder)
    }

    /// The same, and whether the records' offset deltas are 0, 1, 2, … in order.
    static func indexes(inRecords records: UnsafeRawBufferPointer, count: Int32, offsetDeltasInOrder: inout Bool) throws(FormatError) -> [Int32] {
        var reader = ByteReader(records)
        var keyless: [Int32] = []
        var inOrder = true
        for index in 0..<Int(max(count, 0)) {
            let layout = try RecordLayout.scan(from: &reader, index: index)
            if layout.keyLength < 0 { keyless.append(Int32(index)) }
            if Int(layout.offsetDelta) != index { inOrder = false }
        }
        guard reader.remaining == 0 else {
            throw .malformedRecord(index: Int(count), reason: "\(reader.remaining) bytes left after the last record")
        }
        offsetDeltasInOrder = inOrder
        return keyless
    }
}
