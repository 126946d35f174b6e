/// A decoded RecordBatch v2: every header field and, when uncompressed, its records.
///
/// The broker never decodes batches on the hot path; this type is for producers building batches,
/// tools that inspect them and tests.
public struct RecordBatch: Equatable, Sendable {
    public var baseOffset: Int64
    public var partitionLeaderEpoch: Int32
    public var attributes: BatchAttributes
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var records: [Record]

    public init(
        baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1, attributes: BatchAttributes = .init(),
        lastOffsetDelta: Int32, baseTimestamp: Int64, maxTimestamp: Int64,
        producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1, records: [Record]
    ) {
        self.baseOffset = baseOffset
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.attributes = attributes
        self.lastOffsetDelta = lastOffsetDelta
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.records = records
    }

    /// A batch as a producer builds it: offsets 0…n-1, timestamps as deltas from the first record's,
    /// maxTimestamp the largest. An empty list gives an empty batch (timestamps -1).
    public init(
        producing records: [ProducerRecord], producerId: Int64 = -1, producerEpoch: Int16 = -1,
        baseSequence: Int32 = -1, attributes: BatchAttributes = .init()
    ) {
        let baseTimestamp = records.first?.timestamp ?? -1
        var encoded: [Record] = []
        encoded.reserveCapacity(records.count)
        for (index, record) in records.enumerated() {
            encoded.append(Record(
                timestampDelta: record.timestamp &- baseTimestamp, offsetDelta: Int32(index),
                key: record.key, value: record.value, headers: record.headers))
        }
        self.init(
            attributes: attributes, lastOffsetDelta: Int32(max(records.count - 1, 0)),
            baseTimestamp: baseTimestamp, maxTimestamp: records.map(\.timestamp).max() ?? -1,
            producerId: producerId, producerEpoch: producerEpoch, baseSequence: baseSequence,
            records: encoded)
    }

    /// Absolute offset of a record of this batch.
    public func offset(of record: Record) -> Int64 { baseOffset &+ Int64(record.offsetDelta) }

    /// Timestamp of a record of this batch: the batch's maxTimestamp under LogAppendTime, the
    /// producer's otherwise.
    ///
    /// The sum wraps, as Kafka's (Java) arithmetic does: both terms come from the producer and a
    /// batch with a base timestamp near Int64.max and a positive delta passes every check, so a
    /// trapping `+` would let one produced batch crash whoever reads its timestamps (ListOffsets by
    /// time, a consumer). `init(producing:)` takes the deltas with the same wrapping `&-`, so any
    /// timestamps round-trip exactly.
    public func timestamp(of record: Record) -> Int64 {
        attributes.isLogAppendTime ? maxTimestamp : baseTimestamp &+ record.timestampDelta
    }
}
