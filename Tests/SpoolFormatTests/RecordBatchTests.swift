import SpoolFormat
import Testing

@Suite struct RecordBatchTests {
    private func sampleRecords(_ count: Int) -> [ProducerRecord] {
        (0..<count).map { index in
            ProducerRecord(
                key: index % 3 == 0 ? nil : Array("user-\(index)".utf8),
                value: index % 5 == 4 ? nil : Array(repeating: UInt8(index % 251), count: index * 7),
                headers: index % 2 == 0 ? [] : [
                    RecordHeader("spool-job-id", "job-\(index)"), RecordHeader(key: "empty", value: []),
                    RecordHeader(key: "null", value: nil),
                ],
                timestamp: 1_700_000_000_000 + Int64(index * 13) - (index == 2 ? 50 : 0))
        }
    }

    @Test(arguments: [1, 2, 3, 16, 100, 1000])
    func roundTripKeepsEveryField(count: Int) throws {
        let records = sampleRecords(count)
        let batch = RecordBatch(producing: records, producerId: 42, producerEpoch: 3, baseSequence: 17)
        let bytes = batch.encoded()
        let decoded = try RecordBatch(decoding: bytes)
        #expect(decoded == batch)
        #expect(decoded.records.count == count)
        #expect(decoded.lastOffsetDelta == Int32(count - 1))
        #expect(decoded.maxTimestamp == records.map(\.timestamp).max())
        for (record, original) in zip(decoded.records, records) {
            #expect(record.key == original.key)
            #expect(record.value == original.value)
            #expect(record.headers == original.headers)
            #expect(decoded.timestamp(of: record) == original.timestamp)
        }
        let header = try bytes.withUnsafeBytes { try RecordBatchView.validateFromProducer($0) }
        #expect(header.recordsCount == Int32(count))
        #expect(header.producerId == 42)
        #expect(header.baseSequence == 17)
        #expect(header.lastSequence == Int32(17 + count - 1))
        #expect(header.totalSize == bytes.count)
    }

    @Test func headerFieldsSitAtTheDocumentedOffsets() throws {
        let bytes = RecordBatch(producing: sampleRecords(2), producerId: 0x0102_0304_0506_0708, producerEpoch: 9, baseSequence: 11).encoded()
        #expect(Array(bytes[0..<8]) == [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(bytes[RecordBatchLayout.magic] == 2)
        #expect(Array(bytes[43..<51]) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(Array(bytes[51..<53]) == [0, 9])
        let length = bytes[8..<12].reduce(0) { $0 << 8 | Int($1) }
        #expect(length + 12 == bytes.count)
    }

    @Test func writingTheOffsetDoesNotDisturbTheCRC() throws {
        var bytes = RecordBatch(producing: sampleRecords(4)).encoded()
        bytes.withUnsafeMutableBytes {
            RecordBatchView.setBaseOffset(123_456_789, in: $0)
            RecordBatchView.setPartitionLeaderEpoch(7, in: $0)
        }
        let decoded = try RecordBatch(decoding: bytes)
        #expect(decoded.baseOffset == 123_456_789)
        #expect(decoded.partitionLeaderEpoch == 7)
        #expect(decoded.offset(of: decoded.records[3]) == 123_456_792)
    }

    @Test func everyFlippedBitInTheCRCRangeFailsValidation() {
        let bytes = RecordBatch(producing: sampleRecords(3)).encoded()
        var failures = 0
        for byte in RecordBatchLayout.crcStart..<bytes.count {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[byte] ^= UInt8(1 << bit)
                let rejected = damaged.withUnsafeBytes { raw in
                    do { _ = try RecordBatchView.validate(raw); return false } catch { return true }
                }
                if rejected { failures += 1 }
            }
        }
        #expect(failures == (bytes.count - RecordBatchLayout.crcStart) * 8)
    }

    @Test func flippedCRCBytesFailValidation() {
        let bytes = RecordBatch(producing: sampleRecords(3)).encoded()
        for byte in RecordBatchLayout.crc..<RecordBatchLayout.crcStart {
            var damaged = bytes
            damaged[byte] ^= 0x10
            #expect(throws: FormatError.self) { try damaged.withUnsafeBytes { _ = try RecordBatchView.validate($0) } }
        }
    }

    @Test func structuralErrorsAreNamed() {
        let bytes = RecordBatch(producing: sampleRecords(2)).encoded()
        #expect(throws: FormatError.truncated(needed: 61, available: 60)) {
            try Array(bytes[0..<60]).withUnsafeBytes { _ = try RecordBatchView.validate($0) }
        }
        #expect(throws: FormatError.lengthMismatch(declared: bytes.count, available: bytes.count - 1)) {
            try Array(bytes.dropLast()).withUnsafeBytes { _ = try RecordBatchView.validate($0) }
        }
        var magic = bytes
        magic[RecordBatchLayout.magic] = 1
        #expect(throws: FormatError.unsupportedMagic(1)) { try magic.withUnsafeBytes { _ = try RecordBatchView.validate($0) } }
    }

    @Test func producerRulesAreEnforced() {
        let control = RecordBatch(producing: sampleRecords(1), attributes: BatchAttributes(control: true)).encoded()
        #expect(throws: FormatError.controlBatchFromProducer) {
            try control.withUnsafeBytes { _ = try RecordBatchView.validateFromProducer($0) }
        }
        let noSequence = RecordBatch(producing: sampleRecords(1), producerId: 5, producerEpoch: 0, baseSequence: -1).encoded()
        #expect(throws: FormatError.missingSequence) {
            try noSequence.withUnsafeBytes { _ = try RecordBatchView.validateFromProducer($0) }
        }
        var gap = RecordBatch(producing: sampleRecords(2))
        gap.lastOffsetDelta = 5
        #expect(throws: FormatError.inconsistentOffsetRange(lastOffsetDelta: 5, recordsCount: 2)) {
            try gap.encoded().withUnsafeBytes { _ = try RecordBatchView.validateFromProducer($0) }
        }
        let empty = RecordBatch(producing: []).encoded()
        #expect(throws: FormatError.self) { try empty.withUnsafeBytes { _ = try RecordBatchView.validateFromProducer($0) } }
        let badCodec = RecordBatch(producing: sampleRecords(1), attributes: BatchAttributes(rawValue: 6)).encoded()
        #expect(throws: FormatError.invalidCompression(6)) { try badCodec.withUnsafeBytes { _ = try RecordBatchView.validate($0) } }
    }

    @Test func compressedBatchesValidateButAreNotDecoded() throws {
        let bytes = RecordBatch(producing: sampleRecords(2), attributes: BatchAttributes(compression: .gzip)).encoded()
        let header = try bytes.withUnsafeBytes { try RecordBatchView.validate($0) }
        #expect(header.attributes.compression == .gzip)
        #expect(throws: FormatError.compressedRecords(.gzip)) { try RecordBatch(decoding: bytes) }
    }

    @Test func logAppendTimeUsesTheBatchMaxTimestamp() throws {
        var batch = RecordBatch(producing: sampleRecords(3), attributes: BatchAttributes(logAppendTime: true))
        batch.maxTimestamp = 42
        let decoded = try RecordBatch(decoding: batch.encoded())
        #expect(decoded.records.allSatisfy { decoded.timestamp(of: $0) == 42 })
    }

    @Test func lyingRecordLengthsAreRejectedWithoutReadingPastTheBatch() {
        // A record whose length varint claims more bytes than the batch holds; CRC recomputed so
        // only the record structure is wrong.
        var batch = RecordBatch(producing: [ProducerRecord(value: Array("abc".utf8), timestamp: 1)])
        batch.records[0].headers = []
        var bytes = batch.encoded()
        bytes[RecordBatchLayout.headerSize] = 0x7E  // length 63, far past the end
        recomputeCRC(&bytes)
        #expect(throws: FormatError.self) { try RecordBatch(decoding: bytes) }

        var countLie = batch.encoded()
        countLie.replaceSubrange(57..<61, with: [0x7F, 0xFF, 0xFF, 0xFF])
        recomputeCRC(&countLie)
        #expect(throws: FormatError.self) { try RecordBatch(decoding: countLie) }
    }

    /// Fuzzing found that a batch with a base timestamp at one end of Int64 and a delta pointing
    /// past it passes validation but trapped in `timestamp(of:)` (Tests/FuzzRegressionTests/Inputs/
    /// batch/timestamp-overflow.bin). Timestamps now wrap as in Kafka's Java code, and any pair of
    /// timestamps round-trips through a batch.
    @Test func timestampsAtTheEndsOfInt64WrapInsteadOfTrapping() throws {
        let extremes: [Int64] = [Int64.min, -1, 0, 1_700_000_000_000, Int64.max]
        let batch = RecordBatch(producing: extremes.map { ProducerRecord(value: [1], timestamp: $0) })
        let decoded = try RecordBatch(decoding: batch.encoded())
        #expect(decoded.records.map { decoded.timestamp(of: $0) } == extremes)

        var crafted = RecordBatch(producing: [ProducerRecord(value: [1], timestamp: Int64.max)])
        crafted.records[0].timestampDelta = 2
        let read = try RecordBatch(decoding: crafted.encoded())
        #expect(read.timestamp(of: read.records[0]) == Int64.min + 1)
    }

    private func recomputeCRC(_ bytes: inout [UInt8]) {
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[RecordBatchLayout.crcStart...])) }
        bytes.storeBigEndian(crc, at: RecordBatchLayout.crc)
    }
}
