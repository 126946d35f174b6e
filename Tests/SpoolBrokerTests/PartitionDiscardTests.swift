import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolLog
import SpoolSystem
import Testing

/// A deleted partition writes no producer-state snapshot after its deletion: one written by path
/// could land in a topic created again under the same name.
@Suite struct PartitionDiscardTests {
    @Test func aSnapshotWaitingForItsFlushIsDroppedWhenThePartitionIsDiscarded() throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        // The flush that the snapshot waits for comes only when the log closes.
        config.fsync = .interval(milliseconds: 3_600_000)
        let path = directory.path + "/t-0"
        let partition = try Partition.open(directory: path, topic: "t", index: 0, config: config, snapshotIntervalBytes: 1,
                                           fileSystem: LiveFileSystem(), clock: { currentTimeMs() })
        let snapshotPath = path + "/" + Partition.snapshotFileName
        let before = FileManager.default.contents(atPath: snapshotPath)
        let batch = RecordBatch(producing: [ProducerRecord(key: [1], value: [2], timestamp: 1)], producerId: 7, producerEpoch: 0, baseSequence: 0).encoded()
        _ = try batch.withUnsafeBytes { raw in try partition.append(raw) }
        try partition.discard()
        // The flush at close let the snapshot go to its queue; the queue saw the partition discarded.
        Thread.sleep(forTimeInterval: 0.2)
        #expect(FileManager.default.contents(atPath: snapshotPath) == before, "a snapshot was written after the partition was discarded")
    }
}
