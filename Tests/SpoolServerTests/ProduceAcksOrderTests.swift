import Foundation
import SpoolBroker
import SpoolFormat
@testable import SpoolServer
import SpoolWire
import Testing

/// Kafka checks a Produce's acks only when it appends (`ReplicaManager.appendRecords`), after
/// `KafkaApis.handleProduceRequest` has answered the partitions it does not have and those whose
/// records fail `ProduceRequest.validateRecords`: only the partitions left get
/// INVALID_REQUIRED_ACKS, and a failure of the whole request (an invalid compression code before
/// v7) comes first. Nothing is stored, and no topic is created.
@Suite struct ProduceAcksOrderTests {
    private func one(_ tag: String, compression code: Int16 = 0) -> [UInt8] {
        RecordBatch(producing: [ProducerRecord(value: Array(tag.utf8), timestamp: 1)], attributes: BatchAttributes(rawValue: code)).encoded()
    }

    private func request(acks: Int16, _ topics: [(String, [(Int32, [UInt8])])]) -> ProduceRequest {
        ProduceRequest(acks: acks, timeoutMs: 1000, topicData: topics.map { topic in
            .init(name: topic.0, partitionData: topic.1.map { .init(index: $0.0, records: RecordBytes($0.1)) })
        })
    }

    private func logEnds(_ setup: Served) throws -> [Int64] {
        try setup.broker.describeTopic("jobs").partitions.map(\.logEndOffset)
    }

    @Test(arguments: [3, 6] as [Int16])
    func anInvalidCompressionCodeBeforeV7FailsTheRequestBeforeTheAcksDo(version: Int16) async throws {
        let setup = try Served()
        defer { setup.remove() }
        let response = try await setup.call(request(acks: 2, [("jobs", [(0, one("a")), (1, one("x", compression: 5))])]), version: version)
        let answers = response.responses.flatMap(\.partitionResponses)
        #expect(answers.map(\.errorCode) == [KafkaErrorCode.unknownServerError.rawValue, KafkaErrorCode.unknownServerError.rawValue])
        #expect(try logEnds(setup) == [0, 0])
    }

    /// From v7 the compression is read only by the log, which a request with invalid acks never
    /// reaches: that partition gets INVALID_REQUIRED_ACKS like any other that passes the checks.
    @Test(arguments: [7, 9, 11] as [Int16])
    func theAcksAreCheckedAfterEachPartitionIsChecked(version: Int16) async throws {
        let setup = try Served()
        defer { setup.remove() }
        let response = try await setup.call(request(acks: 2, [
            ("jobs", [(0, one("a") + one("b")), (1, one("x", compression: 6)), (5, one("d"))]),
            ("missing", [(0, one("c"))]),
        ]), version: version)
        #expect(response.responses.map(\.name) == ["jobs", "missing"])
        #expect(response.responses.map { $0.partitionResponses.map(\.errorCode) } == [
            [KafkaErrorCode.invalidRecord.rawValue, KafkaErrorCode.invalidRequiredAcks.rawValue, KafkaErrorCode.unknownTopicOrPartition.rawValue],
            [KafkaErrorCode.unknownTopicOrPartition.rawValue],
        ])
        #expect(try logEnds(setup) == [0, 0])
        #expect(setup.broker.partitionCount("missing") == nil, "a produce with invalid acks created a topic")
    }
}
