/// Fetched bytes that something else keeps alive (a Fetch response's frame, a slice of a mapped
/// log segment), readable in place.
public protocol FetchedBytes: Sendable {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: FetchedBytes where Element == UInt8 {}
extension ArraySlice: FetchedBytes where Element == UInt8 {}

/// One partition's fetched batches, decoded a batch at a time as records are taken: a consumer
/// keeps a large fetch as the bytes it came in and decodes only what it hands out, so records
/// are made just before they are used, not all at once to wait (as Kafka's consumer keeps a
/// completed fetch and hands out `max.poll.records` at a time).
public struct RecordCursor: Sendable {
    public let topic: String
    public let partition: Int32
    private let bytes: any FetchedBytes
    /// The reading state, with its untaken records of the kind last taken: exactly one is set.
    /// Taking the other kind converts the records the current batch still holds.
    private var records: BatchReader<ConsumedRecord>?
    private var views: BatchReader<BatchRecord>?

    public init(_ bytes: some FetchedBytes, topic: String, partition: Int32, from: Int64) {
        self.bytes = bytes
        self.topic = topic
        self.partition = partition
        records = BatchReader(topic: topic, partition: partition, from: from)
    }

    /// The offset after what has been taken, batches that held no record included: where a
    /// consumer resumes. Before anything is taken, `from`.
    public var next: Int64 { records?.next ?? views?.next ?? 0 }
    /// The batch reading stopped at, when one could not be read (see `FetchedRecords.unreadable`).
    public var unreadable: FetchError? { records?.unreadable ?? views?.unreadable }
    /// Nothing is left to take: every whole batch was read (a trailing partial one is the next
    /// fetch's), or an unreadable one stopped the reading.
    public var isExhausted: Bool { records?.isExhausted ?? views?.isExhausted ?? true }

    /// Up to `limit` records, in offset order, appended to `records`.
    public mutating func take(upTo limit: Int, into taken: inout [ConsumedRecord]) {
        guard limit > 0, !isExhausted else { return }
        // Moved out of `self` first, so the reader (and its records) is not shared while it is read.
        var reader = records ?? views.map { $0.converted { $0.consumedRecord } }
        (records, views) = (nil, nil)
        bytes.withUnsafeBytes { reader?.take(upTo: limit, from: $0, into: &taken) }
        records = reader
    }

    /// Up to `limit` records, read in place (see `BatchRecord`), in offset order, appended to
    /// `views`: the same records, positions and errors as the other `take`.
    public mutating func take(upTo limit: Int, into taken: inout [BatchRecord]) {
        guard limit > 0, !isExhausted else { return }
        var reader = views ?? records.map { $0.converted { BatchRecord($0) } }
        (records, views) = (nil, nil)
        bytes.withUnsafeBytes { reader?.take(upTo: limit, from: $0, into: &taken) }
        views = reader
    }

    /// Every record left.
    public mutating func takeAll() -> [ConsumedRecord] {
        var records: [ConsumedRecord] = []
        take(upTo: .max, into: &records)
        return records
    }
}

/// What a batch's records are read as: each kind makes its records from a whole batch, and
/// `BatchReader` walks the batches the same way for all.
protocol BatchElement: Sendable {
    var offset: Int64 { get }
    /// The records of the whole batch `raw` (its header already parsed as `header`) at or above
    /// `from`, in order, appended to `records` (empty when called). Throws when the batch cannot
    /// be read (`RecordLayout.scanBatch`); what was appended is then thrown away.
    static func read(batch raw: UnsafeRawBufferPointer, header: RecordBatchHeader, topic: String, partition: Int32, from: Int64,
                     into records: inout [Self]) throws(FormatError)
    /// What a taken record leaves in its place: no buffer of its own to retain or release.
    static var movedOut: Self { get }
}

extension RecordBatchHeader {
    /// Timestamp of a record of this batch (see `RecordBatch.timestamp(of:)`).
    func timestamp(ofDelta delta: Int64) -> Int64 {
        attributes.isLogAppendTime ? maxTimestamp : baseTimestamp &+ delta
    }
}

extension ConsumedRecord: BatchElement {
    static func read(batch raw: UnsafeRawBufferPointer, header: RecordBatchHeader, topic: String, partition: Int32, from: Int64,
                     into records: inout [ConsumedRecord]) throws(FormatError) {
        _ = try RecordLayout.scanBatch(raw) { count in
            records.reserveCapacity(count)
        } each: { layout in
            let offset = header.baseOffset &+ Int64(layout.offsetDelta)
            guard offset >= from else { return }
            records.append(ConsumedRecord(topic: topic, partition: partition, offset: offset, timestamp: header.timestamp(ofDelta: layout.timestampDelta),
                                          key: RecordLayout.bytes(raw, layout.keyStart, layout.keyLength),
                                          value: RecordLayout.bytes(raw, layout.valueStart, layout.valueLength), headers: layout.headers(in: raw)))
        }
    }

    static var movedOut: ConsumedRecord {
        ConsumedRecord(topic: "", partition: 0, offset: 0, timestamp: 0, key: nil, value: nil, headers: [])
    }
}

extension BatchRecord: BatchElement {
    /// The batch's bytes are copied once, into storage its records share, when it has a record
    /// to hand out.
    static func read(batch raw: UnsafeRawBufferPointer, header: RecordBatchHeader, topic: String, partition: Int32, from: Int64,
                     into records: inout [BatchRecord]) throws(FormatError) {
        var storage: BatchBytes?
        _ = try RecordLayout.scanBatch(raw) { count in
            records.reserveCapacity(count)
        } each: { layout in
            let offset = header.baseOffset &+ Int64(layout.offsetDelta)
            guard offset >= from else { return }
            let batch = storage ?? BatchBytes(topic: topic, partition: partition, copying: raw)
            storage = batch
            records.append(BatchRecord(batch: batch, offset: offset, timestamp: header.timestamp(ofDelta: layout.timestampDelta), layout: layout))
        }
    }

    /// What a record moved out of an array leaves in its place: no batch, so nothing to retain
    /// or release; never read.
    public static var movedOut: BatchRecord {
        BatchRecord(batch: nil, offset: 0, timestamp: 0, layout: RecordLayout(timestampDelta: 0, offsetDelta: 0, attributes: 0, keyStart: 0,
                    keyLength: -1, valueStart: 0, valueLength: -1, headersStart: 0, headersEnd: 0, headerCount: 0))
    }
}

/// The reading state of a run of batches: where the next batch starts, and the records of the
/// last batch read that are not taken yet. The one walk over batches, whatever they are read as.
struct BatchReader<Element: BatchElement>: Sendable {
    let topic: String
    let partition: Int32
    /// Records below it (the start of the first batch, before the fetched offset) are skipped.
    let from: Int64
    private(set) var next: Int64
    private(set) var unreadable: FetchError?
    /// Byte offset of the next batch to read.
    private var position = 0
    private var batchesDone = false
    private var pending: [Element] = []
    private var pendingIndex = 0
    /// The offset after the batch `pending` came from.
    private var pendingEnd: Int64 = 0

    init(topic: String, partition: Int32, from: Int64) {
        self.topic = topic
        self.partition = partition
        self.from = from
        next = from
    }

    var isExhausted: Bool { batchesDone && pendingIndex == pending.count }

    /// The same reading state, its records not taken yet made into another kind.
    func converted<Other>(_ convert: (Element) -> Other) -> BatchReader<Other> {
        var other = BatchReader<Other>(topic: topic, partition: partition, from: from)
        other.next = next
        other.unreadable = unreadable
        other.position = position
        other.batchesDone = batchesDone
        other.pending = pending[pendingIndex...].map(convert)
        other.pendingEnd = pendingEnd
        return other
    }

    mutating func take(upTo limit: Int, from bytes: UnsafeRawBufferPointer, into records: inout [Element]) {
        var taken = 0
        while taken < limit {
            if pendingIndex < pending.count {
                let count = min(pending.count - pendingIndex, limit - taken)
                if records.isEmpty && pendingIndex == 0 && count == pending.count {
                    // The whole batch at once: its array changes hands.
                    swap(&records, &pending)
                    pending.removeAll()
                } else {
                    let start = pendingIndex
                    // Grown geometrically: a poll appends a batch at a time, and room for
                    // exactly one more batch each time would copy the records so far at every one.
                    if records.capacity < records.count + count { records.reserveCapacity(max(records.count + count, 2 * records.capacity)) }
                    let movedOut = Element.movedOut
                    pending.withUnsafeMutableBufferPointer { buffer in
                        guard let base = buffer.baseAddress else { return }
                        // Moved out, each record's buffers change hands without a retain and a release.
                        for index in start..<(start + count) {
                            records.append((base + index).move())
                            (base + index).initialize(to: movedOut)
                        }
                    }
                    pendingIndex += count
                }
                taken += count
                if pendingIndex >= pending.count {
                    pending.removeAll(keepingCapacity: true)
                    pendingIndex = 0
                    next = pendingEnd
                } else {
                    next = pending[pendingIndex].offset
                }
                continue
            }
            if batchesDone { return }
            readBatch(bytes)
        }
    }

    /// Reads the next whole batch into `pending`, or steps over it (a control batch, or one
    /// wholly before `next`), or finds there is none.
    private mutating func readBatch(_ bytes: UnsafeRawBufferPointer) {
        guard let size = RecordBatchView.declaredSize(UnsafeRawBufferPointer(rebasing: bytes[position...])),
              size >= RecordBatchLayout.headerSize, size <= bytes.count - position else {
            batchesDone = true
            return
        }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + size)])
        position += size
        let header: RecordBatchHeader
        do { header = try RecordBatchHeader(parsing: raw) } catch {
            stop(at: next, error)
            return
        }
        // Neither is covered by the CRC as a range: a baseOffset near Int64.max trapped here, and
        // a negative delta made the batch look read already, skipped without a word.
        guard header.lastOffsetDelta >= 0 else {
            stop(at: next, .inconsistentOffsetRange(lastOffsetDelta: header.lastOffsetDelta, recordsCount: header.recordsCount))
            return
        }
        guard header.baseOffset >= 0, header.baseOffset < Int64.max - Int64(header.lastOffsetDelta) else {
            stop(at: next, .invalidBaseOffset(header.baseOffset))
            return
        }
        let end = header.baseOffset + Int64(header.lastOffsetDelta) + 1
        if end <= next { return }
        if !header.attributes.isControl {
            do { try readRecords(raw, header) } catch {
                pending.removeAll()
                stop(at: max(next, header.baseOffset), error)
                return
            }
        }
        if pending.isEmpty {
            next = max(next, end)
        } else {
            pendingEnd = max(next, end)
        }
    }

    /// The records of a batch into `pending`: a compressed batch's decompressed first (`InflatedBatch`).
    private mutating func readRecords(_ raw: UnsafeRawBufferPointer, _ header: RecordBatchHeader) throws(FormatError) {
        guard header.attributes.compression != Compression.none else {
            try Element.read(batch: raw, header: header, topic: topic, partition: partition, from: from, into: &pending)
            return
        }
        let plain = try InflatedBatch.of(raw, header: header)
        let (topic, partition, from) = (topic, partition, from)
        let read: Result<Void, FormatError> = plain.withUnsafeBytes { bytes in
            do throws(FormatError) {
                try Element.read(batch: bytes, header: header, topic: topic, partition: partition, from: from, into: &pending)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try read.get()
    }

    private mutating func stop(at offset: Int64, _ reason: FormatError) {
        unreadable = FetchError(topicPartition: TopicPartition(topic, partition), offset: offset, reason: reason)
        batchesDone = true
    }
}
