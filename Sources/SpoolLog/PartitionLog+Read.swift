import SpoolFormat

extension PartitionLog {
    /// Reads whole batches starting with the one that holds `offset`, up to `maxBytes` (at least
    /// one batch, however large, so a reader always makes progress), all from one segment and all
    /// below the high watermark. At the high watermark the slice is empty.
    ///
    /// Throws `.offsetOutOfRange` below the log start or past the high watermark.
    public func read(from offset: Int64, maxBytes: Int) throws(LogError) -> LogReadResult {
        try state.withLock { state throws(LogError) -> LogReadResult in
            if state.isClosed { throw .closed }
            let start = state.logStartOffset
            let visible = state.visible
            guard offset >= start, offset <= visible.offset else {
                throw .offsetOutOfRange(requested: offset, logStart: start, highWatermark: visible.offset)
            }
            var result = LogReadResult(slice: .empty, highWatermark: visible.offset, logStartOffset: start)
            guard offset < visible.offset else { return result }
            var index = state.segmentIndex(containing: offset)
            while index < state.segments.count {
                let segment = state.segments[index]
                let limit = visibleLimit(of: segment, visible: visible)
                if let region = segment.region, let position = segment.position(of: offset, limit: limit) {
                    var end = position
                    while let batch = BatchBounds.read(region, at: end, limit: limit) {
                        if end > position && end + batch.size - position > maxBytes { break }
                        end += batch.size
                    }
                    result.slice = LogSlice(region: region, range: position..<end)
                    state.recordRead(position..<end, of: segment)
                    return result
                }
                index += 1
            }
            return result
        }
    }

    /// The offset of the first record whose timestamp is ≥ `timestamp`, among visible records at
    /// or after the log start; nil when there is none (Kafka's ListOffsets then answers with the
    /// high watermark). When the record found lies below a log start that `deleteRecords` moved
    /// into its batch, the answer is the log start.
    public func offset(forTimestamp timestamp: Int64) throws(LogError) -> Int64? {
        var start: Int64 = 0
        let batch: [UInt8]? = try state.withLock { state throws(LogError) -> [UInt8]? in
            if state.isClosed { throw .closed }
            start = state.logStartOffset
            for segment in state.segments where segment.maxTimestamp >= timestamp {
                let limit = visibleLimit(of: segment, visible: state.visible)
                guard let region = segment.region, let position = segment.position(ofTimestamp: timestamp, limit: limit),
                      let bounds = BatchBounds.read(region, at: position, limit: limit)
                else { continue }
                return region.withUnsafeBytes(position..<(position + bounds.size)) { Array($0) }
            }
            return nil
        }
        guard let batch else { return nil }
        // The batch's max timestamp reaches `timestamp`; find the record that does. Compressed
        // batches are not decoded: their first offset is the answer, as precise as Spool can be.
        guard let decoded = try? RecordBatch(decoding: batch) else {
            return batch.withUnsafeBytes { try? RecordBatchHeader(parsing: $0) }.map { max($0.baseOffset, start) }
        }
        let record = decoded.records.first { decoded.timestamp(of: $0) >= timestamp && decoded.offset(of: $0) >= start }
        return max(record.map { decoded.offset(of: $0) } ?? decoded.baseOffset, start)
    }

    /// Bytes of `segment` that readers may see.
    private func visibleLimit(of segment: Segment, visible: LogPosition) -> Int {
        if segment.baseOffset < visible.segmentBase { return segment.size }
        if segment.baseOffset == visible.segmentBase { return visible.position }
        return 0
    }
}
