import Foundation
import Glibc
import SpoolLog
import Testing

/// Segments leave the log front first and their files leave the disk front first, whatever
/// fails: recovery cuts a log at a hole in its run of segments, so a newer segment deleted before
/// an older one would take every segment after the hole, the active one included, with it.
@Suite struct SegmentDeletionTests {
    /// A log of `count` one-batch segments (offsets 0..<count, batch `i` tagged "s<i>"), all
    /// durable, on `fileSystem`.
    private func segmentedLog(_ directory: TestDirectory, count: Int, config: LogConfig = testConfig(),
                              fileSystem: FaultInjectingFileSystem, clock: ManualClock = ManualClock()) async throws -> PartitionLog {
        let log = try PartitionLog.open(directory: directory.partition, config: config, fileSystem: fileSystem, clock: clock.read)
        for index in 0..<count {
            if index > 0 { try log.roll() }
            try await log.appendDurably(makeBatch(tag: "s\(index)", records: 1, timestamp: clock.milliseconds))
        }
        try await log.flushNow()
        return log
    }

    private func segmentFileExists(_ directory: TestDirectory, _ base: Int64) -> Bool {
        FileManager.default.fileExists(atPath: directory.partition + "/" + String(format: "%020d", base) + ".log")
    }

    @Test func aDeletionWhoseDirectorySyncFailsIsFinishedBeforeANewerSegmentIsDeleted() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        var config = testConfig()
        config.retentionMs = nil
        let log = try await segmentedLog(directory, count: 4, config: config, fileSystem: fileSystem)
        #expect(log.segmentBaseOffsets == [0, 1, 2, 3])
        // Segment 0's files go, then the directory sync fails: segment 1 is not deleted.
        fileSystem.inject(.sync, errno: EIO, times: 1)
        #expect(throws: LogError.self) { try log.deleteSegments(before: 2) }
        #expect(segmentFileExists(directory, 1))
        // The next deletion finishes the failed one first, oldest first, before it deletes segment 2.
        #expect(try log.deleteSegments(before: 3) == 3)
        #expect(!segmentFileExists(directory, 1), "segment 1 left on disk, a hole before segment 3")
        #expect(!segmentFileExists(directory, 2))
        try log.close()

        let reopened = try PartitionLog.open(directory: directory.partition, config: config, fileSystem: fileSystem)
        #expect(reopened.logEndOffset == 4, "acknowledged records lost: the log end went back")
        #expect(reopened.segmentBaseOffsets == [3])
        #expect(values(try readAll(reopened)) == ["s3-0"])
        try reopened.close()
    }
}
