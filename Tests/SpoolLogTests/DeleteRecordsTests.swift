import Foundation
import SpoolFormat
import SpoolLog
import SpoolSystem
import Testing

@Suite struct DeleteRecordsTests {
    /// A log of `batches` batches of 2 records each (offsets 0…2n-1), 3 batches per segment.
    private func filledLog(_ directory: TestDirectory, batches: Int = 9, fsync: FsyncPolicy = .always,
                           fileSystem: (any FileSystem)? = nil) async throws -> PartitionLog {
        let batch = makeBatch(tag: "d", records: 2, valueBytes: 100)
        var config = testConfig(segmentBytes: batch.count * 3, fsync: fsync)
        // The test batches carry 2023 timestamps: keep retention by time out of the way.
        config.retentionMs = nil
        let log = try PartitionLog.open(directory: directory.partition, config: config, fileSystem: fileSystem ?? LiveFileSystem())
        for _ in 0..<batches { _ = try log.append(batch) }
        try await log.flushNow()
        return log
    }

    @Test func theStartMovesInsideASegmentAndReadsBelowItAreOutOfRange() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try await filledLog(directory)
        #expect(log.segmentBaseOffsets == [0, 6, 12])
        #expect(try await log.deleteRecords(before: 9) == 9)
        #expect(log.logStartOffset == 9)
        #expect(log.segmentBaseOffsets == [6, 12], "the segment wholly below 9 is deleted at once")
        #expect(!FileManager.default.fileExists(atPath: directory.partition + "/00000000000000000000.log"))
        #expect(throws: LogError.offsetOutOfRange(requested: 8, logStart: 9, highWatermark: 18)) { try log.read(from: 8, maxBytes: 1 << 20) }
        // 9 sits in the batch 8…9: the batch is served whole, as Kafka serves it.
        let read = try log.read(from: 9, maxBytes: 1 << 20)
        #expect(read.logStartOffset == 9)
        #expect(try readAll(log, from: 9).first?.baseOffset == 8)
        #expect(try log.offset(forTimestamp: 0) == 9, "a timestamp lookup never answers below the start")
        try log.close()
    }

    @Test func anOffsetAtOrBelowTheStartChangesNothingAndPastTheHighWatermarkIsRefused() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try await filledLog(directory)
        #expect(try await log.deleteRecords(before: 4) == 4)
        #expect(try await log.deleteRecords(before: 2) == 4)
        #expect(try await log.deleteRecords(before: 4) == 4)
        await #expect(throws: LogError.offsetOutOfRange(requested: 19, logStart: 4, highWatermark: 18)) { _ = try await log.deleteRecords(before: 19) }
        await #expect(throws: LogError.offsetOutOfRange(requested: -3, logStart: 4, highWatermark: 18)) { _ = try await log.deleteRecords(before: -3) }
        #expect(log.logStartOffset == 4)
        // Everything: the start reaches the high watermark and only the active segment is left.
        #expect(try await log.deleteRecords(before: 18) == 18)
        #expect(log.segmentBaseOffsets == [12])
        #expect(try log.read(from: 18, maxBytes: 1 << 20).slice.isEmpty)
        // Appends carry on from the end.
        #expect(try log.append(makeBatch(tag: "n", records: 1)).baseOffset == 18)
        try log.close()
    }

    @Test func theStartSurvivesACleanRestartAndACrash() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try await filledLog(directory)
        try await log.deleteRecords(before: 7)
        try log.close()
        let reopened = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 1 << 20))
        #expect(reopened.logStartOffset == 7)
        #expect(reopened.recoveryReport.logStartOffset == 7)
        try await reopened.deleteRecords(before: 10)
        // A crash: the log is never closed, and a second open recovers the directory as it is.
        let afterCrash = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 1 << 20))
        #expect(afterCrash.logStartOffset == 10)
        #expect(afterCrash.recoveryReport.cleanShutdown == false)
        #expect(throws: LogError.self) { try afterCrash.read(from: 9, maxBytes: 100) }
        try afterCrash.close()
    }

    @Test func underARelaxedFsyncPolicyTheRecordsBelowTheStartAreFlushedFirst() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let batch = makeBatch(tag: "n", records: 2)
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(fsync: .never))
        for _ in 0..<5 { _ = try log.append(batch) }
        #expect(log.durableOffset == 0)
        #expect(try await log.deleteRecords(before: 6) == 6)
        #expect(log.durableOffset >= 6, "a start past the durable end could outlive the records below it")
        try log.close()
    }

    @Test func aFailedWriteOfTheStartChangesNothing() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let log = try await filledLog(directory, fileSystem: fileSystem)
        fileSystem.inject(.open, errno: ENOSPC)
        await #expect(throws: LogError.self) { _ = try await log.deleteRecords(before: 9) }
        fileSystem.clear()
        #expect(log.logStartOffset == 0)
        #expect(log.segmentBaseOffsets == [0, 6, 12])
        #expect(try log.read(from: 0, maxBytes: 100).slice.count > 0)
        #expect(try await log.deleteRecords(before: 9) == 9)
        try log.close()
    }

    @Test func retentionDeletesTheSegmentsThatFallWhollyBelowTheStartLater() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try await filledLog(directory, batches: 6)
        #expect(log.segmentBaseOffsets == [0, 6])
        // Up to the end of the active segment: the first segment goes at once, the active one stays.
        try await log.deleteRecords(before: 12)
        #expect(log.segmentBaseOffsets == [6])
        _ = try log.append(makeBatch(tag: "more", records: 2, valueBytes: 100))
        try await log.flushNow()
        #expect(log.segmentBaseOffsets == [6, 12], "the full segment rolled and now lies wholly below the start")
        let outcome = try log.enforceRetention()
        #expect(outcome.deletedSegments == [6])
        #expect(outcome.logStartOffset == 12)
        #expect(log.segmentBaseOffsets == [12])
        try log.close()
    }

    @Test func aDamagedStartFileStopsTheOpenUntilAnOperatorRemovesIt() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try await filledLog(directory)
        try await log.deleteRecords(before: 8)
        try log.close()
        let path = directory.partition + "/log-start-offset"
        var bytes = try directory.read(path)
        #expect(bytes.count == 24)
        bytes[12] ^= 0x01
        try directory.write(path, bytes)
        // Falling back to the first segment would serve offsets 6 and 7 again: the start would go backwards.
        let error = #expect(throws: LogError.self) { _ = try PartitionLog.open(directory: directory.partition, config: testConfig()) }
        guard case let .damagedFile(damaged, _, remedy)? = error else {
            Issue.record("expected damagedFile, got \(String(describing: error))")
            return
        }
        #expect(damaged == path)
        #expect(remedy.contains("remove it"))
        #expect(try directory.read(path) == bytes, "the open leaves the damaged file for the operator to see")
        // A truncated file is refused the same way.
        try directory.write(path, Array(bytes[0..<10]))
        #expect(throws: LogError.self) { _ = try PartitionLog.open(directory: directory.partition, config: testConfig()) }
        // The operator's way out: remove it, and the partition starts at its first segment.
        try FileManager.default.removeItem(atPath: path)
        let reopened = try PartitionLog.open(directory: directory.partition, config: testConfig())
        #expect(reopened.logStartOffset == 6)
        try reopened.close()
    }
}
