import SpoolFormat
import SpoolLog
import Testing

@Suite struct RollAndRetentionTests {
    @Test func rollsWhenTheNextBatchWouldNotFit() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let batch = makeBatch(tag: "r", records: 1, valueBytes: 200)
        let perSegment = 4
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: batch.count * perSegment))
        for _ in 0..<perSegment { try await log.appendDurably(batch) }
        #expect(log.segmentBaseOffsets == [0], "exactly full: no roll yet")
        try await log.appendDurably(batch)
        #expect(log.segmentBaseOffsets == [0, 4], "one byte over: the new batch starts segment 4")
        for _ in 0..<(perSegment * 2 - 1) { try await log.appendDurably(batch) }
        #expect(log.segmentBaseOffsets == [0, 4, 8])
        #expect(log.logEndOffset == 12)
        #expect(try readAll(log).count == 12)
        try log.close()
    }

    /// Timestamps are the producer's: one far before the segment's first (Int64.min) is taken
    /// as it is, not an overflow that stops the broker.
    @Test func aBatchTimestampFarBeforeTheFirstDoesNotTrap() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        var config = testConfig()
        config.segmentMs = 60_000
        let log = try PartitionLog.open(directory: directory.partition, config: config)
        try await log.appendDurably(makeBatch(tag: "a", records: 1, timestamp: 1_000))
        try await log.appendDurably(makeBatch(tag: "b", records: 1, timestamp: Int64.min))
        try await log.appendDurably(makeBatch(tag: "c", records: 1, timestamp: Int64.max))
        #expect(log.logEndOffset == 3)
        #expect(try readAll(log).count == 3)
        try log.close()
    }

    @Test func rollsByAge() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        var config = testConfig()
        config.segmentMs = 60_000
        let log = try PartitionLog.open(directory: directory.partition, config: config, clock: clock.read)
        // The roll clock starts at the first batch's timestamp.
        try await log.appendDurably(makeBatch(tag: "a", records: 1, timestamp: clock.milliseconds))
        clock.advance(by: 59_999)
        try await log.appendDurably(makeBatch(tag: "b", records: 1, timestamp: clock.milliseconds))
        #expect(log.segmentBaseOffsets == [0])
        clock.advance(by: 1)
        try await log.appendDurably(makeBatch(tag: "c", records: 1, timestamp: clock.milliseconds))
        #expect(log.segmentBaseOffsets == [0, 2])
        try log.close()
    }

    @Test func retentionBySizeDeletesWholeSegmentsFromTheFront() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let batch = makeBatch(tag: "s", records: 2, valueBytes: 200)
        var config = testConfig(segmentBytes: batch.count * 2)
        config.retentionBytes = Int64(batch.count * 5)
        config.retentionMs = nil
        let log = try PartitionLog.open(directory: directory.partition, config: config)
        for _ in 0..<10 { try await log.appendDurably(batch) }
        #expect(log.segmentBaseOffsets == [0, 4, 8, 12, 16])
        let outcome = try log.enforceRetention()
        // 10 batches held; keep at least retention.bytes (5 batches): segments of 2 batches go
        // while what remains stays ≥ the limit.
        #expect(outcome.deletedSegments == [0, 4])
        #expect(outcome.logStartOffset == 8)
        #expect(log.logStartOffset == 8)
        #expect(log.sizeInBytes == batch.count * 6)
        #expect(throws: LogError.offsetOutOfRange(requested: 7, logStart: 8, highWatermark: 20)) {
            try log.read(from: 7, maxBytes: 100)
        }
        #expect(try log.read(from: 8, maxBytes: 100).slice.count == batch.count)
        #expect(!directory.files(in: directory.partition).contains("00000000000000000000.log"))
        #expect(!directory.files(in: directory.partition).contains("00000000000000000000.index"))
        #expect(try log.enforceRetention().deletedSegments.isEmpty, "a second pass has nothing to do")
        try log.close()

        let reopened = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(reopened.logStartOffset == 8)
        #expect(reopened.logEndOffset == 20)
        try reopened.close()
    }

    @Test func retentionByTimeUsesTheNewestRecordOfEachSegment() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        var config = testConfig(segmentBytes: 1500)
        config.retentionMs = 3_600_000
        config.segmentMs = nil
        let log = try PartitionLog.open(directory: directory.partition, config: config, clock: clock.read)
        let start = clock.milliseconds
        for index in 0..<12 {
            try await log.appendDurably(makeBatch(tag: "t\(index)", records: 1, valueBytes: 300, timestamp: start + Int64(index) * 600_000))
        }
        // Four 370-byte batches per 1500-byte segment: segments 0, 4 and 8, ten minutes a batch.
        #expect(log.segmentBaseOffsets == [0, 4, 8])
        // Now the first segment's newest record (batch 3, +30 min) is 70 minutes old, the second's
        // (batch 7, +70 min) 30 minutes.
        clock.advance(by: 100 * 60_000)
        let outcome = try log.enforceRetention()
        #expect(outcome.deletedSegments == [0])
        #expect(log.logStartOffset == 4)
        clock.advance(by: 10 * 60_000)
        #expect(try log.enforceRetention().deletedSegments.isEmpty, "segment 4 is 40 minutes old: kept")
        clock.advance(by: 21 * 60_000)
        #expect(try log.enforceRetention().deletedSegments == [4])
        #expect(values(try readAll(log)).first == "t8-0")
        try log.close()
    }

    @Test func retentionNeverDeletesTheActiveSegmentButRollsItWhenExpired() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        var config = testConfig()
        config.retentionMs = 1000
        let log = try PartitionLog.open(directory: directory.partition, config: config, clock: clock.read)
        try await log.appendDurably(makeBatch(tag: "old", records: 3, timestamp: clock.milliseconds))
        clock.advance(by: 5000)
        #expect(try log.enforceRetention().deletedSegments.isEmpty)
        #expect(log.segmentBaseOffsets == [0, 3], "the expired active segment was rolled")
        try await log.flushNow()
        #expect(try log.enforceRetention().deletedSegments == [0])
        #expect(log.logStartOffset == 3)
        #expect(log.logEndOffset == 3)
        #expect(try log.read(from: 3, maxBytes: 100).slice.isEmpty)
        try await log.appendDurably(makeBatch(tag: "new", records: 1, timestamp: clock.milliseconds))
        #expect(values(try readAll(log)) == ["new-0"])
        try log.close()
    }

    /// A producer's batch whose record timestamp overflows (base near Int64.max, positive delta)
    /// is valid, so it is stored; looking offsets up by time through it used to trap and take the
    /// broker down with it (a ListOffsets request away). Now the timestamp wraps, as in Kafka.
    @Test func findsOffsetsByTimestampPastABatchWhoseTimestampsOverflow() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        try await log.appendDurably(makeBatch(tag: "before", records: 2, timestamp: 1_000))
        var crafted = RecordBatch(producing: [ProducerRecord(value: Array("wraps".utf8), timestamp: Int64.max - 1),
                                              ProducerRecord(value: Array("max".utf8), timestamp: Int64.max)])
        crafted.records[0].timestampDelta = 5  // base + 5 wraps to a large negative timestamp
        try await log.appendDurably(crafted.encoded())
        #expect(try log.offset(forTimestamp: 2_000) == 3, "the wrapped record is older than anything; the next one is found")
        #expect(try log.offset(forTimestamp: Int64.max) == 3)
        try log.close()
    }

    @Test func findsOffsetsByTimestamp() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 4096))
        let base: Int64 = 1_800_000_000_000
        // Batch i holds records at base + 100*i + {0, 1, 2}.
        for index in 0..<60 {
            try await log.appendDurably(makeBatch(tag: "t\(index)", records: 3, valueBytes: 20, timestamp: base + Int64(index) * 100))
        }
        #expect(log.segmentBaseOffsets.count > 2)
        #expect(try log.offset(forTimestamp: 0) == 0)
        #expect(try log.offset(forTimestamp: base) == 0)
        #expect(try log.offset(forTimestamp: base + 1) == 1)
        #expect(try log.offset(forTimestamp: base + 3) == 3, "between batches: the next batch's first record")
        #expect(try log.offset(forTimestamp: base + 2_501) == 76)
        #expect(try log.offset(forTimestamp: base + 5_902) == 179)
        #expect(try log.offset(forTimestamp: base + 5_903) == nil)
        try log.close()
        let reopened = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 4096))
        #expect(try reopened.offset(forTimestamp: base + 2_501) == 76, "time indexes survive a reopen")
        try reopened.close()
    }

    /// Recovery cuts a log at a hole in its run of segments, so retention removes segments front
    /// first and makes each removal durable before the next: a power cut leaves a suffix of them.
    @Test func retentionRemovesSegmentsFrontFirstAndSyncsTheDirectoryAfterEach() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let fileSystem = FaultInjectingFileSystem()
        let batch = makeBatch(tag: "r", records: 1, valueBytes: 200)
        var config = testConfig(segmentBytes: batch.count * 2)
        let log = try PartitionLog.open(directory: directory.partition, config: config, fileSystem: fileSystem)
        for _ in 0..<8 { try await log.appendDurably(batch) }
        #expect(log.segmentBaseOffsets == [0, 2, 4, 6])
        fileSystem.journal.withLock { $0.removeAll() }
        config.retentionBytes = Int64(batch.count * 2)
        try log.updateConfig(config)
        let outcome = try log.enforceRetention()
        #expect(outcome.deletedSegments == [0, 2, 4])
        // Other directory syncs (the recovery checkpoint) may come in between; what matters is the
        // order of the removals and a sync after each segment's, before the next segment's.
        let journal = fileSystem.journal.withLock { $0 }.filter { $0.hasPrefix("remove 0") || $0 == "sync" }
        let names = [0, 2, 4].map { String(format: "%020d", $0) }
        #expect(journal.filter { $0 != "sync" } == names.flatMap { ["remove \($0).log", "remove \($0).index", "remove \($0).timeindex"] })
        for name in names {
            let last = try #require(journal.lastIndex(of: "remove \(name).timeindex"))
            let nextRemoval = journal[(last + 1)...].firstIndex { $0 != "sync" } ?? journal.endIndex
            #expect(journal[(last + 1)..<nextRemoval].contains("sync"), "segment \(name) removed durably before the next")
        }
        try log.close()
    }
}
