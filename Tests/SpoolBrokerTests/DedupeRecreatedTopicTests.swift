import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import Synchronization
import Testing

/// A topic deleted and created again under the same name is another topic: the idempotency keys
/// accepted on the deleted one must not make the new one drop records, after a restart too.
@Suite struct DedupeRecreatedTopicTests {
    private func produce(_ broker: Broker, _ value: String, key: String? = nil, acks: Acks = .all) async throws -> ProduceResult {
        try await broker.produce(topic: "orders", partition: 0, records: batch(value, key: key), acks: acks)
    }

    /// A batch of one record `value`, with idempotency key `key` if any, from idempotent producer
    /// `producerId` (sequence 0) if one is given.
    private func batch(_ value: String, key: String?, producerId: Int64 = -1) -> [UInt8] {
        let record = ProducerRecord(key: nil, value: Array(value.utf8), headers: key.map { [RecordHeader(SpoolHeaders.idempotencyKey, $0)] } ?? [],
                                    timestamp: currentTimeMs())
        return RecordBatch(producing: [record], producerId: producerId, producerEpoch: producerId < 0 ? -1 : 0,
                           baseSequence: producerId < 0 ? -1 : 0).encoded()
    }

    /// A broker on `directory` with topic "orders" of one partition.
    private func openWithOrders(_ directory: TestDataDirectory) throws -> Broker {
        let broker = try Broker.open(directory.config())
        try broker.createTopic("orders", partitions: 1)
        return broker
    }

    @Test("a key accepted on a deleted topic does not drop a record of the topic made again under its name, after a restart")
    func keysOfADeletedTopicDoNotSurviveARestart() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        var broker = try openWithOrders(directory)
        _ = try await produce(broker, "old", key: "K")
        try await broker.deleteTopic("orders")
        try broker.createTopic("orders", partitions: 1)
        _ = try await produce(broker, "plain-0")
        _ = try await produce(broker, "plain-1")
        try broker.close()
        broker = try Broker.open(directory.config())
        defer { try? broker.close() }
        let again = try await produce(broker, "new", key: "K")
        #expect(!again.duplicate, "dropped as a duplicate of the deleted topic's record")
        #expect(again.baseOffset == 2)
        #expect(try await values(broker, "orders") == ["plain-0", "plain-1", "new"])
        // The key is the new topic's now: within its window, a second copy is a duplicate.
        let copy = try await produce(broker, "new-again", key: "K")
        #expect(copy.duplicate && copy.baseOffset == 2)
    }

    @Test("while a deleted topic's keys are being forgotten, the topic made again under its name keeps the keys it accepts and is not judged by the old ones")
    func forgettingTheDeletedTopicsKeysLeavesTheNewTopicsKeys() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let broker = try openWithOrders(directory)
        defer { try? broker.close() }
        _ = try await produce(broker, "old", key: "K")
        let accepted = Mutex<ProduceResult?>(nil)
        broker.afterTopicDeletionIsWritten.withLock { hook in
            hook = { [self] _ in
                do {
                    try broker.createTopic("orders", partitions: 1)
                    let result = try await produce(broker, "new", key: "K")
                    accepted.withLock { $0 = result }
                } catch { Issue.record("meanwhile: \(error)") }
            }
        }
        try await broker.deleteTopic("orders")
        let first = try #require(accepted.withLock { $0 })
        #expect(!first.duplicate, "dropped as a duplicate of the deleted topic's record")
        #expect(first.baseOffset == 0)
        let copy = try await produce(broker, "new-again", key: "K")
        #expect(copy.duplicate && copy.baseOffset == 0, "the deletion forgot the key the new topic accepted")
        #expect(try await values(broker, "orders") == ["new"])
    }

    @Test("a key of the deleted topic confirmed late, after the topic made again under its name accepted the key, leaves the key the new topic's after a restart")
    func aLateConfirmationForTheDeletedTopicLogsNothing() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let broker = try openWithOrders(directory)
        // The dedupe log so full that its next append starts a segment: a produce's keys are
        // confirmed late, where a thread may block, after the produce stored its records.
        try broker.dedupe.log.fillActiveSegment()
        let ran = Mutex(false)
        broker.beforeLateKeysAreConfirmed.withLock { hook in
            hook = { [self] in
                guard !ran.withLock({ ran in defer { ran = true }; return ran }) else { return }
                do {
                    try await broker.deleteTopic("orders")
                    try broker.createTopic("orders", partitions: 1)
                    let accepted = try await produce(broker, "new", key: "K")
                    #expect(!accepted.duplicate && accepted.baseOffset == 0)
                } catch { Issue.record("meanwhile: \(error)") }
            }
        }
        // Stored in the topic about to be deleted; its key is confirmed after the new topic's.
        _ = try await produce(broker, "old", key: "K", acks: .leader)
        #expect(ran.withLock { $0 }, "the key was confirmed at once")
        #expect(try await produce(broker, "new-again", key: "K").duplicate)
        try broker.close()

        let restarted = try Broker.open(directory.config())
        defer { try? restarted.close() }
        let copy = try await produce(restarted, "new-after-restart", key: "K")
        #expect(copy.duplicate && copy.baseOffset == 0, "the deleted topic's key, logged last, made the restart forget the new topic's")
        #expect(try await values(restarted, "orders") == ["new"])
    }

    @Test("a produce that took the deleted topic's partition, and reserves its key once the topic made again under its name accepted the key, is refused as a produce to a deleted topic and leaves the key the new topic's",
          arguments: [false, true])
    func aStaleReservationLeavesTheNewTopicsKey(resent: Bool) async throws {
        let directory = TestDataDirectory("\(#function)-\(resent)")
        defer { directory.remove() }
        let broker = try openWithOrders(directory)
        defer { try? broker.close() }
        // Resent: an idempotent producer's retry of a batch the deleted topic stored, whose key the
        // deletion forgot (confirmed again, `HeaderRouter.reconfirmKeys`).
        let stale = batch("old", key: "K", producerId: resent ? try broker.initProducerId().producerId : -1)
        if resent { _ = try await broker.produce(topic: "orders", partition: 0, records: stale, acks: .all) }
        // A produce looked the partition up; then the topic was deleted and created again, and the
        // new topic accepted the key, before the produce reserved it.
        let looked = try broker.partition("orders", 0)
        try await broker.deleteTopic("orders")
        try broker.createTopic("orders", partitions: 1)
        let accepted = try await produce(broker, "new", key: "K")
        #expect(!accepted.duplicate && accepted.baseOffset == 0)
        for acks in [Acks.leader, .all] {
            var router = broker.headerRouter
            router.mayWaitForDisk = false
            router.waitsForOriginals = acks == .all
            #expect(throws: BrokerError.unknownTopicOrPartition(topic: "orders", partition: 0), "acks=\(acks)") {
                try stale.withBytes { raw throws(BrokerError) in try looked.append(raw, router: router) }
            }
        }
        let copy = try await produce(broker, "new-again", key: "K")
        #expect(copy.duplicate && copy.baseOffset == 0, "the stale produce took the key over")
        #expect(try await values(broker, "orders") == ["new"])
    }
}
