import Foundation
import SpoolFormat
import Testing
@testable import SpoolJobs

/// Hold records folded into `JobControlState`, and the order a hold's dead letters replay in.
@Suite struct KeyHoldTests {
    @Test("a hold is set and released by its record and tombstone; a record older than the last one applied for its key changes nothing")
    func versions() throws {
        let hold = KeyHold(group: "g", key: "A", partition: 0, deadOffset: 1, deadJobId: "A-2", heldAtMs: 5)
        #expect(hold.id == "g/0:1")
        var state = JobControlState()
        state.apply(controlRecord(try hold.record(), offset: 3))
        #expect(state.holds[hold.recordKey] == hold)
        state.apply(controlRecord(hold.releaseRecord(), offset: 7))
        #expect(state.holds.isEmpty)
        // The hold's record read again (a follower behind the worker that released it): still released.
        state.apply(controlRecord(try hold.record(), offset: 3))
        #expect(state.holds.isEmpty)
        state.applyHolds([controlRecord(try hold.record(), offset: 3), controlRecord(hold.releaseRecord(), offset: 7)])
        #expect(state.holds.isEmpty)
        // A new hold, later in the topic, applies.
        state.apply(controlRecord(try hold.record(), offset: 9))
        #expect(state.holds[hold.recordKey] == hold)
        // A value under another key than its own is ignored; (group, key) pairs never share a key.
        var other = hold
        other.key = "B"
        state.apply(controlRecord(OutgoingRecord(key: Array(hold.recordKey.utf8), value: try other.record().value), offset: 10))
        #expect(state.holds[hold.recordKey] == hold)
        #expect(KeyHold.recordKey(group: "a/b", key: "c") != KeyHold.recordKey(group: "a", key: "b/c"))
    }

    @Test("released holds leave no version behind; a worker's own hold and release, applied before it reads them back, stay released")
    func versionsPruned() throws {
        var state = JobControlState()
        for index in 0..<100 {
            let hold = KeyHold(group: "g", key: "k\(index)", partition: 0, deadOffset: Int64(index), deadJobId: "j\(index)", heldAtMs: 5)
            state.apply(controlRecord(try hold.record(), offset: Int64(2 * index)))
            state.apply(controlRecord(hold.releaseRecord(), offset: Int64(2 * index + 1)))
        }
        #expect(state.holds.isEmpty)
        #expect(state.holdVersions.isEmpty)
        // Stored and released by this worker, ahead of what it has read of the control topic.
        let hold = KeyHold(group: "g", key: "A", partition: 0, deadOffset: 1, deadJobId: "A-2", heldAtMs: 5)
        state.applyHold(key: hold.recordKey, value: try hold.record().value, version: 300)
        state.applyHold(key: hold.recordKey, value: nil, version: 301)
        #expect(state.holdVersions.count == 1)
        // Read back in order, and by a read of the whole topic that ended before the release.
        state.apply(controlRecord(try hold.record(), offset: 300))
        #expect(state.holds.isEmpty)
        state.applyHolds([controlRecord(try hold.record(), offset: 300)])
        #expect(state.holds.isEmpty)
        state.apply(controlRecord(hold.releaseRecord(), offset: 301))
        #expect(state.holds.isEmpty)
        #expect(state.holdVersions.isEmpty)
    }

    @Test("a hold's letters replay once per origin offset, by origin offset, without the ones replayed already or of other holds")
    func replayOrder() {
        func letter(_ id: String, origin: Int64, at offset: Int64, hold: String? = "g/0:1", redriven: Bool = false) -> DeadLetter {
            DeadLetter(id: id, key: "A", attempts: 1, error: "", originTopic: "steps", originPartition: 0, originOffset: origin, failedAt: nil,
                       partition: 0, offset: offset, redriven: redriven, hold: hold, parkedBehind: nil,
                       record: ConsumedRecord(topic: "steps.dlq", partition: 0, offset: offset, timestamp: 0, key: nil, value: nil, headers: []))
        }
        let letters = [letter("A-4", origin: 4, at: 0), letter("A-2", origin: 1, at: 1), letter("A-3", origin: 2, at: 2, redriven: true),
                       letter("B-2", origin: 3, at: 3, hold: "g/0:3"), letter("A-4", origin: 4, at: 4), letter("A-5", origin: 5, at: 5, hold: nil)]
        let order = JobQueue.replayOrder(letters, hold: "g/0:1")
        #expect(order.map { $0.map(\.offset) } == [[1], [0, 4]])
    }
}
