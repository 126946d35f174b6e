import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolLog
import SpoolSystem
import Testing

/// A produce reserves its records' idempotency keys, appends the records, then confirms the keys,
/// or releases them when the append fails. A reservation older than the topic's window is taken
/// over by the next produce of its key; the produce that made it then neither releases nor
/// confirms the one that took it over.
@Suite struct DedupeReservationTests {
    private static let windowMs = 1_000

    /// A batch of one record `value` with idempotency key "K".
    private func keyed(_ value: String) -> [UInt8] {
        RecordBatch(producing: [ProducerRecord(key: nil, value: Array(value.utf8), headers: [RecordHeader(SpoolHeaders.idempotencyKey, "K")],
                                               timestamp: currentTimeMs())]).encoded()
    }

    /// Runs `body` on a broker whose clock moves only by hand, with topic "orders" (one partition,
    /// a window of `windowMs`) and its partition.
    private func withOrders(_ name: String, _ body: (Broker, ManualClock, Partition) async throws -> Void) async throws {
        let directory = TestDataDirectory(name)
        defer { directory.remove() }
        let clock = ManualClock()
        let broker = try Broker.open(directory.config(), clock: { clock.nowMs })
        defer { try? broker.close() }
        try broker.createTopic("orders", partitions: 1, configs: ["dedupe.window.ms": String(Self.windowMs)])
        try await body(broker, clock, try broker.partition("orders", 0))
    }

    /// Routes `batch` through the broker's header router as a produce to `partition` does, the
    /// records that stay appended by `append`.
    private func route(_ broker: Broker, _ partition: Partition, _ batch: [UInt8], mayWaitForDisk: Bool = true,
                       append: (UnsafeRawBufferPointer) throws(BrokerError) -> Partition.Appended?) throws(BrokerError) -> Partition.Appended? {
        var router = broker.headerRouter
        router.mayWaitForDisk = mayWaitForDisk
        let routed = try batch.withBytes { raw throws(BrokerError) in
            try router.route(raw, topic: partition.topic, topicId: partition.topicId, partition: partition.index, append: append)
        }
        guard case let .appended(appended) = routed else { return nil }
        return appended
    }

    @Test("a produce whose append fails does not release the key that a later produce took over from its reservation, older than the window")
    func aFailedAppendReleasesOnlyItsOwnReservation() async throws {
        try await withOrders(#function) { broker, clock, partition in
            // The dedupe log so full that its next append starts a segment: the later produce's key
            // stays reserved, its record stored, until it is confirmed where a thread may block.
            try broker.dedupe.log.fillActiveSegment()
            let failure = BrokerError.storage(.diskFull(path: "orders-0"))
            var later: Partition.Appended?
            do throws(BrokerError) {
                _ = try route(broker, partition, keyed("first")) { _ throws(BrokerError) in
                    clock.advance(ms: Self.windowMs + 1)
                    later = try route(broker, partition, keyed("later"), mayWaitForDisk: false) { raw throws(BrokerError) in try partition.append(raw) }
                    throw failure
                }
                Issue.record("the first produce's append did not fail")
            } catch {
                #expect(error == failure)
            }
            let keys = try #require(later?.unconfirmedKeys, "the later produce's key was confirmed at once")
            let confirmed = broker.dedupe.confirmStored(keys, mayBlock: true)
            guard case .logged = confirmed else {
                Issue.record("the later produce's key was not logged (\(confirmed)): the first produce released it")
                return
            }
            let copy = try await broker.produce(topic: "orders", partition: 0, records: keyed("copy"), acks: .leader)
            #expect(copy.duplicate && copy.baseOffset == 0, "a copy of the later record was stored within its window")
            try await partition.log.waitUntilDurable(partition.log.logEndOffset - 1)
            #expect(try await values(broker, "orders") == ["later"])
        }
    }

    @Test("a produce that stores its record after a later produce took its key over, its reservation older than the window, leaves the later produce's key")
    func aLateConfirmationLeavesTheKeyThatTookOver() async throws {
        try await withOrders(#function) { broker, clock, partition in
            let first = try route(broker, partition, keyed("first")) { raw throws(BrokerError) in
                clock.advance(ms: Self.windowMs + 1)
                let later = try route(broker, partition, keyed("later")) { raw throws(BrokerError) in try partition.append(raw) }
                #expect(later?.baseOffset == 0 && later?.dedupeLogOffset != nil, "the later produce did not store and log its key")
                return try partition.append(raw)
            }
            #expect(first?.baseOffset == 1)
            // Within the later record's window, past the first's.
            clock.advance(ms: Self.windowMs / 2)
            let copy = try await broker.produce(topic: "orders", partition: 0, records: keyed("copy"), acks: .leader)
            #expect(copy.duplicate && copy.baseOffset == 0, "the first produce's confirmation put its own time and offset in the key's place")
            try await partition.log.waitUntilDurable(partition.log.logEndOffset - 1)
            #expect(try await values(broker, "orders") == ["later", "first"])
        }
    }
    @Test("a reservation that no produce confirms or releases holds its key for one window, then is taken over or forgotten")
    func aStuckReservationLastsOneWindow() async throws {
        try await withOrders(#function) { broker, clock, partition in
            // Reserved as a produce reserves, and then neither confirmed nor released: stuck.
            let reserve = { (now: Int64) in
                broker.dedupe.reserve(topic: "orders", topicId: partition.topicId, keys: ["K"], now: now, windowMs: Int64(Self.windowMs),
                                      currentTopicId: { _ in partition.topicId })
            }
            #expect(reserve(clock.nowMs) == [.reserved])
            // Within the window the original may still be stored: an acks=all or acks=1 copy is
            // refused (retriable), an acks=0 copy is dropped as a duplicate.
            clock.advance(ms: Self.windowMs - 1)
            for acks in [Acks.all, .leader] {
                await #expect(throws: BrokerError.idempotencyKeyPending(topic: "orders", key: "K")) {
                    try await broker.produce(topic: "orders", partition: 0, records: keyed("copy"), acks: acks)
                }
            }
            let dropped = try await broker.produce(topic: "orders", partition: 0, records: keyed("copy"), acks: .none)
            #expect(dropped.duplicate && dropped.baseOffset == -1)
            // Past the window, the next produce of the key takes it over and stores its record.
            clock.advance(ms: 2)
            let stored = try await broker.produce(topic: "orders", partition: 0, records: keyed("later"), acks: .leader)
            #expect(!stored.duplicate && stored.baseOffset == 0)

            // A stuck reservation of a key that is not produced again is forgotten past the
            // window, as its confirmed keys are, rather than kept until the broker restarts.
            let other = { (now: Int64) in
                broker.dedupe.reserve(topic: "orders", topicId: partition.topicId, keys: ["other"], now: now, windowMs: Int64(Self.windowMs),
                                      currentTopicId: { _ in partition.topicId })
            }
            #expect(other(clock.nowMs) == [.reserved])
            broker.enforceRetention()
            #expect(broker.dedupe.entry(topic: "orders", topicId: partition.topicId, key: "other")?.offset == -1, "forgotten within its window")
            clock.advance(ms: Self.windowMs + 1)
            broker.enforceRetention()
            #expect(broker.dedupe.entry(topic: "orders", topicId: partition.topicId, key: "other") == nil, "a stuck reservation was kept past its window")
        }
    }
}
