import Dispatch
import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolLog
import SpoolSystem
import SpoolTestSupport
import Synchronization
import Testing

/// A deleted partition writes no producer-state snapshot after its deletion: one written by path
/// could land in a topic created again under the same name.
@Suite struct PartitionDiscardTests {
    @Test func aSnapshotWaitingForItsFlushIsDroppedWhenThePartitionIsDiscarded() throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.fsync = .interval(milliseconds: 3_600_000)
        let path = directory.path + "/t-0"
        let disk = FaultInjectingFileSystem()
        let partition = try Partition.open(directory: path, topic: "t", topicId: "T", index: 0, config: config, snapshotIntervalBytes: 1,
                                           fileSystem: disk, clock: { currentTimeMs() })
        let snapshotPath = path + "/" + Partition.snapshotFileName
        let before = FileManager.default.contents(atPath: snapshotPath)
        // The disk holds the flush that the snapshot waits for until the partition is discarded.
        let gate = DispatchSemaphore(value: 0)
        disk.syncGate.withLock { $0 = gate }
        let batch = RecordBatch(producing: [ProducerRecord(key: [1], value: [2], timestamp: 1)], producerId: 7, producerEpoch: 0, baseSequence: 0).encoded()
        _ = try batch.withUnsafeBytes { raw in try partition.append(raw) }
        #expect(waitUntil { disk.syncsWaiting.load(ordering: .relaxed) > 0 }, "the snapshot's flush never reached the disk")
        let discarded = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        Thread.detachNewThread {
            do { try partition.discard() } catch { failure.withLock { $0 = error } }
            discarded.signal()
        }
        #expect(waitUntil { partition.isClosed.load(ordering: .acquiring) })
        // The flush completes; its callback queues the snapshot, which sees the partition discarded.
        gate.signal()
        #expect(discarded.wait(timeout: .now() + 10) == .success, "discard did not return")
        #expect(failure.withLock { $0 } == nil)
        disk.syncGate.withLock { $0 = nil }
        // A snapshot queued by the flush's callback has had its time to land.
        Thread.sleep(forTimeInterval: 0.1)
        #expect(FileManager.default.contents(atPath: snapshotPath) == before, "a snapshot was written after the partition was discarded")
    }

    /// Polls `condition` for up to five seconds.
    private func waitUntil(_ condition: () -> Bool) -> Bool {
        let deadline = monotonicNanoseconds() + 5_000_000_000
        while !condition() {
            if monotonicNanoseconds() > deadline { return false }
            usleep(1_000)
        }
        return true
    }
}
