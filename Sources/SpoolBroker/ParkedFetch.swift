import SpoolLog

/// A fetch short of MinBytes, parked as Kafka parks one (`DelayedFetch`): where its first read
/// found each partition's fetch offset, and whether it is complete (`DelayedFetch.tryComplete`).
///
/// Kafka keeps the place of each fetch offset from the first read
/// (`FetchPartitionStatus.startOffsetMetadata`) and, each time it looks, compares it with the
/// high watermark's place: the fetch completes once a partition's log is gone or offline, once a
/// partition's high watermark is in a later segment than its fetch offset (the bytes between
/// cannot be counted across segments), or once the bytes from each fetch offset to its high
/// watermark, each counted up to its partition's MaxBytes, add up to MinBytes. The bytes a read
/// would return do not count here: a first batch larger than its partition's MaxBytes, which a
/// read returns whole, counts as MaxBytes.
struct ParkedFetch {
    struct Partition {
        let log: PartitionLog
        let fetchOffset: Int64
        let maxBytes: Int
        /// Where the first read found the fetch offset; nil when it was past the high watermark.
        let start: LogPosition?
    }

    let partitions: [Partition]

    enum Check {
        case complete
        /// Short of MinBytes: wait until a record beyond each offset is visible in its log.
        case wait([(log: PartitionLog, beyond: Int64)])
    }

    /// Kafka's `DelayedFetch.tryComplete`. `ends` gives each partition's high watermark place, or
    /// throws for a log that is closed or has failed.
    func check(minBytes: Int, ends: (PartitionLog) throws(LogError) -> LogPosition) -> Check {
        var bytes = 0
        var waits: [(log: PartitionLog, beyond: Int64)] = []
        for partition in partitions {
            // Kafka's cases A to D: the partition is gone, or its log directory offline.
            guard let end = try? ends(partition.log) else { return .complete }
            guard let start = partition.start else {
                // Read past the high watermark (appended, not yet durable, under fsync=always).
                // Kafka answers such a fetch at once (case F); Spool waits until the records are
                // visible, so the consumer is not sent straight back to ask for them again.
                if end.offset > partition.fetchOffset { return .complete }
                waits.append((partition.log, partition.fetchOffset))
                continue
            }
            if start.offset > end.offset { return .complete }
            if start.offset < end.offset {
                // Case F: the high watermark is in a later segment (one rolled since the read).
                if start.segmentBase < end.segmentBase { return .complete }
                if start.segmentBase == end.segmentBase { bytes += min(end.position - start.position, partition.maxBytes) }
            }
            waits.append((partition.log, end.offset))
        }
        // Case G.
        return bytes >= minBytes ? .complete : .wait(waits)
    }
}
