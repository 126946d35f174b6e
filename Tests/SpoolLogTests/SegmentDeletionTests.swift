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

    /// A full disk is when deleting matters most: a roll of the expired active segment that fails
    /// there must not keep the pass from deleting the segments it took out of the log.
    @Test func retentionDeletesTheExpiredSegmentsEvenWhenTheRollOfTheActiveOneFails() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let clock = ManualClock()
        var config = testConfig()
        config.retentionMs = 1000
        let log = try await segmentedLog(directory, count: 2, config: config, fileSystem: fileSystem, clock: clock)
        #expect(log.segmentBaseOffsets == [0, 1])
        clock.advance(by: 5000)
        // Both segments expired: segment 0 goes, and the active one must roll, which needs disk space.
        fileSystem.inject(.allocate, errno: ENOSPC)
        #expect(throws: LogError.diskFull(path: directory.partition + "/00000000000000000002.log")) { try log.enforceRetention() }
        #expect(!segmentFileExists(directory, 0), "the expired segment's space was not freed")
        #expect(log.logStartOffset == 1)
        fileSystem.clear()
        // Once there is space again the active segment rolls; the pass after that deletes it.
        #expect(try log.enforceRetention().deletedSegments == [])
        #expect(log.segmentBaseOffsets == [1, 2])
        #expect(!segmentFileExists(directory, 0))
        try log.close()

        let reopened = try PartitionLog.open(directory: directory.partition, config: config, fileSystem: fileSystem, clock: clock.read)
        #expect(reopened.logStartOffset == 1, "the log start went backwards")
        #expect(reopened.segmentBaseOffsets == [1, 2])
        try reopened.close()
    }

    /// A deleted segment's mappings go once no reader's slice holds them: until they do, the
    /// blocks of its unlinked files stay allocated on disk.
    @Test func aDeletedSegmentThatWasReadIsUnmappedOnceNoSliceHoldsIt() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        var config = testConfig()
        config.retentionMs = nil
        let log = try await segmentedLog(directory, count: 2, config: config, fileSystem: FaultInjectingFileSystem())
        #expect(try bytesRead(from: log, at: 0) > 0)
        let files = directory.partition + "/" + String(format: "%020d", 0) + "."
        func mappings() -> [Substring] { (procFileText("/proc/self/maps") ?? "").split(separator: "\n").filter { $0.contains(files) } }
        #expect(!mappings().isEmpty, "segment 0 is mapped while it is in the log")
        #expect(try log.deleteSegments(before: 1) == 1)
        #expect(mappings().isEmpty, "a deleted segment's files are still mapped")
        try log.close()
    }

    /// Reads at `offset` and drops the slice.
    private func bytesRead(from log: PartitionLog, at offset: Int64) throws -> Int {
        try log.read(from: offset, maxBytes: 1 << 20).slice.count
    }
}
