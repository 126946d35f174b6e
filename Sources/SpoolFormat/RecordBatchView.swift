/// Checks on batches as they arrive from producers and as they are read back from disk.
///
/// These work on borrowed bytes and never copy or decode records: the hot path validates a batch
/// (bounds, magic, CRC) and stores it as it came.
public enum RecordBatchView {
    /// Reads the declared size of the batch starting at `bytes[0]`, or nil when fewer than the 12
    /// bytes of baseOffset + batchLength are there. The value is whatever the bytes say; callers
    /// bound it before trusting it.
    @inline(__always)
    public static func declaredSize(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= RecordBatchLayout.logOverhead else { return nil }
        let length = Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: RecordBatchLayout.batchLength, as: Int32.self))
        return Int(length) + RecordBatchLayout.logOverhead
    }

    /// Validates the structure of exactly one batch that fills `bytes`: size, magic, CRC, compression
    /// code and offset range. Returns the parsed header.
    public static func validate(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> RecordBatchHeader {
        guard bytes.count >= RecordBatchLayout.headerSize else {
            throw .truncated(needed: RecordBatchLayout.headerSize, available: bytes.count)
        }
        let magic = Int8(bitPattern: bytes[RecordBatchLayout.magic])
        guard magic == RecordBatchLayout.currentMagic else { throw .unsupportedMagic(magic) }
        let header = try RecordBatchHeader(parsing: bytes)
        guard header.batchLength >= 0, header.totalSize == bytes.count else {
            throw .lengthMismatch(declared: header.totalSize, available: bytes.count)
        }
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[RecordBatchLayout.crcStart...]))
        guard computed == header.crc else { throw .crcMismatch(stored: header.crc, computed: computed) }
        guard header.attributes.compression != nil else {
            throw .invalidCompression(header.attributes.compressionCode)
        }
        guard header.lastOffsetDelta >= 0, header.recordsCount >= 0 else {
            throw .inconsistentOffsetRange(lastOffsetDelta: header.lastOffsetDelta, recordsCount: header.recordsCount)
        }
        return header
    }

    /// The stricter checks Kafka applies to a batch a producer sends (on top of `validate`): at
    /// least one record, offsets 0…count-1, no control batch, a sequence when idempotent.
    public static func validateFromProducer(_ bytes: UnsafeRawBufferPointer) throws(FormatError) -> RecordBatchHeader {
        let header = try validate(bytes)
        try checkProducerRules(header)
        return header
    }

    /// The producer rules of `validateFromProducer` alone, on an already parsed header.
    public static func checkProducerRules(_ header: RecordBatchHeader) throws(FormatError) {
        guard header.recordsCount >= 1, Int64(header.lastOffsetDelta) + 1 == Int64(header.recordsCount) else {
            throw .inconsistentOffsetRange(lastOffsetDelta: header.lastOffsetDelta, recordsCount: header.recordsCount)
        }
        guard !header.attributes.isControl else { throw .controlBatchFromProducer }
        if header.producerId >= 0, header.baseSequence < 0 { throw .missingSequence }
    }

    /// Writes the broker-assigned base offset into a stored batch. Outside the CRC, so no re-check.
    @inline(__always)
    public static func setBaseOffset(_ offset: Int64, in bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= RecordBatchLayout.headerSize, "not a batch")
        bytes.storeBytes(of: offset.bigEndian, toByteOffset: RecordBatchLayout.baseOffset, as: Int64.self)
    }

    /// Writes the partition leader epoch into a stored batch. Outside the CRC, so no re-check.
    @inline(__always)
    public static func setPartitionLeaderEpoch(_ epoch: Int32, in bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= RecordBatchLayout.headerSize, "not a batch")
        bytes.storeBytes(of: epoch.bigEndian, toByteOffset: RecordBatchLayout.partitionLeaderEpoch, as: Int32.self)
    }
}
