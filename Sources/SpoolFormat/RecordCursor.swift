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
    public var topic: String { reader.topic }
    public var partition: Int32 { reader.partition }
    private let bytes: any FetchedBytes
    private var reader: BatchReader

    public init(_ bytes: some FetchedBytes, topic: String, partition: Int32, from: Int64) {
        self.bytes = bytes
        reader = BatchReader(topic: topic, partition: partition, from: from)
    }

    /// The offset after what has been taken, batches that held no record included: where a
    /// consumer resumes. Before anything is taken, `from`.
    public var next: Int64 { reader.next }
    /// The batch reading stopped at, when one could not be read (see `FetchedRecords.unreadable`).
    public var unreadable: FetchError? { reader.unreadable }
    /// Nothing is left to take: every whole batch was read (a trailing partial one is the next
    /// fetch's), or an unreadable one stopped the reading.
    public var isExhausted: Bool { reader.isExhausted }

    /// Up to `limit` records, in offset order, appended to `records`.
    public mutating func take(upTo limit: Int, into records: inout [ConsumedRecord]) {
        guard limit > 0, !reader.isExhausted else { return }
        bytes.withUnsafeBytes { reader.take(upTo: limit, from: $0, into: &records) }
    }

    /// Every record left.
    public mutating func takeAll() -> [ConsumedRecord] {
        var records: [ConsumedRecord] = []
        take(upTo: .max, into: &records)
        return records
    }
}

/// The reading state of a run of batches: where the next batch starts, and the records of the
/// last batch read that are not taken yet.
struct BatchReader: Sendable {
    let topic: String
    let partition: Int32
    /// Records below it (the start of the first batch, before the fetched offset) are skipped.
    let from: Int64
    private(set) var next: Int64
    private(set) var unreadable: FetchError?
    /// Byte offset of the next batch to read.
    private var position = 0
    private var batchesDone = false
    private var pending: [ConsumedRecord] = []
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

    mutating func take(upTo limit: Int, from bytes: UnsafeRawBufferPointer, into records: inout [ConsumedRecord]) {
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
                    pending.withUnsafeMutableBufferPointer { buffer in
                        guard let base = buffer.baseAddress else { return }
                        // Moved out, each record's buffers change hands without a retain and a release.
                        for index in start..<(start + count) {
                            records.append((base + index).move())
                            (base + index).initialize(to: Self.movedOut)
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
        let end = header.baseOffset + Int64(header.lastOffsetDelta) + 1
        if end <= next { return }
        if !header.attributes.isControl {
            let batch: RecordBatch
            do { batch = try RecordBatch(decoding: raw) } catch {
                stop(at: max(next, header.baseOffset), error)
                return
            }
            pending.reserveCapacity(batch.records.count)
            for record in batch.records where batch.offset(of: record) >= from {
                pending.append(ConsumedRecord(topic: topic, partition: partition, offset: batch.offset(of: record),
                                              timestamp: batch.timestamp(of: record), key: record.key, value: record.value, headers: record.headers))
            }
        }
        if pending.isEmpty {
            next = max(next, end)
        } else {
            pendingEnd = max(next, end)
        }
    }

    private mutating func stop(at offset: Int64, _ reason: FormatError) {
        unreadable = FetchError(topicPartition: TopicPartition(topic, partition), offset: offset, reason: reason)
        batchesDone = true
    }

    /// What a taken record leaves in its place: no buffer of its own to retain or release.
    private static var movedOut: ConsumedRecord {
        ConsumedRecord(topic: "", partition: 0, offset: 0, timestamp: 0, key: nil, value: nil, headers: [])
    }
}
