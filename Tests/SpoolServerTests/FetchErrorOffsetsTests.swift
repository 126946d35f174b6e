import SpoolBroker
import SpoolFormat
import SpoolWire
import Testing

/// A fetch's partition answered with an error carries no offsets, as Kafka's failed reads do
/// (`ReplicaManager.createLogReadResult`: high watermark, last stable offset and log start -1).
@Suite struct FetchErrorOffsetsTests {
    @Test func aFetchPastTheLogsEndAnswersOffsetOutOfRangeWithNoOffsets() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let batch = RecordBatch(producing: (0..<3).map { ProducerRecord(value: [UInt8($0)], timestamp: 1) }).encoded()
        _ = try await setup.call(ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [.init(name: "jobs", partitionData: [
            .init(index: 0, records: RecordBytes(batch)), .init(index: 1, records: RecordBytes(batch)),
        ])]),
                                 version: 9)
        let fetched = try await setup.call(FetchRequest(replicaId: -1, maxBytes: 1 << 20, topics: [
            .init(topic: "jobs", partitions: [
                .init(partition: 0, fetchOffset: 9, partitionMaxBytes: 1 << 20),
                .init(partition: 1, fetchOffset: 1, partitionMaxBytes: 1 << 20),
            ]),
        ]), version: 11)
        let (past, within) = try (#require(fetched.responses.first?.partitions.first), #require(fetched.responses.first?.partitions.last))
        #expect(past.errorCode == KafkaErrorCode.offsetOutOfRange.rawValue)
        #expect((past.highWatermark, past.lastStableOffset, past.logStartOffset) == (-1, -1, -1))
        #expect(past.records?.bytes.isEmpty == true)
        // A partition read without an error still carries its offsets.
        #expect(within.errorCode == 0)
        #expect((within.highWatermark, within.lastStableOffset, within.logStartOffset) == (3, 3, 0))
    }
}
