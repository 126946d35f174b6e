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
        return batches.map { (name: $0.0, frame: $0.1.encoded()) }
    }
}
