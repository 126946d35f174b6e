import Glibc
import SpoolFormat
import SpoolLog
import Testing

@Suite struct DiskFullTests {
    @Test func fullDiskFailsTheAppendCleanlyAndAppendsResumeWhenSpaceReturns() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        var config = testConfig(segmentBytes: 256 << 10)
        config.preallocateBytes = 8 << 10
        let log = try PartitionLog.open(directory: directory.partition, config: config, fileSystem: fileSystem)
        fileSystem.inject(.allocate, errno: ENOSPC)
        var accepted: [String] = []
        var diskFull = 0
        for index in 0..<100 {
            do {
                try await log.appendDurably(makeBatch(tag: "d\(index)", records: 1, valueBytes: 500))
                accepted.append("d\(index)-0")
            } catch {
                guard case .diskFull = error else { Issue.record("unexpected \(error)"); break }
                diskFull += 1
            }
        }
        #expect(diskFull > 0, "the preallocated space ran out")
        #expect(!accepted.isEmpty, "appends fit in what was allocated before the disk filled")
        #expect(log.highWatermark == Int64(accepted.count))
        #expect(values(try readAll(log)) == accepted, "readable, nothing half-written")

        fileSystem.clear()
        try await log.appendDurably(makeBatch(tag: "after", records: 1))
        try log.close()
        let reopened = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(values(try readAll(reopened)) == accepted + ["after-0"])
        try reopened.close()
    }

    @Test func aStepThatNoLongerFitsFallsBackToTheSpaceTheBatchNeeds() async throws {
        // Near a full disk a whole preallocation step may not fit while the batch does: the append
        // must take what it needs rather than fail with space to spare.
        let directory = TestDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        var config = testConfig(segmentBytes: 256 << 10)
        config.preallocateBytes = 8 << 10
        let log = try PartitionLog.open(directory: directory.partition, config: config, fileSystem: fileSystem)
        fileSystem.inject(.allocate, errno: ENOSPC, times: 1)
        for index in 0..<40 { try await log.appendDurably(makeBatch(tag: "s\(index)", records: 1, valueBytes: 500)) }
        #expect(fileSystem.failures(of: .allocate) == 1, "the step was refused once")
        #expect(try readAll(log).count == 40)
        try log.close()
    }

    @Test func fullDiskAtRollKeepsTheOldSegmentActive() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let batch = makeBatch(tag: "r", records: 1, valueBytes: 300)
        let config = testConfig(segmentBytes: batch.count * 3)
        let log = try PartitionLog.open(directory: directory.partition, config: config, fileSystem: fileSystem)
        for _ in 0..<3 { try await log.appendDurably(batch) }
        fileSystem.inject(.allocate, errno: ENOSPC)
        #expect(throws: LogError.diskFull(path: directory.partition + "/00000000000000000003.log")) { try log.append(batch) }
        #expect(log.segmentBaseOffsets == [0])
        #expect(!directory.files(in: directory.partition).contains("00000000000000000003.log"), "the half-made segment was removed")
        fileSystem.clear()
        try await log.appendDurably(batch)
        #expect(log.segmentBaseOffsets == [0, 3])
        #expect(try readAll(log).count == 4)
        try log.close()
    }

    @Test func failedFlushTakesTheLogOfflineUntilReopened() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(), fileSystem: fileSystem)
        try await log.appendDurably(makeBatch(tag: "safe"))
        fileSystem.inject(.dataSync, errno: EIO)
        let pending = try log.append(makeBatch(tag: "lost"))
        await #expect { try await log.waitUntilDurable(pending.lastOffset) } throws: { error in
            guard case .failed = error as? LogError else { return false }
            return true
        }
        #expect(throws: LogError.self) { try log.append(makeBatch(tag: "refused")) }
        #expect(log.highWatermark == 3, "readers never saw the unflushed batch")
        #expect(values(try readAll(log)) == ["safe-0", "safe-1", "safe-2"])
        fileSystem.clear()
        #expect(throws: LogError.self) { try log.close() }

        let reopened = try PartitionLog.open(directory: directory.partition, config: testConfig())
        let recovered = values(try readAll(reopened))
        #expect(Array(recovered.prefix(3)) == ["safe-0", "safe-1", "safe-2"])
        try await reopened.appendDurably(makeBatch(tag: "again", records: 1))
        try reopened.close()
    }

    @Test func failedCheckpointWritesAreCountedAndHarmless() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let batch = makeBatch(tag: "c", records: 1, valueBytes: 300)
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: batch.count * 2), fileSystem: fileSystem)
        // Checkpoints are replaced by rename; a failing rename fails every checkpoint write.
        fileSystem.inject(.rename, errno: ENOSPC)
        for _ in 0..<6 { try await log.appendDurably(batch) }  // rolls write checkpoints
        try await log.flushNow()
        #expect(log.checkpointFailures > 0)
        fileSystem.clear()
        try log.close()
        let reopened = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: batch.count * 2))
        #expect(reopened.logEndOffset == 6)
        try reopened.close()
    }
}
