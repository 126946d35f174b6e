import SpoolFormat
import Testing

/// Consumers read gzip batches (what `compression.type=gzip` producers send): the records are
/// inflated and read as an uncompressed batch's, in order with the batches around them.
@Suite struct GzipBatchReadTests {
    /// 12 records as Kafka's producers write them, gzipped by zlib (level 9, one dynamic-Huffman
    /// block): record i has key "user-(i % 3)", value {"to":"user(i)@example.com","n":i}, one
    /// header spool-job-id = "job-(i)", offset delta i and timestamp delta 0.
    static let member: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x6d, 0xd2, 0x3b, 0x0b, 0xc2, 0x30, 0x14, 0x05, 0xe0, 0x28,
        0x22, 0x52, 0x8a, 0x88, 0x88, 0x38, 0x67, 0xb6, 0x92, 0xa4, 0xef, 0x4e, 0x1d, 0xfc, 0x23, 0x3e, 0x3a, 0x28, 0xad, 0x29,
        0x56, 0x41, 0x10, 0x3b, 0xf9, 0xc3, 0x4d, 0x6d, 0x87, 0xea, 0x3d, 0x53, 0xc8, 0xf0, 0x1d, 0xce, 0x85, 0x53, 0x33, 0xc6,
        0xec, 0x7b, 0x95, 0x5d, 0x1d, 0x91, 0x3e, 0xf9, 0x4d, 0xf3, 0x84, 0x37, 0x3f, 0x91, 0x66, 0x8f, 0x5d, 0x51, 0xe6, 0xd9,
        0xe6, 0xa0, 0x0b, 0xbe, 0xe6, 0x17, 0x9e, 0x88, 0xd7, 0x70, 0x55, 0x95, 0x5a, 0xe7, 0xce, 0x59, 0xef, 0x9d, 0xd3, 0xd1,
        0x6a, 0x1e, 0x51, 0x33, 0x36, 0x6c, 0xbd, 0xec, 0x7b, 0x49, 0xbd, 0x44, 0x5e, 0x1a, 0x3f, 0x6a, 0xbd, 0xea, 0x7b, 0x45,
        0xbd, 0x42, 0x5e, 0x19, 0x3f, 0x06, 0xfd, 0x5d, 0xea, 0x5d, 0xe4, 0x5d, 0xe3, 0x27, 0xa0, 0xbf, 0x47, 0xbd, 0x87, 0xbc,
        0x67, 0xbc, 0x05, 0xfa, 0xfb, 0xd4, 0xfb, 0xc8, 0xfb, 0xc6, 0xdb, 0xa0, 0x7f, 0x40, 0x7d, 0x80, 0x7c, 0x60, 0xfc, 0x14,
        0xf4, 0x0f, 0xa9, 0x0f, 0x91, 0x0f, 0x8d, 0x9f, 0x81, 0xfe, 0x11, 0xf5, 0x11, 0xf2, 0x91, 0xf1, 0x73, 0xd0, 0x3f, 0xa6,
        0x3e, 0x46, 0x3e, 0x7e, 0x0f, 0x18, 0x5b, 0x74, 0x07, 0x6c, 0xfb, 0x03, 0x02, 0x0b, 0x94, 0xff, 0x13, 0xb4, 0xbf, 0x13,
        0x12, 0x4d, 0xc6, 0xb2, 0x3b, 0xe2, 0x27, 0x03, 0xad, 0x50, 0xc2, 0x0c, 0xf9, 0x01, 0x07, 0xcf, 0x3e, 0x76, 0x08, 0x03,
        0x00, 0x00,
    ]

    /// A batch at `base` whose records are `records` (compressed with `compression`), its length and
    /// CRC-32C made right; its header says 12 records from timestamp 1000.
    static func batch(base: Int64, records: [UInt8], compression: Compression = .gzip) -> [UInt8] {
        var header = RecordBatch(producing: (0..<12).map { ProducerRecord(value: [UInt8($0)], timestamp: 1_000) },
                                 attributes: BatchAttributes(compression: compression))
        header.baseOffset = base
        var bytes = Array(header.encoded().prefix(RecordBatchLayout.headerSize)) + records
        RecordBatchLayout.seal(&bytes)
        return bytes
    }

    static func plain(base: Int64, _ values: [String]) -> [UInt8] {
        var batch = RecordBatch(producing: values.map { ProducerRecord(key: Array("k".utf8), value: Array($0.utf8), timestamp: 2_000) })
        batch.baseOffset = base
        return batch.encoded()
    }

    static func expected(_ index: Int) -> (key: String, value: String, id: String) {
        ("user-\(index % 3)", #"{"to":"user\#(index)@example.com","n":\#(index)}"#, "job-\(index)")
    }

    @Test func aGzipBatchIsReadInOrderWithTheBatchesAroundIt() {
        let bytes = Self.plain(base: 0, ["a", "b"]) + Self.batch(base: 2, records: Self.member) + Self.plain(base: 14, ["c"])
        let fetched = FetchedRecords(decoding: bytes, topic: "jobs", partition: 3, from: 0)
        #expect(fetched.unreadable == nil)
        #expect(fetched.records.map(\.offset) == Array(0...14))
        #expect(fetched.next == 15)
        for (index, record) in fetched.records[2..<14].enumerated() {
            let want = Self.expected(index)
            #expect(record.key.map { String(decoding: $0, as: UTF8.self) } == want.key)
            #expect(record.valueString == want.value)
            #expect(record.header("spool-job-id") == want.id)
            #expect(record.timestamp == 1_000 && record.topicPartition == TopicPartition("jobs", 3))
        }
        #expect(fetched.records.map(\.valueString).suffix(1) == ["c"])
    }

    @Test func aJobReaderGetsTheSameRecordsFromTheMiddleOfTheBatch() {
        let bytes = Self.batch(base: 10, records: Self.member) + Self.plain(base: 22, ["after"])
        var cursor = RecordCursor(bytes, topic: "jobs", partition: 0, from: 15)
        var records: [BatchRecord] = []
        cursor.take(upTo: 100, into: &records)
        #expect(records.map(\.offset) == Array(15...22))
        let consumed = records.map(\.consumedRecord)
        #expect(consumed.first?.valueString == Self.expected(5).value && consumed.first?.header("spool-job-id") == "job-5")
        #expect(consumed.last?.valueString == "after")
        #expect(cursor.isExhausted && cursor.next == 23 && cursor.unreadable == nil)
    }

    @Test func aGzipBatchThatDoesNotInflateStopsTheReadAfterTheRecordsBeforeIt() {
        var corrupt = Self.member
        corrupt[corrupt.count - 6] ^= 0xFF  // the trailer's CRC-32 of the inflated bytes
        let bytes = Self.plain(base: 0, ["a", "b"]) + Self.batch(base: 2, records: corrupt) + Self.plain(base: 14, ["c"])
        let fetched = FetchedRecords(decoding: bytes, topic: "jobs", partition: 0, from: 0)
        #expect(fetched.records.map(\.offset) == [0, 1])
        #expect(fetched.next == 2)
        #expect(fetched.unreadable?.offset == 2)
        #expect(fetched.unreadable?.reason == .undecompressable(.gzip, reason: "corrupt gzip trailer"))
    }

    @Test func aGzipMemberUnderAnotherCodecsFlagStopsThePartitionNamingTheCodec() {
        for (codec, reason) in [(Compression.snappy, "a snappy copy back past the start of its block"), (.lz4, "not in lz4 frame format"),
                                (.zstd, "not in zstd format")] {
            let fetched = FetchedRecords(decoding: Self.plain(base: 0, ["a"]) + Self.batch(base: 1, records: Self.member, compression: codec),
                                         topic: "jobs", partition: 0, from: 0)
            #expect(fetched.records.map(\.offset) == [0])
            guard case .undecompressable(codec, _)? = fetched.unreadable?.reason else {
                Issue.record("\(codec): \(String(describing: fetched.unreadable))")
                continue
            }
            #expect(fetched.unreadable?.description == "the batch at offset 1 of jobs[0] cannot be read: records compressed with \(codec) do not inflate: \(reason)")
        }
    }
}
