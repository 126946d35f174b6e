import SpoolBroker
import SpoolFormat
import Testing

/// The broker reads every record of an uncompressed batch it is sent, as Kafka's `LogValidator`
/// does: a batch whose CRC holds but whose records cannot be read (a producer's bug) is refused
/// with INVALID_RECORD and nothing of it stored, instead of stopping every consumer of the
/// partition at it.
@Suite struct MalformedRecordProduceTests {
    private static func withBroker(_ body: (Broker) async throws -> Void) async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        try await body(broker)
    }

    /// Two good records, then the batch changed by `change` and sealed again (length and CRC right).
    private static func sealed(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
        var bytes = RecordBatch(producing: [ProducerRecord(key: Array("k".utf8), value: Array("first".utf8), timestamp: 1_000),
                                            ProducerRecord(key: Array("k".utf8), value: Array("second".utf8), timestamp: 1_000)]).encoded()
        change(&bytes)
        RecordBatchLayout.seal(&bytes)
        return bytes
    }

    @Test(arguments: ["garbage records", "a record cut short", "bytes after the last record", "one record fewer than the header says"])
    func aBatchWhoseRecordsCannotBeReadIsRefused(fault: String) async throws {
        let batch = Self.sealed { bytes in
            switch fault {
            case "garbage records": for index in RecordBatchLayout.headerSize..<bytes.count { bytes[index] = 0xFF }
            case "a record cut short": bytes.removeLast(3)
            case "bytes after the last record": bytes += [0, 0]
            default:
                bytes.storeBigEndian(Int32(3), at: RecordBatchLayout.recordsCount)
                bytes.storeBigEndian(Int32(2), at: RecordBatchLayout.lastOffsetDelta)
            }
        }
        try await Self.withBroker { broker async throws in
            let refused = await #expect(throws: BrokerError.self) { try await broker.produce(topic: "jobs", partition: 0, records: batch, acks: .all) }
            #expect(refused?.code == .invalidRecord, "\(fault): \(String(describing: refused))")
            #expect(try broker.describeTopic("jobs").partitions[0].logEndOffset == 0, "nothing stored")
            // The partition takes good batches after it, and they read back.
            _ = try await broker.produce(topic: "jobs", partition: 0, records: Self.sealed { _ in }, acks: .all)
            #expect(try await values(broker, "jobs") == ["first", "second"])
        }
    }
}
