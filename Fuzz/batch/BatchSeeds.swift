import SpoolFormat

/// Seed batches for the batch fuzzer: the shapes producers send (keys, null values, headers,
/// idempotent sequences, several records), the shapes the checks refuse (control, compressed,
/// empty) and boundary values, encoded by Spool's own encoder.
enum BatchSeeds {
    static var all: [(name: String, frame: [UInt8])] {
        let now: Int64 = 1_700_000_000_000
        let job = ProducerRecord(key: Array("user-1".utf8), value: Array("welcome".utf8),
                                 headers: [RecordHeader("spool-job-id", "1"), RecordHeader("spool-deliver-at", "1700000001000")], timestamp: now)
        let many = (0..<20).map { ProducerRecord(key: $0 % 3 == 0 ? nil : Array("k\($0)".utf8), value: Array(repeating: UInt8($0), count: $0 * 7),
                                                 timestamp: now + Int64($0)) }
        let batches: [(String, RecordBatch)] = [
            ("one-record", RecordBatch(producing: [ProducerRecord(value: Array("hello".utf8), timestamp: now)])),
            ("job-with-headers", RecordBatch(producing: [job])),
            ("tombstone", RecordBatch(producing: [ProducerRecord(key: [1, 2, 3], value: nil, headers: [RecordHeader(key: "h", value: nil)], timestamp: now)])),
            ("idempotent", RecordBatch(producing: [job, job], producerId: 7, producerEpoch: 1, baseSequence: 40)),
            ("twenty-records", RecordBatch(producing: many)),
            ("empty", RecordBatch(producing: [])),
            ("control", RecordBatch(producing: [job], attributes: BatchAttributes(rawValue: 1 << 5))),
            ("gzip-flagged", RecordBatch(producing: [job], attributes: BatchAttributes(rawValue: 1))),
            // Boundary values a producer may put in the header: the last timestamp and sequence.
            ("latest-timestamp", RecordBatch(producing: [ProducerRecord(value: [1], timestamp: Int64.max)])),
            ("earliest-timestamp", RecordBatch(producing: [ProducerRecord(value: [1], timestamp: Int64.min)])),
            ("last-sequence", RecordBatch(producing: [job, job], producerId: 7, producerEpoch: 1, baseSequence: Int32.max)),
        ]
        // Records a compressed member holds (what the broker and consumers decompress): not records
        // as they are, so that the fuzzer starts inside each decoder; its second pass fixes the
        // length and the CRC-32C.
        let compressed = [(Compression.gzip, gzipMember), (.snappy, snappyMember), (.lz4, lz4Member), (.zstd, zstdMember)].map { codec, member in
            let flagged = RecordBatch(producing: [job], attributes: BatchAttributes(compression: codec)).encoded()
            return (name: "\(codec)-records", frame: Array(flagged.prefix(RecordBatchLayout.headerSize)) + member)
        }
        return batches.map { (name: $0.0, frame: $0.1.encoded()) } + compressed
    }

    /// gzip (level 9) of some text and the bytes 0-63.
    static let gzipMember: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 78, 173, 212, 53, 84, 40, 75, 204, 41, 77, 5, 210, 217, 64, 158, 17, 148, 103, 4, 230, 25, 67, 121,
        198, 10, 197, 5, 249, 249, 57, 186, 89, 249, 73, 186, 153, 41, 10, 229, 169, 57, 201, 249, 185, 169, 96, 37, 67, 86, 59, 3, 35, 19, 51,
        11, 43, 27, 59, 7, 39, 23, 55, 15, 47, 31, 191, 128, 160, 144, 176, 136, 168, 152, 184, 132, 164, 148, 180, 140, 172, 156, 188, 130, 162,
        146, 178, 138, 170, 154, 186, 134, 166, 150, 182, 142, 174, 158, 190, 129, 161, 145, 177, 137, 169, 153, 185, 133, 165, 149, 181, 141,
        173, 157, 61, 0, 38, 196, 5, 107, 60, 1, 0, 0,
    ]

    /// zstd (`zstd -19`, `lz4 -BD --content-size`, python-snappy) of 120 words of job vocabulary and the bytes 0-63.
    static let zstdMember: [UInt8] = [
        40, 181, 47, 253, 4, 104, 165, 8, 0, 146, 8, 33, 29, 176, 244, 116, 32, 132, 182, 163, 117, 157, 34, 142, 206, 215, 126, 208, 127, 208,
        127, 128, 25, 0, 0, 24, 4, 0, 0, 0, 3, 3, 190, 30, 111, 167, 203, 225, 110, 182, 26, 109, 38, 139, 193, 94, 174, 22, 107, 165,
        74, 161, 78, 166, 18, 105, 36, 10, 129, 250, 227, 233, 112, 54, 154, 12, 230, 98, 169, 80, 38, 146, 8, 228, 225, 104, 48, 22, 138, 4,
        226, 96, 40, 16, 6, 130, 0, 224, 37, 122, 116, 248, 50, 231, 219, 123, 133, 103, 174, 191, 27, 44, 226, 124, 124, 212, 214, 180, 241, 75,
        124, 137, 125, 243, 2, 237, 137, 141, 127, 162, 61, 214, 143, 157, 107, 91, 178, 154, 111, 252, 148, 180, 31, 3, 80, 168, 161, 135, 105, 246,
        127, 3, 32, 2, 98, 148, 132, 119, 33, 4, 112, 1, 69, 152, 132, 81, 151, 61, 3, 19, 240, 229, 128, 36, 99, 5, 39, 36, 106, 171,
        40, 220, 197, 160, 248, 194, 70, 36, 100, 236, 148, 202, 80, 20, 174, 22, 195, 54, 219, 132, 94, 65, 56, 199, 4, 102, 113, 30, 77, 141,
        52, 184, 11, 150, 170, 45, 122, 88, 53, 38, 134, 232, 94, 65, 231, 21, 164, 122, 176, 236, 54, 17, 99, 66, 177, 162, 158, 87, 231, 239,
        187, 49, 5, 131, 190, 112, 31, 179, 93, 81, 198, 61, 127, 10, 54, 81, 105, 152, 163, 149, 188, 228, 148, 171, 119, 122, 136, 74, 62, 194,
        143, 0, 98, 135, 47, 72, 210, 122, 118, 187, 183, 143, 35, 175, 2, 132, 123, 179, 30,
    ]
    /// lz4 (`zstd -19`, `lz4 -BD --content-size`, python-snappy) of 120 words of job vocabulary and the bytes 0-63.
    static let lz4Member: [UInt8] = [
        4, 34, 77, 24, 100, 64, 167, 184, 1, 0, 0, 245, 32, 100, 101, 108, 105, 118, 101, 114, 32, 101, 109, 97, 105, 108, 32, 97, 116, 32,
        100, 101, 97, 100, 32, 117, 115, 101, 114, 32, 119, 101, 108, 99, 111, 109, 101, 32, 119, 111, 114, 107, 101, 114, 32, 118, 97, 108, 117, 101,
        21, 0, 4, 56, 0, 82, 114, 101, 116, 114, 121, 48, 0, 2, 33, 0, 50, 106, 111, 98, 15, 0, 4, 63, 0, 32, 97, 116, 87, 0,
        4, 14, 0, 0, 31, 0, 4, 12, 0, 2, 49, 0, 35, 97, 116, 48, 0, 2, 103, 0, 2, 81, 0, 4, 35, 0, 0, 47, 0, 1,
        146, 0, 1, 5, 0, 2, 28, 0, 1, 157, 0, 2, 11, 0, 2, 6, 0, 4, 66, 0, 0, 45, 0, 1, 29, 0, 2, 89, 0, 3,
        184, 0, 2, 218, 0, 65, 115, 112, 111, 111, 224, 0, 2, 15, 0, 3, 34, 0, 3, 226, 0, 2, 71, 0, 2, 35, 0, 3, 26, 0,
        2, 141, 0, 1, 118, 0, 2, 50, 0, 4, 146, 0, 2, 44, 0, 2, 6, 0, 1, 31, 0, 0, 118, 0, 4, 14, 1, 4, 37, 0,
        2, 69, 0, 71, 108, 101, 116, 116, 72, 1, 2, 52, 0, 1, 161, 0, 2, 11, 0, 0, 58, 0, 35, 107, 101, 71, 0, 2, 51, 0,
        118, 97, 116, 32, 113, 117, 101, 117, 96, 1, 0, 32, 0, 2, 46, 0, 0, 10, 0, 4, 104, 0, 2, 171, 0, 0, 64, 0, 2, 46,
        0, 2, 163, 0, 3, 112, 0, 2, 19, 0, 0, 29, 0, 4, 143, 0, 2, 65, 0, 2, 53, 0, 2, 104, 0, 8, 77, 0, 3, 55,
        0, 0, 19, 0, 2, 35, 0, 2, 47, 0, 4, 61, 0, 4, 8, 0, 2, 57, 0, 5, 66, 1, 2, 102, 0, 4, 145, 0, 2, 129,
        0, 0, 67, 0, 4, 141, 1, 1, 28, 1, 4, 60, 0, 2, 45, 0, 2, 66, 0, 2, 94, 0, 2, 18, 0, 3, 163, 1, 4, 70,
        0, 4, 8, 0, 3, 146, 0, 4, 15, 0, 2, 50, 0, 0, 93, 0, 2, 10, 0, 2, 60, 0, 240, 52, 107, 101, 121, 0, 1, 2,
        3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
        33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
        63, 0, 0, 0, 0, 147, 52, 19, 173,
    ]
    /// snappy (`zstd -19`, `lz4 -BD --content-size`, python-snappy) of 120 words of job vocabulary and the bytes 0-63.
    static let snappyMember: [UInt8] = [
        253, 5, 184, 100, 101, 108, 105, 118, 101, 114, 32, 101, 109, 97, 105, 108, 32, 97, 116, 32, 100, 101, 97, 100, 32, 117, 115, 101, 114, 32,
        119, 101, 108, 99, 111, 109, 101, 32, 119, 111, 114, 107, 101, 114, 32, 118, 97, 108, 117, 101, 21, 21, 17, 56, 16, 114, 101, 116, 114, 121,
        9, 48, 0, 118, 5, 33, 8, 106, 111, 98, 9, 15, 17, 63, 4, 97, 116, 1, 3, 17, 14, 1, 31, 17, 12, 9, 49, 4, 97, 116,
        13, 48, 0, 111, 5, 103, 9, 81, 17, 35, 1, 47, 5, 146, 5, 5, 9, 28, 5, 157, 9, 11, 9, 6, 17, 66, 1, 45, 5, 29,
        9, 89, 13, 81, 9, 218, 12, 115, 112, 111, 111, 5, 224, 9, 15, 13, 34, 13, 226, 9, 71, 9, 35, 13, 26, 9, 141, 5, 118, 9,
        50, 54, 44, 0, 9, 50, 5, 31, 1, 118, 49, 14, 17, 37, 9, 69, 12, 108, 101, 116, 116, 61, 72, 9, 52, 5, 161, 9, 11, 1,
        58, 8, 107, 101, 121, 9, 71, 9, 51, 28, 97, 116, 32, 113, 117, 101, 117, 101, 21, 82, 1, 32, 9, 46, 1, 10, 17, 104, 9, 171,
        1, 64, 9, 46, 9, 163, 13, 112, 9, 19, 1, 29, 17, 143, 9, 65, 9, 53, 9, 104, 46, 77, 0, 13, 55, 1, 19, 9, 35, 9,
        47, 17, 61, 17, 8, 9, 57, 4, 97, 116, 13, 109, 9, 102, 17, 145, 9, 129, 1, 67, 49, 141, 37, 28, 17, 60, 9, 45, 9, 66,
        9, 94, 9, 18, 53, 103, 73, 133, 17, 78, 13, 146, 17, 15, 9, 50, 1, 93, 9, 10, 9, 60, 240, 66, 107, 101, 121, 0, 1, 2,
        3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
        33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
        63,
    ]
}
