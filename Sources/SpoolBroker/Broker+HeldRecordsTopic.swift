import SpoolLog

extension Broker {
    /// The delay log (`DelayStore`) served read-only as topic `__spool_delayed`, partition 0, so
    /// any client can list what the broker holds for later: Metadata, ListOffsets and Fetch answer
    /// for it; Produce, DeleteRecords and the other writes do not know it. Its records are the held
    /// ones with their target in headers `spool-delay-topic`, `spool-delay-partition`, and markers
    /// with `spool-delivered` listing the offsets already delivered (see `DelayStore`).
    public static let heldRecordsTopic = "__spool_delayed"

    /// The log a read (Fetch, ListOffsets) of `topic`/`index` goes to: a partition's, or the delay log.
    func readableLog(_ topic: String, _ index: Int32) throws(BrokerError) -> PartitionLog {
        if topic == Self.heldRecordsTopic {
            try ensureOpen()
            guard index == 0 else { throw .unknownTopicOrPartition(topic: topic, partition: index) }
            return delays.log
        }
        return try partition(topic, index).log
    }

    /// The description of `__spool_delayed`, nil for any other name.
    func heldRecordsTopicDescription(_ name: String) -> TopicDescription? {
        guard name == Self.heldRecordsTopic else { return nil }
        let log = delays.log
        return TopicDescription(name: name, id: "", partitions: [
            TopicDescription.PartitionInfo(partition: 0, logStartOffset: log.logStartOffset, highWatermark: log.highWatermark,
                                           logEndOffset: log.logEndOffset, sizeInBytes: log.sizeInBytes),
        ], configs: [:])
    }
}
