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
}
