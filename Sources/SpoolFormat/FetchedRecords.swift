/// The records of one partition's fetched bytes (whole RecordBatches, as a Fetch response or a log
/// read holds them), from `from` on.
public struct FetchedRecords: Sendable {
    public var records: [ConsumedRecord] = []
    /// The offset after the last batch read: where the next fetch starts. `from` when there was no
    /// whole batch, and the base offset of an unreadable batch.
    public var next: Int64
    /// The batch reading stopped at, when one could not be read. A consumer hands out `records`
    /// and then reports this, rather than skip the batch: skipping it would commit past records
    /// it never handed out. A compressed batch that does not decompress stops here too.
    public var unreadable: FetchError?

    /// Reads the whole batches in `bytes`; a trailing partial batch (a fetch cut at its byte
    /// budget) is left for the next fetch. Transaction control batches are stepped over.
    public init(decoding bytes: UnsafeRawBufferPointer, topic: String, partition: Int32, from: Int64) {
        var reader = BatchReader<ConsumedRecord>(topic: topic, partition: partition, from: from)
        reader.take(upTo: .max, from: bytes, into: &records)
        next = reader.next
        unreadable = reader.unreadable
    }

    public init(decoding bytes: [UInt8], topic: String, partition: Int32, from: Int64) {
        self = bytes.withUnsafeBytes { FetchedRecords(decoding: $0, topic: topic, partition: partition, from: from) }
    }
}

/// A fetched batch a consumer cannot read.
public struct FetchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var topicPartition: TopicPartition
    /// The batch's base offset.
    public var offset: Int64
    public var reason: FormatError

    public var description: String { "the batch at offset \(offset) of \(topicPartition) cannot be read: \(reason)" }
}
