import Foundation
import SpoolBroker
import SpoolFormat
import Testing

@Suite struct BrokerProduceTests {
    @Test func idempotentRetryAfterAReopenGetsItsOriginalOffsetAndStoresNothing() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config())
        try broker.createTopic("jobs", partitions: 1)
        let (id, epoch) = try broker.initProducerId()
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("plain"), acks: .all)
        let first = try await broker.produce(topic: "jobs", partition: 0, records: batch("a", count: 3, producerId: id, epoch: epoch, sequence: 0), acks: .all)
        let second = try await broker.produce(topic: "jobs", partition: 0, records: batch("b", count: 2, producerId: id, epoch: epoch, sequence: 3), acks: .all)
        #expect(first.baseOffset == 2)
        #expect(second.baseOffset == 5)
        try broker.close()

        // Clean restart: producer state comes from the snapshot.
        broker = try Broker.open(data.config())
        let retried = try await broker.produce(topic: "jobs", partition: 0, records: batch("b", count: 2, producerId: id, epoch: epoch, sequence: 3), acks: .all)
        #expect(retried.baseOffset == 5 && retried.lastOffset == 6 && retried.duplicate)
        let olderRetry = try await broker.produce(topic: "jobs", partition: 0, records: batch("a", count: 3, producerId: id, epoch: epoch, sequence: 0), acks: .all)
        #expect(olderRetry.baseOffset == 2 && olderRetry.duplicate)
        #expect(try await values(broker, "jobs") == ["plain-0", "plain-1", "a-0", "a-1", "a-2", "b-0", "b-1"])
        let next = try await broker.produce(topic: "jobs", partition: 0, records: batch("c", count: 1, producerId: id, epoch: epoch, sequence: 5), acks: .all)
        #expect(next.baseOffset == 7 && !next.duplicate)
        // Abandon without closing: producer state must come from the batch headers alone.
        broker.abandon()
        broker = try Broker.open(data.config())
        let afterCrash = try await broker.produce(topic: "jobs", partition: 0, records: batch("c", count: 1, producerId: id, epoch: epoch, sequence: 5), acks: .all)
        #expect(afterCrash.baseOffset == 7 && afterCrash.duplicate)
        #expect(try await values(broker, "jobs").count == 8)
        try broker.close()
    }

    @Test func producerStateSnapshotsWrittenWhileProducingSurviveACrash() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var config = data.config()
        config.producerStateSnapshotBytes = 1  // a snapshot after every append
        var broker = try Broker.open(config)
        try broker.createTopic("jobs", partitions: 1)
        let (id, epoch) = try broker.initProducerId()
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("a", count: 3, producerId: id, epoch: epoch, sequence: 0), acks: .all)
        let snapshot = data.path + "/jobs-0/producer-state.json"
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: snapshot) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(FileManager.default.fileExists(atPath: snapshot), "a snapshot was saved while the broker ran")
        let b = try await broker.produce(topic: "jobs", partition: 0, records: batch("b", count: 2, producerId: id, epoch: epoch, sequence: 3), acks: .all)
        // Abandon without closing: the state comes from the last snapshot and the headers after it.
        broker.abandon()
        broker = try Broker.open(config)
        let retriedA = try await broker.produce(topic: "jobs", partition: 0, records: batch("a", count: 3, producerId: id, epoch: epoch, sequence: 0), acks: .all)
        #expect(retriedA.baseOffset == 0 && retriedA.duplicate)
        let retriedB = try await broker.produce(topic: "jobs", partition: 0, records: batch("b", count: 2, producerId: id, epoch: epoch, sequence: 3), acks: .all)
        #expect(retriedB.baseOffset == b.baseOffset && retriedB.duplicate)
        let next = try await broker.produce(topic: "jobs", partition: 0, records: batch("c", count: 1, producerId: id, epoch: epoch, sequence: 5), acks: .all)
        #expect(next.baseOffset == 5 && !next.duplicate)
        #expect(try await values(broker, "jobs") == ["a-0", "a-1", "a-2", "b-0", "b-1", "c-0"])
        try broker.close()
    }

    @Test func sequenceGapsAndStaleEpochsAreRejected() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        let (id, _) = try broker.initProducerId()
        _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("a", count: 2, producerId: id, epoch: 1, sequence: 0), acks: .all)
        await #expect(throws: BrokerError.outOfOrderSequence(producerId: id, expected: 2, received: 5)) {
            _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("gap", producerId: id, epoch: 1, sequence: 5), acks: .all)
        }
        await #expect(throws: BrokerError.invalidProducerEpoch(producerId: id, current: 1, received: 0)) {
            _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("old", producerId: id, epoch: 0, sequence: 2), acks: .all)
        }
        await #expect(throws: BrokerError.outOfOrderSequence(producerId: id, expected: 0, received: 2)) {
            _ = try await broker.produce(topic: "jobs", partition: 0, records: batch("bump", producerId: id, epoch: 2, sequence: 2), acks: .all)
        }
        let bumped = try await broker.produce(topic: "jobs", partition: 0, records: batch("bump", producerId: id, epoch: 2, sequence: 0), acks: .all)
        #expect(bumped.baseOffset == 2)
        #expect(try await values(broker, "jobs") == ["a-0", "a-1", "bump-0", "bump-1"])
    }

    @Test func producerIdsAreNeverReused() throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        var broker = try Broker.open(data.config())
        let first = try (0..<3).map { _ in try broker.initProducerId().producerId }
        try broker.close()
        broker = try Broker.open(data.config())
        let later = try broker.initProducerId().producerId
        #expect(Set(first).count == 3)
        #expect(later > first.max() ?? 0)
        try broker.close()
    }

    @Test func badBatchesAreRefusedAndNothingIsStored() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("small", partitions: 1, configs: ["max.message.bytes": "1000"])
        _ = try await broker.produce(topic: "small", partition: 0, records: batch("ok"), acks: .all)
        let big = batch("big", count: 1, valueBytes: 2000)
        await #expect(throws: BrokerError.messageTooLarge(bytes: big.count, limit: 1000)) {
            _ = try await broker.produce(topic: "small", partition: 0, records: big, acks: .all)
        }
        var corrupt = batch("bad")
        corrupt[corrupt.count - 2] ^= 1
        await #expect { _ = try await broker.produce(topic: "small", partition: 0, records: corrupt, acks: .all) } throws: {
            ($0 as? BrokerError)?.code == .corruptMessage
        }
        // A batch followed by the start of one whose length no batch has: nothing is stored.
        var badLength = batch("bad")
        badLength.replaceSubrange(8..<12, with: [0, 0, 0, 13])
        await #expect { _ = try await broker.produce(topic: "small", partition: 0, records: batch("first") + badLength.prefix(20), acks: .all) } throws: {
            ($0 as? BrokerError)?.code == .corruptMessage
        }
        let control = RecordBatch(producing: [ProducerRecord(value: [1], timestamp: 1)], attributes: BatchAttributes(control: true)).encoded()
        await #expect { _ = try await broker.produce(topic: "small", partition: 0, records: control, acks: .all) } throws: {
            ($0 as? BrokerError)?.code == .invalidRecord
        }
        await #expect { _ = try await broker.produce(topic: "small", partition: 0, records: [1, 2, 3], acks: .all) } throws: {
            ($0 as? BrokerError)?.code == .corruptMessage
        }
        // A client's batch starts at offset 0, as Kafka's log requires (`UnifiedLog.analyzeAndValidateRecords`);
        // the base offset is outside the CRC, so the batch is otherwise whole.
        var offsetFive = batch("five")
        offsetFive.replaceSubrange(0..<8, with: [0, 0, 0, 0, 0, 0, 0, 5])
        await #expect { _ = try await broker.produce(topic: "small", partition: 0, records: offsetFive, acks: .all) } throws: {
            ($0 as? BrokerError)?.code == .invalidRecord && "\($0)".contains("should be 0, but it is 5")
        }
        #expect(try await values(broker, "small") == ["ok-0", "ok-1"])
        #expect(try broker.describeTopic("small").partitions[0].logEndOffset == 2)
    }

    /// Kafka reads a produce's records batch by batch and stops at one cut short by their end
    /// (`ByteBufferLogInputStream.nextBatch`); the log keeps the whole batch before it and drops
    /// the rest (`UnifiedLog.trimInvalidBytes`). No byte of the cut batch is stored.
    @Test func aBatchFollowedByPartOfAnotherIsStoredAlone() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        let first = batch("first")
        let stored = try await broker.produce(topic: "jobs", partition: 0, records: first + batch("cut").prefix(20), acks: .all)
        #expect(stored.baseOffset == 0 && stored.lastOffset == 1 && !stored.duplicate)
        let next = try await broker.produce(topic: "jobs", partition: 0, records: batch("next") + batch("cut").prefix(5), acks: .all)
        #expect(next.baseOffset == 2)
        #expect(try await values(broker, "jobs") == ["first-0", "first-1", "next-0", "next-1"])
        let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition("jobs", 0), fetchOffset: 0)], maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        #expect(fetched.first?.records?.count == first.count + batch("next").count, "bytes of a cut batch were stored")
    }

    /// Kafka refuses several batches for one partition from Produce v3 on
    /// (`ProduceRequest.validateRecords`), so no part of a produce is stored while another part is
    /// refused: a new batch beside a retried one, batches beside one out of sequence, or the
    /// batches before one the disk fails to take.
    @Test func aProduceOfSeveralBatchesIsRefusedAndStoresNone() async throws {
        let data = TestDataDirectory()
        defer { data.remove() }
        let broker = try Broker.open(data.config())
        defer { try? broker.close() }
        try broker.createTopic("jobs")
        let id = try broker.initProducerId().producerId
        let first = batch("a", count: 3, producerId: id, epoch: 0, sequence: 0)
        let next = batch("b", count: 2, producerId: id, epoch: 0, sequence: 3)
        let gap = batch("gap", count: 1, producerId: id, epoch: 0, sequence: 9)
        for records in [first + next, first + gap, batch("x", count: 2) + batch("y", count: 3)] {
            await #expect(throws: BrokerError.invalidRecord("a produce carries exactly one record batch per partition")) {
                _ = try await broker.produce(topic: "jobs", partition: 0, records: records, acks: .all)
            }
        }
        #expect(try broker.describeTopic("jobs").partitions[0].logEndOffset == 0)
        _ = try await broker.produce(topic: "jobs", partition: 0, records: first, acks: .all)
        // A retry beside a new batch: Kafka answers neither as a duplicate nor stores the new one.
        await #expect(throws: BrokerError.invalidRecord("a produce carries exactly one record batch per partition")) {
            _ = try await broker.produce(topic: "jobs", partition: 0, records: first + next, acks: .all)
        }
        #expect(try await values(broker, "jobs") == ["a-0", "a-1", "a-2"])
        // Nothing of the refused produces was recorded: the sequence goes on from the stored batch.
        let stored = try await broker.produce(topic: "jobs", partition: 0, records: next, acks: .all)
        #expect(stored.baseOffset == 3 && stored.lastOffset == 4 && !stored.duplicate)
        #expect(try await values(broker, "jobs") == ["a-0", "a-1", "a-2", "b-0", "b-1"])
    }
}
