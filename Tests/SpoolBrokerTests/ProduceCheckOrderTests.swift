import SpoolBroker
import SpoolFormat
import Testing

/// A batch with two faults gets the error Kafka gives it, which is the one of the check Kafka makes
/// first. Kafka's log validates a batch before it looks at its producer's state:
/// `UnifiedLog.append` runs `analyzeAndValidateRecords` (size, then CRC, then the compression
/// codec) and `LogValidator.validateMessagesAndAssignOffsets` (the producer rules, the keys of a
/// compacted topic) first, and only then `analyzeAndValidateProducerState` (duplicates, epoch,
/// sequence). Every refusal stores nothing and leaves the producer's state as it was.
@Suite struct ProduceCheckOrderTests {
    /// Producer `id` has stored sequences 0-2 (offsets 0-2) at epoch 1 in "jobs".
    private func brokerWithAProducer(_ data: TestDataDirectory, configs: [String: String] = [:]) async throws -> (Broker, Int64, [UInt8]) {
        let broker = try Broker.open(data.config())
        do {
            try broker.createTopic("jobs", configs: configs)
            let (id, _) = try broker.initProducerId()
            let stored = batch("a", count: 3, producerId: id, epoch: 1, sequence: 0)
            _ = try await broker.produce(topic: "jobs", partition: 0, records: stored, acks: .all)
            return (broker, id, stored)
        } catch {
            try? broker.close()
            throw error
        }
    }

    /// `bytes` with one bit of its last record flipped: the CRC no longer matches.
    private func corrupted(_ bytes: [UInt8]) -> [UInt8] {
        var changed = bytes
        changed[changed.count - 2] ^= 1
        return changed
    }

    private func code(_ broker: Broker, _ records: [UInt8]) async -> KafkaErrorCode? {
        do {
            _ = try await broker.produce(topic: "jobs", partition: 0, records: records, acks: .all)
            return KafkaErrorCode.none
        } catch {
            return error.code
        }
    }

    /// After the refusals the producer's next batch (sequence 3) is stored at offset 3.
    private func expectNothingChanged(_ broker: Broker, _ id: Int64) async throws {
        #expect(try broker.describeTopic("jobs").partitions[0].logEndOffset == 3, "a refused batch was stored")
        let next = try await broker.produce(topic: "jobs", partition: 0, records: batch("b", count: 1, producerId: id, epoch: 1, sequence: 3), acks: .all)
        #expect(next.baseOffset == 3 && !next.duplicate, "a refused batch changed the producer's state")
    }

    @Test func aBadCRCIsAnsweredBeforeTheProducersSequenceAndEpoch() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let (broker, id, stored) = try await brokerWithAProducer(data)
        defer { try? broker.close() }
        let cases: [(String, [UInt8])] = [
            ("out of order", batch("gap", producerId: id, epoch: 1, sequence: 9)),
            ("fenced epoch", batch("old", producerId: id, epoch: 0, sequence: 3)),
            ("newer epoch not at sequence 0", batch("bump", producerId: id, epoch: 2, sequence: 5)),
            ("a retry of the stored batch", stored),
        ]
        for (name, records) in cases {
            #expect(await code(broker, corrupted(records)) == .corruptMessage, "\(name)")
        }
        try await expectNothingChanged(broker, id)
    }

    /// Codes 5-7 name no codec: Kafka's `CompressionType.forId`, read once the CRC passes, throws
    /// IllegalArgumentException, which the partition gets as UNKNOWN_SERVER_ERROR.
    @Test(arguments: [5, 6, 7] as [Int16])
    func anUnknownCodecIsAnsweredBeforeTheProducersSequence(codec: Int16) async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let (broker, id, _) = try await brokerWithAProducer(data)
        defer { try? broker.close() }
        let records = [ProducerRecord(key: [1], value: [2], timestamp: 1)]
        let outOfOrder = RecordBatch(producing: records, producerId: id, producerEpoch: 1, baseSequence: 9,
                                     attributes: BatchAttributes(rawValue: codec)).encoded()
        #expect(await code(broker, outOfOrder) == .unknownServerError)
        let fenced = RecordBatch(producing: records, producerId: id, producerEpoch: 0, baseSequence: 3,
                                 attributes: BatchAttributes(rawValue: codec)).encoded()
        #expect(await code(broker, fenced) == .unknownServerError)
        // With a bad CRC as well, the CRC is checked first.
        #expect(await code(broker, corrupted(outOfOrder)) == .corruptMessage)
        try await expectNothingChanged(broker, id)
    }

    /// The keys of a compacted topic are checked by Kafka's LogValidator, after the size and the
    /// CRC, and before the producer's state.
    @Test func aCompactedTopicsKeysAreCheckedAfterTheBatchAndBeforeTheProducer() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let (broker, id, _) = try await brokerWithAProducer(data, configs: ["cleanup.policy": "compact", "max.message.bytes": "1000"])
        defer { try? broker.close() }
        func keyless(_ sequence: Int32, epoch: Int16 = 1, valueBytes: Int = 10) -> [UInt8] {
            RecordBatch(producing: [ProducerRecord(value: [UInt8](repeating: 0x2E, count: valueBytes), timestamp: 1)],
                        producerId: id, producerEpoch: epoch, baseSequence: sequence).encoded()
        }
        #expect(await code(broker, keyless(9, valueBytes: 2000)) == .messageTooLarge)
        #expect(await code(broker, corrupted(keyless(9))) == .corruptMessage)
        #expect(await code(broker, keyless(9)) == .invalidRecord)
        #expect(await code(broker, keyless(3, epoch: 0)) == .invalidRecord)
        try await expectNothingChanged(broker, id)
    }
}
