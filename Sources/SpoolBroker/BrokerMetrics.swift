import SpoolFormat
import SpoolLog
import Synchronization

/// Traffic counters, kept as the broker works and read by the metrics endpoint.
public final class BrokerMetrics: Sendable {
    public let recordsIn = Atomic<UInt64>(0)
    public let bytesIn = Atomic<UInt64>(0)
    public let recordsOut = Atomic<UInt64>(0)
    public let bytesOut = Atomic<UInt64>(0)
    public let produceErrors = Atomic<UInt64>(0)
    /// Fetches parked now, waiting for data or their deadline (Kafka's fetch purgatory size).
    /// Counted once a fetch's wake-ups are registered, so a produce after it sees one wakes it.
    public let fetchesParked = Atomic<Int>(0)
    /// Deadline timers of parked fetches still armed. A fetch woken by data cancels its timer, so
    /// this falls back with `fetchesParked`: no timer outlives the fetch it bounds.
    public let fetchDeadlinesArmed = Atomic<Int>(0)
    /// Times a fetch parked, ever. A fetch parks once, and again only after new data woke it
    /// still short of its MinBytes, so this grows with produces, never with time waited.
    public let fetchParks = Atomic<UInt64>(0)

    init() {}

    /// Counts the records and bytes of stored batches (read from their headers, not decoded).
    static func count(_ bytes: UnsafeRawBufferPointer) -> (records: UInt64, bytes: UInt64) {
        var records: UInt64 = 0
        var position = 0
        while position + RecordBatchLayout.headerSize <= bytes.count,
              let size = RecordBatchView.declaredSize(UnsafeRawBufferPointer(rebasing: bytes[position...])), size >= RecordBatchLayout.headerSize,
              position + size <= bytes.count {
            records += UInt64(max(0, Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: position + RecordBatchLayout.recordsCount, as: Int32.self))))
            position += size
        }
        return (records, UInt64(bytes.count))
    }
}

/// One partition as the metrics endpoint reports it.
public struct PartitionMetrics: Sendable {
    public var topic: String
    public var partition: Int32
    public var logStartOffset: Int64
    public var logEndOffset: Int64
    public var highWatermark: Int64
    public var sizeBytes: Int
    public var flushes: FlushStatistics
}

extension Broker {
    /// Every partition's offsets, size and flush statistics.
    public func partitionMetrics() -> [PartitionMetrics] {
        let all = topics.withLock { topics in topics.values.flatMap(\.partitions) }
        return all.map { partition in
            PartitionMetrics(topic: partition.topic, partition: partition.index, logStartOffset: partition.log.logStartOffset,
                             logEndOffset: partition.log.logEndOffset, highWatermark: partition.log.highWatermark,
                             sizeBytes: partition.log.sizeInBytes, flushes: partition.log.flushStatistics)
        }.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// Every log's flush statistics since the broker opened: the offsets log's (commits are
    /// flushed there), every partition's, and those of the partitions deleted since. Kept for the
    /// deleted ones so that the sums never go down: Prometheus reads a counter that falls as a
    /// restart, and the console's fsyncs per second went negative (wrapped) after a deletion.
    public var flushStatistics: FlushStatistics {
        topics.withLock { topics in
            topics.values.flatMap(\.partitions).reduce(retiredFlushes.withLock { $0 } + offsets.log.flushStatistics) { $0 + $1.log.flushStatistics }
        }
    }
}
