import SpoolBroker
import SpoolFormat
@testable import SpoolServer
import SpoolWire
import Testing

/// What Kafka answers beside the error of a partition its log refuses
/// (`ReplicaManager.appendToLocalLog`): a corrupt or too large batch, an unknown partition or a
/// storage error, no log start offset (-1); a record-level refusal of `LogValidator`
/// (`RecordValidationException`), the log start offset, its message and the records' errors; any
/// other exception (an invalid batch, an unknown compression codec, a producer's sequence or
/// epoch), the log start offset alone. Only a `RecordValidationException` carries a message, and
/// Spool's own refusals of a record, which Kafka has no exception for.
@Suite struct ProduceFailureAnswerTests {
    /// Partition 1 of "jobs" holds 2 records, the first deleted: its log starts at 1.
    private func served() async throws -> Served {
        let setup = try Served()
        _ = try await setup.broker.produce(topic: "jobs", partition: 1, records: batch("a", count: 2), acks: .all)
        _ = try await setup.broker.deleteRecords(topic: "jobs", partition: 1, before: 1)
        return setup
    }

    private func batch(_ tag: String, count: Int = 1, producerId: Int64 = -1, sequence: Int32 = -1, codec: Int16 = 0) -> [UInt8] {
        RecordBatch(producing: (0..<count).map { ProducerRecord(value: Array("\(tag)-\($0)".utf8), timestamp: 1) },
                    producerId: producerId, producerEpoch: producerId < 0 ? -1 : 0, baseSequence: sequence,
                    attributes: BatchAttributes(rawValue: codec)).encoded()
    }

    private func answer(_ setup: Served, version: Int16, _ records: [UInt8], topic: String = "jobs", partition: Int32 = 1) async throws
        -> ProduceResponse.PartitionProduceResponse {
        let request = ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [
            .init(name: topic, partitionData: [.init(index: partition, records: RecordBytes(records))]),
        ])
        return try #require(try await setup.call(request, version: version).responses.first?.partitionResponses.first)
    }

    /// Kafka's `CompressionType.forId` throws IllegalArgumentException for codes 5-7, which
    /// `appendToLocalLog` answers as it answers any exception it does not name.
    @Test(arguments: [7, 9, 11] as [Int16])
    func anUnknownCodecIsAnsweredWithTheLogStartOffsetAndNoMessage(version: Int16) async throws {
        let setup = try await served()
        defer { setup.remove() }
        for codec: Int16 in [5, 6, 7] {
            let refused = try await answer(setup, version: version, batch("x", codec: codec))
            #expect(refused.errorCode == KafkaErrorCode.unknownServerError.rawValue, "codec \(codec)")
            #expect(refused.baseOffset == -1 && refused.logStartOffset == 1, "codec \(codec)")
            #expect(refused.errorMessage == nil && refused.recordErrors.isEmpty, "codec \(codec)")
        }
    }

    @Test(arguments: [9, 11] as [Int16])
    func aProducersOutOfOrderSequenceIsAnsweredWithTheLogStartOffsetAndNoMessage(version: Int16) async throws {
        let setup = try await served()
        defer { setup.remove() }
        let (id, _) = try setup.broker.initProducerId()
        #expect(try await answer(setup, version: version, batch("a", producerId: id, sequence: 0)).errorCode == 0)
        let refused = try await answer(setup, version: version, batch("gap", producerId: id, sequence: 5))
        #expect(refused.errorCode == KafkaErrorCode.outOfOrderSequenceNumber.rawValue)
        #expect(refused.baseOffset == -1 && refused.logStartOffset == 1)
        #expect(refused.errorMessage == nil)
    }

    @Test(arguments: [9, 11] as [Int16])
    func aCorruptBatchIsAnsweredWithNoLogStartOffset(version: Int16) async throws {
        let setup = try await served()
        defer { setup.remove() }
        var corrupt = batch("bad")
        corrupt[corrupt.count - 2] ^= 1
        let refused = try await answer(setup, version: version, corrupt)
        #expect(refused.errorCode == KafkaErrorCode.corruptMessage.rawValue)
        #expect(refused.baseOffset == -1 && refused.logStartOffset == -1)
        #expect(refused.errorMessage == nil)
    }

    /// Kafka answers a partition its metadata does not have before it appends
    /// (`KafkaApis.handleProduceRequest`: `new PartitionResponse(Errors.UNKNOWN_TOPIC_OR_PARTITION)`),
    /// with no log start offset and no message, whether or not the topic exists.
    @Test(arguments: [9, 11] as [Int16])
    func anUnknownPartitionOfAKnownTopicIsAnsweredWithNoMessage(version: Int16) async throws {
        let setup = try await served()
        defer { setup.remove() }
        let refused = try await answer(setup, version: version, batch("x"), partition: 5)
        #expect(refused.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        #expect(refused.baseOffset == -1 && refused.logStartOffset == -1)
        #expect(refused.errorMessage == nil && refused.recordErrors.isEmpty)
    }

    /// Keyless records in a compacted topic: `LogValidator.validateKey` gives each an error
    /// "Compacted topic cannot accept message without key in topic partition users-0" (no full
    /// stop), and `processRecordErrors` throws a `RecordValidationException` whose message counts
    /// them all and lists the first three as `RecordError.toString` prints them;
    /// `ReplicaManager.appendToLocalLog` sends that message (`hasCustomErrorMessage`), the log
    /// start offset and every record's error.
    @Test(arguments: [9, 11] as [Int16])
    func keylessRecordsInACompactedTopicAreAnsweredWithKafkasMessages(version: Int16) async throws {
        let setup = try await served()
        defer { setup.remove() }
        try setup.broker.createTopic("users", configs: ["cleanup.policy": "compact"])
        let keys: [String?] = [nil, "a", nil, nil, nil]
        let records = RecordBatch(producing: keys.map { ProducerRecord(key: $0.map { Array($0.utf8) }, value: Array("v".utf8), timestamp: 1) }).encoded()
        let refused = try await answer(setup, version: version, records, topic: "users", partition: 0)
        let reason = "Compacted topic cannot accept message without key in topic partition users-0"
        #expect(refused.errorCode == KafkaErrorCode.invalidRecord.rawValue)
        #expect(refused.baseOffset == -1 && refused.logStartOffset == 0)
        #expect(refused.errorMessage == "One or more records have been rejected due to 4 record errors in total, and only showing the first three "
            + "errors at most: [RecordError(batchIndex=0, message='\(reason)'), RecordError(batchIndex=2, message='\(reason)'), "
            + "RecordError(batchIndex=3, message='\(reason)')]")
        #expect(refused.recordErrors.map(\.batchIndex) == [0, 2, 3, 4])
        #expect(refused.recordErrors.allSatisfy { $0.batchIndexErrorMessage == reason })
    }

    /// Spool's own refusal of a record (an empty `spool-idempotency-key`) has no Kafka exception to
    /// follow: it is answered as `LogValidator`'s refusal of a record is, its reason included.
    @Test(arguments: [9, 11] as [Int16])
    func anUnreadableSpoolHeaderIsAnsweredWithItsReason(version: Int16) async throws {
        let setup = try await served()
        defer { setup.remove() }
        let keyless = RecordBatch(producing: [ProducerRecord(value: Array("x".utf8), headers: [RecordHeader(SpoolHeaders.idempotencyKey, "")], timestamp: 1)]).encoded()
        let refused = try await answer(setup, version: version, keyless)
        #expect(refused.errorCode == KafkaErrorCode.invalidRecord.rawValue)
        #expect(refused.baseOffset == -1 && refused.logStartOffset == 1)
        #expect(refused.errorMessage?.contains("spool-idempotency-key is empty") == true)
    }
}
