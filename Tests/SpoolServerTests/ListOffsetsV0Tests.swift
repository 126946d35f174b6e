import SpoolBroker
import SpoolFormat
import SpoolWire
import Testing

/// ListOffsets v0 as Kafka answers it (`legacyFetchOffsetsBefore`): not the first offset at or
/// after a time (v1+), but up to `max_num_offsets` offsets newest first, the base offsets of the
/// segments written to by the time asked (and the end of the log for -1, latest).
@Suite struct ListOffsetsV0Tests {
    /// Three segments, written to at 1 000, 5 000 and 9 000 (segment.ms rolls one per batch),
    /// a record each: bases 0, 1 and 2, and the log ends at 3.
    private static func served() async throws -> Served {
        let setup = try Served()
        _ = try setup.broker.createTopic("logs", configs: ["segment.ms": "1000"])
        for timestamp: Int64 in [1_000, 5_000, 9_000] {
            let batch = RecordBatch(producing: [ProducerRecord(value: Array("at \(timestamp)".utf8), timestamp: timestamp)]).encoded()
            _ = try await setup.broker.produce(topic: "logs", partition: 0, records: batch, acks: .all)
        }
        return setup
    }

    private static func offsets(_ setup: Served, timestamp: Int64, max: Int32) async throws -> (errorCode: Int16?, offsets: [Int64]?) {
        let request = ListOffsetsRequest(replicaId: -1, topics: [.init(name: "logs", partitions: [.init(partitionIndex: 0, timestamp: timestamp, maxNumOffsets: max)])])
        let answer = try await setup.call(request, version: 0).topics.first?.partitions.first
        return (answer?.errorCode, answer?.oldStyleOffsets)
    }

    @Test func aTimeAnswersTheSegmentsWrittenToByThenNewestFirst() async throws {
        let setup = try await Self.served()
        defer { setup.remove() }
        #expect(try await Self.offsets(setup, timestamp: 6_000, max: 10) == (0, [1, 0]))
        #expect(try await Self.offsets(setup, timestamp: 9_000, max: 10) == (0, [2, 1, 0]))
        #expect(try await Self.offsets(setup, timestamp: 6_000, max: 1) == (0, [1]))
        #expect(try await Self.offsets(setup, timestamp: 999, max: 10) == (0, []), "nothing was written by then")
    }

    @Test func latestAnswersTheEndAndEverySegmentAndEarliestTheStart() async throws {
        let setup = try await Self.served()
        defer { setup.remove() }
        #expect(try await Self.offsets(setup, timestamp: -1, max: 10) == (0, [3, 2, 1, 0]))
        #expect(try await Self.offsets(setup, timestamp: -1, max: 1) == (0, [3]))
        #expect(try await Self.offsets(setup, timestamp: -2, max: 10) == (0, [0]))
        #expect(try await Self.offsets(setup, timestamp: -1, max: 0) == (0, []))
    }

    @Test func anUnknownPartitionAnswersItsError() async throws {
        let setup = try await Self.served()
        defer { setup.remove() }
        let request = ListOffsetsRequest(replicaId: -1, topics: [.init(name: "nowhere", partitions: [.init(partitionIndex: 0, timestamp: -1, maxNumOffsets: 1)])])
        let answer = try await setup.call(request, version: 0).topics.first?.partitions.first
        #expect(answer?.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(answer?.oldStyleOffsets == [])
    }
}
