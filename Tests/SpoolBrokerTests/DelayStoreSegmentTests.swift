import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import Testing

/// The delay log's segments are deleted once nothing in them is pending; a record being held
/// (appended, not yet pending) counts as pending.
@Suite struct DelayStoreSegmentTests {
    private func record(_ value: String) throws -> Record {
        try RecordBatch(decoding: RecordBatch(producing: [ProducerRecord(key: Array("k".utf8), value: Array(value.utf8), timestamp: 1)]).encoded()).records[0]
    }

    @Test("a delivery that ends while another record is being held keeps the segment that holds it")
    func segmentOfARecordBeingHeldIsKept() throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let store = try DelayStore(dataDirectory: directory.path, fsync: .never, fileSystem: LiveFileSystem(), clock: { 1_000 })
        defer { try? store.close() }
        _ = try store.hold([(record: try record("first"), timestamp: 1, dueMs: 10, origin: nil)], topic: "jobs", topicId: nil, partition: 0)
        let first = try store.takeDue(now: 100)
        #expect(first.count == 1)
        // While "second" is in the log but not yet pending, the round delivering "first" ends, in
        // a later segment than "second"'s.
        store.afterHoldAppend.withLock { hook in
            hook = {
                try? store.log.roll()
                try? store.markDelivered(first.map(\.pending), now: currentTimeMs())
            }
        }
        _ = try store.hold([(record: try record("second"), timestamp: 1, dueMs: 20, origin: nil)], topic: "jobs", topicId: nil, partition: 0)
        store.afterHoldAppend.withLock { $0 = nil }
        let second = try store.takeDue(now: 100)
        #expect(second.map { String(decoding: $0.record.value ?? [], as: UTF8.self) } == ["second"])
    }
}
