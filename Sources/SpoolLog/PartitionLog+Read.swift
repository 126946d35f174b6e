import SpoolFormat

extension PartitionLog {
    /// Reads whole batches starting with the one that holds `offset`, up to `maxBytes`, all from
    /// one segment and all below the high watermark. With `minOneBatch` the first batch comes
    /// however large it is, so a reader always makes progress (Kafka's KIP-74); without it a first
    /// batch larger than `maxBytes` gives an empty slice. At the high watermark the slice is empty.
    ///
    /// Throws `.offsetOutOfRange` below the log start or past the log end. Between the high
    /// watermark and the log end (appended, not yet durable) the slice is empty, as in Kafka: a
    /// reader there waits for the records, it is not sent back to a reset point.
    public func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool = true) throws(LogError) -> LogReadResult {
        try state.withLock { state throws(LogError) -> LogReadResult in
            if state.isClosed { throw .closed }
            let start = state.logStartOffset
            let visible = state.visible
            guard offset >= start, offset <= max(visible.offset, state.end.offset) else {
                throw .offsetOutOfRange(requested: offset, logStart: start, highWatermark: visible.offset)
            }
            var result = LogReadResult(slice: .empty, highWatermark: visible.offset, logStartOffset: start)
            result.failure = state.failure
            guard offset < visible.offset else {
                if offset == visible.offset { result.start = visible }
                return result
            }
            var index = state.segmentIndex(containing: offset)
            while index < state.segments.count {
                let segment = state.segments[index]
                let limit = visibleLimit(of: segment, visible: visible)
                if let region = segment.region, let position = segment.position(of: offset, limit: limit) {
                    var end = position
                    while let batch = BatchBounds.read(region, at: end, limit: limit) {
                        if (end > position || !minOneBatch) && end + batch.size - position > maxBytes { break }
                        end += batch.size
                    }
                    result.slice = LogSlice(region: region, range: position..<end)
                    result.start = LogPosition(offset: offset, segmentBase: segment.baseOffset, position: position)
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
        try record(atOrAfter: timestamp)?.offset
    }

    /// The offset and the timestamp of the first record whose timestamp is ≥ `timestamp`, as
    /// `offset(forTimestamp:)` finds it (Kafka's ListOffsets answers with both). A compressed
    /// batch answers with its first offset and its largest timestamp.
    public func record(atOrAfter timestamp: Int64) throws(LogError) -> (offset: Int64, timestamp: Int64)? {
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
        guard let batch, let header = batch.withUnsafeBytes({ try? RecordBatchHeader(parsing: $0) }) else { return nil }
        // The batch's max timestamp reaches `timestamp`; find the record that does. A batch of a
        // codec Spool cannot read answers with its first offset, as precise as Spool can be.
        guard let decoded = try? RecordBatch(inflating: batch),
              let record = decoded.records.first(where: { decoded.timestamp(of: $0) >= timestamp && decoded.offset(of: $0) >= start })
        else { return (max(header.baseOffset, start), header.maxTimestamp) }
        return (max(decoded.offset(of: record), start), decoded.timestamp(of: record))
    }

    /// ListOffsets v0 (Kafka's `legacyFetchOffsetsBefore`): up to `maxCount` offsets, newest
    /// first, where reading can start from by `timestamp`: the base offset (the log start, for a
    /// segment it cut into) of every segment written to by then, and the log end when the last
    /// segment holds records, written to now. -1 (latest) counts from the end, -2 (earliest)
    /// answers the log start alone. An offset past the high watermark is not told: the high
    /// watermark stands in for those, as Kafka answers a consumer.
    ///
    /// A segment was written to when its newest record was, by the record's timestamp (or the
    /// time of its last append, when its records carry none), the time retention goes by too.
    /// Kafka takes the segment file's modification time, which a restart or a copy of the files
    /// can move.
    public func offsetsBefore(_ timestamp: Int64, maxCount: Int) throws(LogError) -> [Int64] {
        let now = clock()
        return try state.withLock { state throws(LogError) -> [Int64] in
            if state.isClosed { throw .closed }
            var entries = state.segments.map { segment in
                (offset: max(segment.baseOffset, state.logStartOffset), time: segment.maxTimestamp >= 0 ? segment.maxTimestamp : segment.lastModifiedMs)
            }
            if !state.active.isEmpty { entries.append((state.end.offset, now)) }
            let newest: Int? = switch timestamp {
            case -1: entries.indices.last
            case -2: entries.indices.first
            default: entries.lastIndex { $0.time <= timestamp }
            }
            guard let newest else { return [] }
            let offsets = Array(entries[...newest].reversed().prefix(max(0, maxCount)).map(\.offset))
            let visible = state.visible.offset
            guard offsets.contains(where: { $0 > visible }) else { return offsets }
            return [visible] + offsets.drop { $0 > visible }
        }
    }

    /// The visible record with the largest timestamp, and that timestamp (Kafka's ListOffsets
    /// with timestamp -3, KIP-734); nil when no visible record carries one. Of equal timestamps
    /// the first wins, as in Kafka. A compressed batch answers with its first offset.
    public func maxTimestamp() throws(LogError) -> (offset: Int64, timestamp: Int64)? {
        let batch: [UInt8]? = try state.withLock { state throws(LogError) -> [UInt8]? in
            if state.isClosed { throw .closed }
            var best: (segment: Segment, offset: Int64, timestamp: Int64)?
            for segment in state.segments where segment.maxTimestamp >= 0 {
                // The segment's largest timestamp may be in a batch not visible yet (appended,
                // not flushed): then the largest among its visible batches counts.
                let candidate = segment.offsetOfMaxTimestamp < state.visible.offset
                    ? (segment.offsetOfMaxTimestamp, segment.maxTimestamp)
                    : segment.maxTimestamp(below: visibleLimit(of: segment, visible: state.visible))
                if let (offset, timestamp) = candidate, timestamp > best?.timestamp ?? -1 { best = (segment, offset, timestamp) }
            }
            guard let (segment, offset, _) = best else { return nil }
            let limit = visibleLimit(of: segment, visible: state.visible)
            guard let region = segment.region, let position = segment.position(of: offset, limit: limit),
                  let bounds = BatchBounds.read(region, at: position, limit: limit)
            else { return nil }
            return region.withUnsafeBytes(position..<(position + bounds.size)) { Array($0) }
        }
        guard let batch, let header = batch.withUnsafeBytes({ try? RecordBatchHeader(parsing: $0) }) else { return nil }
        guard let decoded = try? RecordBatch(inflating: batch) else { return (header.baseOffset, header.maxTimestamp) }
        var best: (offset: Int64, timestamp: Int64)?
        for record in decoded.records where decoded.timestamp(of: record) > best?.timestamp ?? Int64.min {
            best = (decoded.offset(of: record), decoded.timestamp(of: record))
        }
        return best
    }

    /// Bytes of `segment` that readers may see.
    private func visibleLimit(of segment: Segment, visible: LogPosition) -> Int {
        if segment.baseOffset < visible.segmentBase { return segment.size }
        if segment.baseOffset == visible.segmentBase { return visible.position }
        return 0
    }
}
