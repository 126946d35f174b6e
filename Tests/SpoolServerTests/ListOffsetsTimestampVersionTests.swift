import SpoolBroker
import SpoolFormat
import SpoolWire
import Testing

/// ListOffsets refuses a special (negative) timestamp that the request's version is too old for,
/// per partition, as Kafka 3.9's `KafkaApis` does before it looks the partition up: v0
/// (`handleListOffsetRequestV0`) answers UNSUPPORTED_VERSION, with no offsets, for anything below
/// -2; v1+ (`handleListOffsetRequestV1AndAbove`) answers it, with timestamp and offset -1, for a
/// negative timestamp not in its `timestampMinSupportedVersion` map (-1 and -2 from v1, -3 from v7,
/// -4 from v8, -5 from v9) or sent below the version the map gives.
@Suite struct ListOffsetsTimestampVersionTests {
    /// The version each special timestamp is served from; any other negative one at none.
    private static let servedFrom: [Int64: Int16] = [-1: 0, -2: 0, -3: 7, -4: 8, -5: 9]

    private static func answer(_ setup: Served, topic: String, timestamp: Int64, version: Int16) async throws -> ListOffsetsResponse.ListOffsetsPartitionResponse? {
        let request = ListOffsetsRequest(replicaId: -1, topics: [.init(name: topic, partitions: [.init(partitionIndex: 0, timestamp: timestamp, maxNumOffsets: 5)])])
        return try await setup.call(request, version: version).topics.first?.partitions.first
    }

    @Test(arguments: Array(ListOffsetsRequest.versions))
    func aTimestampTooNewForTheVersionIsUnsupported(version: Int16) async throws {
        let setup = try Served()
        defer { setup.remove() }
        _ = try await setup.broker.produce(topic: "jobs", partition: 0, records: RecordBatch(producing: [ProducerRecord(value: [1], timestamp: 1_000)]).encoded(), acks: .all)
        for timestamp: Int64 in [-1, -2, -3, -4, -5, -6, -100] {
            let answer = try #require(try await Self.answer(setup, topic: "jobs", timestamp: timestamp, version: version))
            guard let first = Self.servedFrom[timestamp], version >= first else {
                #expect(answer.errorCode == KafkaErrorCode.unsupportedVersion.rawValue, "timestamp \(timestamp)")
                #expect((answer.timestamp, answer.offset, answer.leaderEpoch) == (-1, -1, -1) && answer.oldStyleOffsets.isEmpty, "timestamp \(timestamp)")
                continue
            }
            #expect(answer.errorCode == 0, "timestamp \(timestamp) is served from v\(first)")
        }
    }

    /// The version is checked before the partition is looked up: an unknown topic is not reported.
    @Test func theVersionIsCheckedBeforeThePartition() async throws {
        let setup = try Served()
        defer { setup.remove() }
        #expect(try await Self.answer(setup, topic: "nowhere", timestamp: -3, version: 6)?.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
        #expect(try await Self.answer(setup, topic: "nowhere", timestamp: -3, version: 0)?.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
        #expect(try await Self.answer(setup, topic: "nowhere", timestamp: -3, version: 7)?.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
    }
}
