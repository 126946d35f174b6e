extension RecordBatch {
    /// Splits `records`, in order, into consecutive runs whose batches, as `init(producing:)` builds
    /// them, are at most `maxBytes` each, each run as long as it can be. A record whose batch alone
    /// is over `maxBytes` is a run of its own (the caller decides what to do with it).
    ///
    /// Sizes are exact, not estimated: a record's size in a batch depends on its offset and
    /// timestamp deltas from the run's first record, which are known as the run grows.
    public static func producingRuns(_ records: [ProducerRecord], maxBytes: Int) -> [ArraySlice<ProducerRecord>] {
        var runs: [ArraySlice<ProducerRecord>] = []
        var start = records.startIndex
        var size = RecordBatchLayout.headerSize
        for index in records.indices {
            let record = records[index]
            var bytes = encodedSize(record, offsetDelta: index - start, timestampDelta: record.timestamp &- records[start].timestamp)
            if index > start && size + bytes > maxBytes {
                runs.append(records[start..<index])
                start = index
                size = RecordBatchLayout.headerSize
                bytes = encodedSize(record, offsetDelta: 0, timestampDelta: 0)
            }
            size += bytes
        }
        if start < records.endIndex { runs.append(records[start...]) }
        return runs
    }

    /// The bytes `record` takes in a batch at these deltas: its length varint and its body.
    private static func encodedSize(_ record: ProducerRecord, offsetDelta: Int, timestampDelta: Int64) -> Int {
        let body = Record(timestampDelta: timestampDelta, offsetDelta: Int32(truncatingIfNeeded: offsetDelta),
                          key: record.key, value: record.value, headers: record.headers).bodySize
        return Varint.encodedSize(Int64(body)) + body
    }
}
