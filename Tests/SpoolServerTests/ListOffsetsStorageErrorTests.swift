import Foundation
import Glibc
import SpoolBroker
import SpoolFormat
import SpoolTestSupport
import SpoolWire
import Testing

/// ListOffsets on a partition whose log failed (a flush did) answers KAFKA_STORAGE_ERROR with no
/// offset, as Kafka answers for a partition in an offline log directory: its
/// `ReplicaManager.fetchOffsetForTimestamp` (and `legacyFetchOffsetsForTimestamp`, v0) looks the
/// partition up with `getPartitionOrException`, which throws `KafkaStorageException`, and
/// `KafkaApis.handleListOffsetRequestV1AndAbove` (`V0`) answers `Errors.forException(e)`, at
/// every version: unlike Fetch, ListOffsets has no older error to convert it to.
@Suite struct ListOffsetsStorageErrorTests {
    /// "jobs" (2 partitions) with a record in each, and partition 0's log failed.
    private static func servedWithAFailedLog() async throws -> Served {
        let directory = NSTemporaryDirectory() + "spool-served-\(UUID().uuidString)"
        let disk = FaultInjectingFileSystem()
        let setup = Served(directory: directory, broker: try Broker.open(Served.config(directory), fileSystem: disk))
        try setup.broker.createTopic("jobs", partitions: 2)
        let record = RecordBatch(producing: [ProducerRecord(value: [1], timestamp: 1_000)]).encoded()
        for partition: Int32 in [0, 1] {
            _ = try await setup.broker.produce(topic: "jobs", partition: partition, records: record, acks: .all)
        }
        disk.inject(.dataSync, errno: EIO, times: 1)
        await #expect(throws: BrokerError.self) { try await setup.broker.produce(topic: "jobs", partition: 0, records: record, acks: .all) }
        return setup
    }

    private static func answers(_ setup: Served, timestamp: Int64, version: Int16) async throws -> [ListOffsetsResponse.ListOffsetsPartitionResponse] {
        let request = ListOffsetsRequest(replicaId: -1, topics: [.init(name: "jobs", partitions: [
            .init(partitionIndex: 0, timestamp: timestamp, maxNumOffsets: 10), .init(partitionIndex: 1, timestamp: timestamp, maxNumOffsets: 10),
        ])])
        return try await setup.call(request, version: version).topics.first?.partitions ?? []
    }

    @Test(arguments: Array(ListOffsetsRequest.versions))
    func aFailedLogIsAnsweredWithAStorageErrorAndNoOffset(version: Int16) async throws {
        let setup = try await Self.servedWithAFailedLog()
        defer { setup.remove() }
        // Latest, earliest and a time at every version; the largest timestamp from v7, where it came.
        let timestamps: [Int64] = version >= 7 ? [-1, -2, 500, -3] : [-1, -2, 500]
        for timestamp in timestamps {
            let answers = try await Self.answers(setup, timestamp: timestamp, version: version)
            let (failed, healthy) = try (#require(answers.first), #require(answers.last))
            #expect(failed.errorCode == KafkaErrorCode.kafkaStorageError.rawValue, "timestamp \(timestamp)")
            #expect((failed.timestamp, failed.offset) == (-1, -1) && failed.oldStyleOffsets.isEmpty, "timestamp \(timestamp)")
            #expect(healthy.errorCode == 0, "the other partition's log did not fail (timestamp \(timestamp))")
        }
    }
}
