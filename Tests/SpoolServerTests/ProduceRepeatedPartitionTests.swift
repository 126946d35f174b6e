import Foundation
import SpoolBroker
import SpoolFormat
@testable import SpoolServer
import SpoolWire
import Testing

/// A Produce that names a topic, or a topic-partition, more than once. Kafka keys the request's
/// partitions by topic-partition (`KafkaApis.handleProduceRequest`) and builds its answer from
/// that map (`ProduceResponse.toData`): one answer per topic, one per partition. For a partition
/// named twice it keeps the last entry's records and drops the others unanswered; Spool stores
/// none of them and answers the one entry INVALID_RECORD, as it answers two batches for a partition.
@Suite struct ProduceRepeatedPartitionTests {
    private func one(_ tag: String, compression code: Int16 = 0) -> [UInt8] {
        RecordBatch(producing: [ProducerRecord(value: Array(tag.utf8), timestamp: 1)], attributes: BatchAttributes(rawValue: code)).encoded()
    }

    private func request(_ topics: [(String, [(Int32, [UInt8])])]) -> ProduceRequest {
        ProduceRequest(acks: -1, timeoutMs: 1000, topicData: topics.map { topic in
            .init(name: topic.0, partitionData: topic.1.map { .init(index: $0.0, records: RecordBytes($0.1)) })
        })
    }

    private func logEnds(_ setup: Served) throws -> [Int64] {
        try setup.broker.describeTopic("jobs").partitions.map(\.logEndOffset)
    }

    /// Each partition's error codes, however many times it is answered.
    private func codes(_ response: ProduceResponse) -> [String: [Int32: [Int16]]] {
        var codes: [String: [Int32: [Int16]]] = [:]
        for topic in response.responses {
            for partition in topic.partitionResponses { codes[topic.name, default: [:]][partition.index, default: []].append(partition.errorCode) }
        }
        return codes
    }

    @Test(arguments: [3, 9] as [Int16])
    func aPartitionNamedTwiceIsAnsweredOnceAndStoresNothing(version: Int16) async throws {
        let setup = try Served()
        defer { setup.remove() }
        let response = try await setup.call(request([("jobs", [(0, one("a")), (1, one("c"))]), ("jobs", [(0, one("b"))])]), version: version)
        #expect(response.responses.map(\.name) == ["jobs"], "a topic named twice is answered twice")
        #expect(response.responses.first?.partitionResponses.map(\.index) == [0, 1])
        #expect(codes(response) == ["jobs": [0: [KafkaErrorCode.invalidRecord.rawValue], 1: [0]]])
        #expect(try logEnds(setup) == [0, 1], "a batch of the partition named twice was stored")
    }

    @Test func aPartitionNamedTwiceInOneTopicEntryIsAnsweredOnce() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let response = try await setup.call(request([("jobs", [(0, one("a")), (0, one("b")), (5, one("c")), (5, one("d"))])]), version: 9)
        #expect(response.responses.first?.partitionResponses.map(\.index) == [0, 5])
        #expect(codes(response) == ["jobs": [0: [KafkaErrorCode.invalidRecord.rawValue], 5: [KafkaErrorCode.unknownTopicOrPartition.rawValue]]])
        #expect(try logEnds(setup) == [0, 0])
    }

    /// Distinct partitions of a topic named twice are each stored, under the topic's one answer.
    @Test func theDistinctPartitionsOfATopicNamedTwiceAreStoredUnderOneAnswer() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let response = try await setup.call(request([("jobs", [(1, one("a"))]), ("jobs", [(0, one("b"))])]), version: 9)
        #expect(response.responses.map(\.name) == ["jobs"])
        #expect(response.responses.first?.partitionResponses.map(\.index) == [1, 0])
        #expect(codes(response) == ["jobs": [0: [0], 1: [0]]])
        #expect(try logEnds(setup) == [1, 1])
    }

    /// `ProduceRequest.getErrorResponse` answers from the same map.
    @Test func aWholeRequestFailureIsAnsweredOncePerPartition() async throws {
        let setup = try Served()
        defer { setup.remove() }
        let response = try await setup.call(request([("jobs", [(0, one("x", compression: 5))]), ("jobs", [(1, one("a")), (0, one("b"))])]), version: 3)
        #expect(response.responses.map(\.name) == ["jobs"])
        #expect(response.responses.first?.partitionResponses.map(\.index) == [0, 1])
        #expect(codes(response) == ["jobs": [0: [KafkaErrorCode.unknownServerError.rawValue], 1: [KafkaErrorCode.unknownServerError.rawValue]]])
        #expect(try logEnds(setup) == [0, 0])
    }
}
