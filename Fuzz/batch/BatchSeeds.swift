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
        // Records a gzip member holds (what a compacted topic's key check inflates): not records
        // as they are, so that the fuzzer starts inside the inflater; its second pass fixes the
        // length and the CRC-32C.
        let gzipFlagged = RecordBatch(producing: [job], attributes: BatchAttributes(compression: .gzip)).encoded()
        let gzipRecords = Array(gzipFlagged.prefix(RecordBatchLayout.headerSize)) + gzipMember
        return batches.map { (name: $0.0, frame: $0.1.encoded()) } + [("gzip-records", gzipRecords)]
    }

    /// gzip (level 9) of some text and the bytes 0-63.
    static let gzipMember: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 78, 173, 212, 53, 84, 40, 75, 204, 41, 77, 5, 210, 217, 64, 158, 17, 148, 103, 4, 230, 25, 67, 121,
        198, 10, 197, 5, 249, 249, 57, 186, 89, 249, 73, 186, 153, 41, 10, 229, 169, 57, 201, 249, 185, 169, 96, 37, 67, 86, 59, 3, 35, 19, 51,
        11, 43, 27, 59, 7, 39, 23, 55, 15, 47, 31, 191, 128, 160, 144, 176, 136, 168, 152, 184, 132, 164, 148, 180, 140, 172, 156, 188, 130, 162,
        146, 178, 138, 170, 154, 186, 134, 166, 150, 182, 142, 174, 158, 190, 129, 161, 145, 177, 137, 169, 153, 185, 133, 165, 149, 181, 141,
        173, 157, 61, 0, 38, 196, 5, 107, 60, 1, 0, 0,
    ]
}
