import SpoolFormat

/// What one idempotent producer has appended to one partition: its epoch and the last few batches
/// (Kafka keeps 5, the most a producer may have in flight), so a retried batch is recognised.
struct ProducerEntry: Equatable, Codable {
    struct Batch: Equatable, Codable {
        var firstSequence: Int32
        var lastSequence: Int32
        var baseOffset: Int64
        var lastOffset: Int64
    }

    var epoch: Int16
    var batches: [Batch]
    var lastAppendMs: Int64

    static let batchesRetained = 5
}

/// Idempotent-producer state of one partition: checks every batch with a producer id against what
/// that producer appended before, and records what was appended. Not thread-safe: the partition
/// serialises check, append and record.
struct ProducerStateTable: Equatable, Codable {
    private(set) var entries: [Int64: ProducerEntry] = [:]
    /// Producers remembered at most per partition; the least recently active are forgotten first.
    static let producersMax = 50_000

    enum Decision: Equatable {
        case append
        /// Already appended: answer with the original offsets, do not append again.
        case duplicate(baseOffset: Int64, lastOffset: Int64)
    }

    /// Kafka's rules (`ProducerAppendInfo.checkSequence`): a duplicate of a retained batch is
    /// answered with its offsets; with the same epoch the first sequence must follow the last one;
    /// a newer epoch must start at 0; an older epoch is fenced; an unknown producer may start anywhere.
    func check(_ header: RecordBatchHeader) throws(BrokerError) -> Decision {
        guard header.producerId >= 0, let entry = entries[header.producerId] else { return .append }
        if header.producerEpoch < entry.epoch {
            throw .invalidProducerEpoch(producerId: header.producerId, current: entry.epoch, received: header.producerEpoch)
        }
        if header.producerEpoch > entry.epoch {
            guard header.baseSequence == 0 else {
                throw .outOfOrderSequence(producerId: header.producerId, expected: 0, received: header.baseSequence)
            }
            return .append
        }
        if let original = entry.batches.first(where: { $0.firstSequence == header.baseSequence && $0.lastSequence == header.lastSequence }) {
            return .duplicate(baseOffset: original.baseOffset, lastOffset: original.lastOffset)
        }
        let last = entry.batches.last?.lastSequence ?? -1
        let expected = last == Int32.max ? 0 : last + 1
        guard header.baseSequence == expected else {
            throw .outOfOrderSequence(producerId: header.producerId, expected: expected, received: header.baseSequence)
        }
        return .append
    }

    /// Records an appended batch (with its assigned base offset).
    mutating func record(_ header: RecordBatchHeader, appendMs: Int64) {
        guard header.producerId >= 0 else { return }
        var entry = entries[header.producerId] ?? ProducerEntry(epoch: header.producerEpoch, batches: [], lastAppendMs: appendMs)
        if header.producerEpoch != entry.epoch {
            entry.epoch = header.producerEpoch
            entry.batches = []
        }
        entry.batches.append(.init(firstSequence: header.baseSequence, lastSequence: header.lastSequence,
                                   baseOffset: header.baseOffset, lastOffset: header.lastOffset))
        if entry.batches.count > ProducerEntry.batchesRetained { entry.batches.removeFirst() }
        entry.lastAppendMs = appendMs
        entries[header.producerId] = entry
        if entries.count > Self.producersMax { forgetLeastRecent(entries.count - Self.producersMax) }
    }

    /// Forgets producers idle for longer than `expiryMs` (Kafka's producer.id.expiration.ms).
    mutating func expire(olderThan cutoffMs: Int64) {
        entries = entries.filter { $0.value.lastAppendMs >= cutoffMs }
    }

    private mutating func forgetLeastRecent(_ count: Int) {
        for (id, _) in entries.sorted(by: { $0.value.lastAppendMs < $1.value.lastAppendMs }).prefix(count) {
            entries.removeValue(forKey: id)
        }
    }
}
