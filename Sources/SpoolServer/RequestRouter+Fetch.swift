import SpoolBroker
import SpoolLog
import SpoolSystem
import SpoolWire
import SpoolFormat

/// Stored batches lent to a Fetch response: copied once, straight from the segment's mapping into
/// the response frame.
struct StoredRecords: RecordBytesSource {
    let slice: LogSlice
    var count: Int { slice.count }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try slice.withUnsafeBytes(body) }
}

extension RequestRouter {
    /// Fetch: a long poll over every requested partition; the stored batches go into the response
    /// as they are on disk, never decoded. From v13 topics are named by id; an unknown id gets
    /// UNKNOWN_TOPIC_ID. There are no fetch sessions: the session id is always 0, so every client
    /// stays in full-fetch mode.
    func fetch(_ request: FetchRequest, _ context: Context, timing: RequestTiming? = nil) async -> FetchResponse {
        let byId = context.version >= 13
        // The name each requested topic resolves to, nil when its id is unknown.
        let names = request.topics.map { topic in byId ? broker.topicName(id: topic.topicId.topicIdString) : topic.topic }
        var wanted: [FetchPartitionRequest] = []
        for (topic, name) in zip(request.topics, names) {
            guard let name else { continue }
            for partition in topic.partitions {
                wanted.append(FetchPartitionRequest(TopicPartition(name, partition.partition), fetchOffset: partition.fetchOffset,
                                                    maxBytes: Int(partition.partitionMaxBytes)))
            }
        }
        // From v3 the request bounds the response; 0 or less still gets the first batch (KIP-74),
        // as in Kafka, not everything. Before v3 there is no bound.
        let maxBytes = context.version >= 3 ? max(Int(request.maxBytes), 1) : Int(Int32.max)
        let fetchStarted = monotonicNanoseconds()
        let results = await broker.fetch(wanted, maxWaitMs: Int(request.maxWaitMs), minBytes: Int(request.minBytes), maxBytes: maxBytes)
        timing?.addWait(since: fetchStarted)
        var next = results.makeIterator()
        var responses: [FetchResponse.FetchableTopicResponse] = []
        for (topic, name) in zip(request.topics, names) {
            var partitions: [FetchResponse.PartitionData] = []
            for partition in topic.partitions {
                guard name != nil, let result = next.next() else {
                    // Empty records, not null: librdkafka refuses a whole response with a null
                    // record set (MessageSetSize -1), as Kafka never sends one.
                    partitions.append(.init(partitionIndex: partition.partition, errorCode: KafkaErrorCode.unknownTopicId.rawValue,
                                            highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: RecordBytes([])))
                    continue
                }
                // A partition answered with an error carries no offsets (-1), as Kafka's
                // `createLogReadResult` for a failed read gives it.
                let failed = result.error != .none
                partitions.append(.init(
                    partitionIndex: partition.partition, errorCode: result.error.rawValue, highWatermark: failed ? -1 : result.highWatermark,
                    lastStableOffset: failed ? -1 : result.highWatermark, logStartOffset: failed ? -1 : result.logStartOffset, abortedTransactions: [],
                    preferredReadReplica: -1, records: result.records.map { RecordBytes(borrowing: StoredRecords(slice: $0)) } ?? RecordBytes([])))
            }
            responses.append(.init(topic: topic.topic, topicId: topic.topicId, partitions: partitions))
        }
        return FetchResponse(errorCode: 0, sessionId: 0, responses: responses)
    }

    /// ListOffsets: -2 earliest, -1 latest, -3 the largest timestamp, -4 the earliest local offset
    /// (all of the log is local), -5 the latest tiered offset (none: -1), or the first offset at or
    /// after a timestamp. v0 answers in the old style: up to `max_num_offsets` offsets, newest
    /// first, of the segments written to by the time asked (`PartitionLog.offsetsBefore`), as
    /// Kafka's `legacyFetchOffsetsBefore` does. Before a partition is looked up, as Kafka's
    /// `KafkaApis` checks them: from v1 a partition named twice is INVALID_REQUEST wherever it is
    /// named, then a special timestamp the version is too old for is UNSUPPORTED_VERSION
    /// (`ListOffsetsRequestCheck`).
    func listOffsets(_ request: ListOffsetsRequest, _ context: Context) -> ListOffsetsResponse {
        let check = ListOffsetsRequestCheck(request, version: context.version)
        return ListOffsetsResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                do throws(BrokerError) {
                    if let refusal = check.refusal(topic: topic.name, partition) {
                        return .init(partitionIndex: partition.partitionIndex, errorCode: refusal.rawValue, timestamp: -1, offset: -1)
                    }
                    if context.version == 0 {
                        let offsets = try broker.offsetsBefore(topic: topic.name, partition: partition.partitionIndex, timestamp: partition.timestamp,
                                                               maxCount: Int(partition.maxNumOffsets))
                        return .init(partitionIndex: partition.partitionIndex, errorCode: 0, oldStyleOffsets: offsets)
                    }
                    let (offset, timestamp) = try listOffset(topic: topic.name, partition: partition.partitionIndex, timestamp: partition.timestamp)
                    return .init(partitionIndex: partition.partitionIndex, errorCode: 0, timestamp: timestamp, offset: offset,
                                 leaderEpoch: offset >= 0 ? 0 : -1)
                } catch {
                    return .init(partitionIndex: partition.partitionIndex, errorCode: error.code.rawValue, timestamp: -1, offset: -1)
                }
            })
        })
    }

    private func listOffset(topic: String, partition: Int32, timestamp: Int64) throws(BrokerError) -> (offset: Int64, timestamp: Int64) {
        switch timestamp {
        case -4: return try broker.listOffset(topic: topic, partition: partition, timestamp: -2)
        case -5:
            // No tiered storage: nothing is tiered, but the partition must exist.
            _ = try broker.listOffset(topic: topic, partition: partition, timestamp: -2)
            return (-1, -1)
        default: return try broker.listOffset(topic: topic, partition: partition, timestamp: timestamp)
        }
    }
}
