import SpoolBroker
import SpoolFormat
import SpoolSystem
import Testing

/// The broker reads inside the compressed batches it is sent, as Kafka's does: Spool's headers
/// act on their records as on an uncompressed batch's, a batch that does not decompress or holds
/// a record that cannot be read is refused with nothing stored, and ListOffsets finds the record
/// a timestamp points at inside one.
@Suite struct CompressedProduceTests {
    private static func record(_ value: String, headers: [RecordHeader] = [], timestamp: Int64 = currentTimeMs()) -> ProducerRecord {
        ProducerRecord(key: Array("k".utf8), value: Array(value.utf8), headers: headers, timestamp: timestamp)
    }

    private static func withBroker(clock: ManualClock? = nil, _ body: (Broker) async throws -> Void) async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = if let clock { try Broker.open(data.config(), clock: { clock.nowMs }) } else { try Broker.open(data.config()) }
        defer { try? broker.close() }
        try broker.createTopic("jobs", partitions: 1)
        try await body(broker)
    }

    /// Every record of partition 0 of "jobs", with the offset its batch gives it.
    private static func offsetsAndValues(_ broker: Broker) async throws -> [(offset: Int64, value: String)] {
        let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0)], maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        let stored = try #require(fetched.first?.records)
        var read: [(offset: Int64, value: String)] = []
        try stored.forEachBatch { bytes in
            let batch = try RecordBatch(inflating: bytes)
            for record in batch.records { read.append((batch.baseOffset + Int64(record.offsetDelta), String(decoding: record.value ?? [], as: UTF8.self))) }
        }
        return read
    }

    @Test func aRecordDueLaterInAGzipBatchIsHeldAndTheRestStoredAtOnce() async throws {
        let clock = ManualClock()
        try await Self.withBroker(clock: clock) { broker async throws in
            let due = clock.nowMs + 3_000
            let batch = gzipped(RecordBatch(producing: [Self.record("now"), Self.record("later", headers: [RecordHeader(SpoolHeaders.deliverAt, String(due))]),
                                                        Self.record("also now")]).encoded())
            let result = try await broker.produce(topic: "jobs", partition: 0, records: batch, acks: .all)
            #expect(result.baseOffset == 0)
            #expect(try await values(broker, "jobs") == ["now", "also now"])
            #expect(broker.heldRecordCount == 1)
            clock.advance(ms: 3_000)
            broker.clockMoved()
            #expect(try await waitForValues(broker, "jobs", count: 3) == ["now", "also now", "later"])
        }
    }

    @Test func anIdempotencyKeyInAGzipBatchDropsTheSecondCopy() async throws {
        try await Self.withBroker { broker async throws in
            func keyed(_ value: String) -> [UInt8] {
                gzipped(RecordBatch(producing: [Self.record(value, headers: [RecordHeader(SpoolHeaders.idempotencyKey, "order-7")])]).encoded())
            }
            let first = try await broker.produce(topic: "jobs", partition: 0, records: keyed("first"), acks: .all)
            #expect(!first.duplicate && first.baseOffset == 0)
            let again = try await broker.produce(topic: "jobs", partition: 0, records: keyed("again"), acks: .all)
            #expect(again.duplicate)
            #expect(try await values(broker, "jobs") == ["first"])
        }
    }

    @Test func aGzipBatchWithoutSpoolsHeadersIsStoredAsItCame() async throws {
        try await Self.withBroker { broker async throws in
            let batch = gzipped(RecordBatch(producing: [Self.record("a"), Self.record("b")]).encoded())
            _ = try await broker.produce(topic: "jobs", partition: 0, records: batch, acks: .all)
            let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0)], maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
            let stored = try #require(fetched.first?.records)
            var codecs: [Compression?] = []
            try stored.forEachBatch { bytes in codecs.append(try RecordBatchHeader(parsing: bytes).attributes.compression) }
            #expect(codecs == [.gzip], "not rewritten")
            #expect(try await values(broker, "jobs") == ["a", "b"])
        }
    }

    @Test func aGzipBatchWhoseRecordsSayOtherOffsetsIsStoredRenumbered() async throws {
        try await Self.withBroker { broker async throws in
            // Three records whose offset deltas say 2, 1, 0: read as they came, "a" would be at
            // offset 2 and "c" at 0, the offsets going backwards.
            var plain = RecordBatch(producing: [Self.record("a"), Self.record("b"), Self.record("c")])
            for index in plain.records.indices { plain.records[index].offsetDelta = Int32(2 - index) }
            let result = try await broker.produce(topic: "jobs", partition: 0, records: gzipped(plain.encoded()), acks: .all)
            #expect(result.baseOffset == 0 && result.lastOffset == 2)
            _ = try await broker.produce(topic: "jobs", partition: 0, records: gzipped(RecordBatch(producing: [Self.record("d")]).encoded()), acks: .all)
            let read = try await Self.offsetsAndValues(broker)
            #expect(read.map(\.offset) == [0, 1, 2, 3])
            #expect(read.map(\.value) == ["a", "b", "c", "d"])
        }
    }

    @Test func anUncompressedBatchWhoseRecordsSayOtherOffsetsIsStoredRenumbered() async throws {
        try await Self.withBroker { broker async throws in
            var plain = RecordBatch(producing: [Self.record("a"), Self.record("b"), Self.record("c")])
            for index in plain.records.indices { plain.records[index].offsetDelta = 0 }
            _ = try await broker.produce(topic: "jobs", partition: 0, records: plain.encoded(), acks: .all)
            _ = try await broker.produce(topic: "jobs", partition: 0, records: RecordBatch(producing: [Self.record("d")]).encoded(), acks: .all)
            #expect(try await Self.offsetsAndValues(broker).map(\.offset) == [0, 1, 2, 3], "not three records at offset 0")
        }
    }

    @Test func aGzipBatchWithARecordThatCannotBeReadIsRefused() async throws {
        try await Self.withBroker { broker async throws in
            // The header says 3 records; the gzip member holds 2.
            var plain = RecordBatch(producing: [Self.record("a"), Self.record("b")])
            plain.lastOffsetDelta = 2
            let twoOfThree = gzipped(plain.encoded())
            var lied = twoOfThree
            lied.storeBigEndian(Int32(3), at: RecordBatchLayout.recordsCount)
            RecordBatchLayout.seal(&lied)
            let refused = await #expect(throws: BrokerError.self) { try await broker.produce(topic: "jobs", partition: 0, records: lied, acks: .all) }
            #expect(refused?.code == .invalidRecord)
            #expect(try broker.describeTopic("jobs").partitions[0].logEndOffset == 0, "nothing stored")
        }
    }

    @Test func listOffsetsFindsTheRecordATimestampPointsAtInsideAGzipBatch() async throws {
        try await Self.withBroker { broker async throws in
            let batch = gzipped(RecordBatch(producing: (0..<5).map { Self.record("v\($0)", timestamp: 1_000 + Int64($0) * 10) }).encoded())
            _ = try await broker.produce(topic: "jobs", partition: 0, records: batch, acks: .all)
            #expect(try broker.listOffset(topic: "jobs", partition: 0, timestamp: 1_025) == (3, 1_030))
            #expect(try broker.listOffset(topic: "jobs", partition: 0, timestamp: 1_000) == (0, 1_000))
            #expect(try broker.listOffset(topic: "jobs", partition: 0, timestamp: 1_041) == (-1, -1))
        }
    }
}
