import Foundation
import SpoolFormat
import SpoolLog
import Testing

@Suite struct LiveConfigTests {
    @Test func aSmallerSegmentSizeRollsTheActiveSegmentAtOnce() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let batch = makeBatch(tag: "s", records: 1, valueBytes: 200)
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 64 << 10))
        for _ in 0..<4 { try await log.appendDurably(batch) }
        #expect(log.segmentBaseOffsets == [0])
        var config = log.config
        config.segmentBytes = batch.count * 2
        try log.updateConfig(config)
        #expect(log.config.segmentBytes == batch.count * 2)
        try await log.appendDurably(batch)
        #expect(log.segmentBaseOffsets == [0, 4], "the active segment is past the new size: the next batch rolls")
        for _ in 0..<2 { try await log.appendDurably(batch) }
        #expect(log.segmentBaseOffsets == [0, 4, 6])
        // Growing past the size the active segment was mapped with rolls at the mapping's end.
        config.segmentBytes = 1 << 20
        try log.updateConfig(config)
        for _ in 0..<3 { try await log.appendDurably(batch) }
        #expect(log.segmentBaseOffsets == [0, 4, 6, 8])
        #expect(try readAll(log).count == 10)
        try log.close()
    }

    @Test func retentionAndTheBatchLimitChangeWithoutARestart() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let batch = makeBatch(tag: "r", records: 1, valueBytes: 200)
        var initial = testConfig(segmentBytes: batch.count * 2)
        // The test batches carry 2023 timestamps: keep retention by time out of the way.
        initial.retentionMs = nil
        let log = try PartitionLog.open(directory: directory.partition, config: initial)
        for _ in 0..<6 { try await log.appendDurably(batch) }
        #expect(log.segmentBaseOffsets == [0, 2, 4])
        #expect(try log.enforceRetention().deletedSegments == [])
        var config = log.config
        config.retentionBytes = Int64(batch.count * 2)
        config.maxBatchBytes = 100
        try log.updateConfig(config)
        #expect(try log.enforceRetention().deletedSegments == [0, 2])
        #expect(log.batchBytesLimit == 100)
        #expect(throws: LogError.batchTooLarge(bytes: batch.count, limit: 100)) { try log.append(batch) }
        try log.close()
    }

    @Test func theFsyncPolicyAndBadValuesAreRefusedAndChangeNothing() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        let before = log.config
        var config = before
        config.fsync = .never
        #expect(throws: LogError.self) { try log.updateConfig(config) }
        config = before
        config.segmentBytes = 10
        #expect(throws: LogError.self) { try log.updateConfig(config) }
        #expect(log.config == before)
        try log.close()
        #expect(throws: LogError.closed) { try log.updateConfig(before) }
    }

    @Test func aRebuildUnderASmallerIndexSizeDoesNotRunOutOfEntries() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        var config = testConfig(segmentBytes: 1 << 20)
        config.indexIntervalBytes = 1 << 20
        let log = try PartitionLog.open(directory: directory.partition, config: config)
        for _ in 0..<50 { _ = try log.append(makeBatch(tag: "i", records: 1)) }
        try log.close()
        // The index is lost and the topic's index settings shrank meanwhile: the rebuild indexes
        // every batch into an index sized for a handful.
        try FileManager.default.removeItem(atPath: directory.partition + "/00000000000000000000.index")
        config.indexIntervalBytes = 0
        config.indexBytesMax = 48
        let reopened = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(reopened.logEndOffset == 50)
        #expect(try readAll(reopened).count == 50)
        try reopened.close()
    }

    /// A larger `segment.bytes` raises the batch limit at once, so the next batch may be larger
    /// than the empty active segment's mapping: that segment, which never rolls, is mapped again
    /// (this trapped the broker: AlterConfigs, then one Produce).
    @Test func aBatchLargerThanTheEmptyActiveSegmentsMappingIsTakenAfterSegmentBytesGrew() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 4096))
        var config = log.config
        config.segmentBytes = 1 << 20
        try log.updateConfig(config)
        let big = makeBatch(tag: "big", records: 2, valueBytes: 4 << 10)
        #expect(big.count > 8 << 10)
        #expect(try await log.appendDurably(big).baseOffset == 0)
        #expect(log.segmentBaseOffsets == [0])
        // The segment is mapped for the new size, not just for the one batch.
        try await log.appendDurably(makeBatch(tag: "next", records: 1))
        #expect(log.segmentBaseOffsets == [0])
        #expect(values(try readAll(log)) == ["big-0", "big-1", "next-0"])
        try log.close()
        let reopened = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(values(try readAll(reopened)) == ["big-0", "big-1", "next-0"])
        try reopened.close()
    }

    /// A batch passes the limit of the config it came under; when `segment.bytes` shrinks while it
    /// waits to roll, the new segment, created under the smaller size, still takes it.
    @Test func aBatchCheckedBeforeSegmentBytesShrankFitsTheSegmentItRollsTo() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let disk = FaultInjectingFileSystem()
        let big = makeBatch(tag: "big", records: 2, valueBytes: 4 << 10)
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: big.count + 100, fsync: .never),
                                        fileSystem: disk)
        defer { try? log.close() }
        try log.append(makeBatch(tag: "first", records: 1, valueBytes: 200))
        // The roll gives the old segment's last time index entry room first (an fallocate): the
        // disk holds it there, after the batch was checked and before the new segment is made.
        let (_, appended) = try disk.append(big, to: log, holding: .allocation) { waiting in
            #expect(waiting == 1, "the roll waits at the gate")
            var config = log.config
            config.segmentBytes = 4096
            try log.updateConfig(config)
        }
        #expect(appended.finished)
        #expect(appended.baseOffset == 1)
        #expect(log.segmentBaseOffsets == [0, 1])
        #expect(values(try readAll(log)) == ["first-0", "big-0", "big-1"])
    }

    /// Whether a batch gets an index entry is decided once, when its room is allocated: an
    /// `index.interval.bytes` changed while the batch is written must not make its commit write
    /// an entry into index space never allocated (a SIGBUS through the mapping).
    @Test func anIndexIntervalChangedWhileABatchIsWrittenLeavesThatBatchAsItsReservationDecided() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let disk = FaultInjectingFileSystem()
        var config = testConfig(segmentBytes: 1 << 20, fsync: .never)
        config.indexIntervalBytes = 1 << 20
        let log = try PartitionLog.open(directory: directory.partition, config: config, fileSystem: disk)
        defer { try? log.close() }
        try log.append(makeBatch(tag: "first", records: 1))
        // Large enough for pwrite, which the disk holds while the interval drops to 0.
        let big = makeBatch(tag: "big", records: 2, valueBytes: 4 << 10)
        let (_, appended) = try disk.append(big, to: log, holding: .write) { waiting in
            #expect(waiting == 1, "the big batch's pwrite waits at the gate")
            config.indexIntervalBytes = 0
            try log.updateConfig(config)
        }
        #expect(appended.finished)
        #expect(appended.baseOffset == 1)
        // The next batch is indexed under the new interval, with room allocated for its entry.
        try log.append(makeBatch(tag: "after", records: 1))
        #expect(values(try readAll(log)) == ["first-0", "big-0", "big-1", "after-0"])
        #expect(values(try readAll(log, from: 3)) == ["after-0"])
        try log.close()
        let reopened = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(values(try readAll(reopened, from: 3)) == ["after-0"])
        try reopened.close()
    }
}
