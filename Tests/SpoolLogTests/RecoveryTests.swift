import Foundation
import SpoolFormat
import SpoolLog
import Testing

@Suite struct RecoveryTests {
    /// Appends batches durably and abandons the log without closing it, as a crash would.
    private func writeUnclean(_ path: String, config: LogConfig = testConfig(), batches: Int, records: Int = 3) async throws -> [Int] {
        let log = try PartitionLog.open(directory: path, config: config)
        var positions: [Int] = []
        var position = 0
        for index in 0..<batches {
            let batch = makeBatch(tag: "b\(index)", records: records, valueBytes: 10)
            positions.append(position)
            position += batch.count
            try await log.appendDurably(batch)
        }
        positions.append(position)
        return positions
    }

    private func copy(_ from: String, to: String) throws {
        try? FileManager.default.removeItem(atPath: to)
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }

    /// Bytes from `from` up to the last non-zero byte before `to`: what recovery counts as cut,
    /// since zeros past the data cannot be told apart from allocated space never written.
    private func nonZeroSpan(_ bytes: [UInt8], from: Int, to: Int) -> Int {
        var last = to
        while last > from && bytes[last - 1] == 0 { last -= 1 }
        return last - from
    }

    private func expectedValues(batches: Int, records: Int = 3) -> [String] {
        (0..<batches).flatMap { batch in (0..<records).map { "b\(batch)-\($0)" } }
    }

    @Test func truncationAtEveryByteOfTheLastTwoBatchesRecoversToTheLastWholeBatch() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let source = directory.path + "/source"
        let positions = try await writeUnclean(source, batches: 8)
        let end = positions[8]
        let work = directory.path + "/work"
        let segment = work + "/00000000000000000000.log"
        let original = try directory.read(source + "/00000000000000000000.log")
        for length in positions[6]...end {
            try copy(source, to: work)
            try directory.truncate(segment, to: length)
            let log = try PartitionLog.open(directory: work, config: testConfig())
            let whole = positions.lastIndex { $0 <= length } ?? 0
            #expect(log.logEndOffset == Int64(whole * 3), "cut at byte \(length)")
            #expect(values(try readAll(log)) == expectedValues(batches: whole), "cut at byte \(length)")
            let torn = nonZeroSpan(original, from: positions[whole], to: length)
            #expect((log.recoveryReport.truncation != nil) == (torn > 0), "cut at byte \(length): \(log.recoveryReport)")
            if let truncation = log.recoveryReport.truncation {
                #expect(truncation.bytesCut == torn)
                #expect(truncation.offset == Int64(whole * 3))
                #expect(truncation.position == positions[whole])
            }
            // The recovered log takes appends where it ended, and a reopen finds them.
            try await log.appendDurably(makeBatch(tag: "next", records: 1))
            try log.close()
            let reopened = try PartitionLog.open(directory: work, config: testConfig())
            #expect(values(try readAll(reopened)) == expectedValues(batches: whole) + ["next-0"])
            #expect(reopened.recoveryReport.cleanShutdown)
            try reopened.close()
        }
    }

    @Test func zeroedTailIsCutWithoutCountingItAsData() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let positions = try await writeUnclean(directory.partition, batches: 5)
        let segment = directory.partition + "/00000000000000000000.log"
        var bytes = try directory.read(segment)
        for index in positions[4]..<positions[5] { bytes[index] = 0 }
        try directory.write(segment, bytes)
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        #expect(log.logEndOffset == 12)
        #expect(log.recoveryReport.truncation == nil, "zeros are unwritten space, not data")
        #expect(values(try readAll(log)) == expectedValues(batches: 4))
        try log.close()
    }

    @Test func flippedBitIsCutWithEverythingAfterIt() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let positions = try await writeUnclean(directory.partition, batches: 6)
        let segment = directory.partition + "/00000000000000000000.log"
        var bytes = try directory.read(segment)
        bytes[positions[3] + 70] ^= 0x04  // inside batch 3's records
        let damaged = nonZeroSpan(bytes, from: positions[3], to: positions[6])
        try directory.write(segment, bytes)
        // Without a checkpoint past batch 3, recovery verifies every batch from the start.
        try FileManager.default.removeItem(atPath: directory.partition + "/recovery-point")
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        #expect(log.logEndOffset == 9)
        let truncation = try #require(log.recoveryReport.truncation)
        #expect(truncation.reason.contains("CRC"))
        #expect(truncation.position == positions[3])
        #expect(truncation.bytesCut == damaged)
        #expect(values(try readAll(log)) == expectedValues(batches: 3))
        try log.close()
    }

    @Test func garbageAfterTheLastBatchIsCut() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let positions = try await writeUnclean(directory.partition, batches: 3)
        let segment = directory.partition + "/00000000000000000000.log"
        let original = try directory.read(segment)
        var bytes = Array(original[0..<positions[3]])
        bytes += [0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 200, 0xAB, 0xCD]  // a plausible-looking header start
        try directory.write(segment, bytes)
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        #expect(log.logEndOffset == 9)
        #expect(log.recoveryReport.truncation?.bytesCut == 14)
        try log.close()
        #expect(directory.size(of: segment) == positions[3], "the garbage is gone from the file too")
    }

    @Test func corruptionInAnEarlierSegmentDeletesTheLaterOnes() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let config = testConfig(segmentBytes: 1024)
        _ = try await writeUnclean(directory.partition, config: config, batches: 40)
        let bases = try PartitionLog.open(directory: directory.partition, config: config).segmentBaseOffsets
        #expect(bases.count >= 4)
        let victim = directory.partition + "/" + String(repeating: "0", count: 20 - String(bases[1]).count) + "\(bases[1]).log"
        var bytes = try directory.read(victim)
        bytes[bytes.count - 5] ^= 0xFF
        try directory.write(victim, bytes)
        try FileManager.default.removeItem(atPath: directory.partition + "/recovery-point")
        let log = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(log.recoveryReport.segmentsDeleted == Array(bases[2...]))
        #expect(log.segmentBaseOffsets == [bases[0], bases[1]])
        #expect(log.logEndOffset < bases[2])
        #expect(log.logEndOffset >= bases[1])
        let kept = values(try readAll(log))
        #expect(kept == Array(expectedValues(batches: 40).prefix(kept.count)))
        try log.close()
    }

    @Test func aSealedSegmentNotYetTrimmedKeepsTheSegmentsAfterIt() async throws {
        // A roll leaves the old segment to the flusher to trim; a process that dies first leaves it
        // ending in preallocated zeros while appends went on in the next segments. Recovery trims
        // it and keeps every segment after it.
        let directory = TestDirectory()
        defer { directory.remove() }
        let config = testConfig(segmentBytes: 1024)
        _ = try await writeUnclean(directory.partition, config: config, batches: 40)
        let opened = try PartitionLog.open(directory: directory.partition, config: config)
        let (bases, end) = (opened.segmentBaseOffsets, opened.logEndOffset)
        try opened.close()
        #expect(bases.count >= 4)
        let sealed = directory.partition + "/" + String(repeating: "0", count: 20 - String(bases[1]).count) + "\(bases[1]).log"
        let size = directory.size(of: sealed)
        try directory.truncate(sealed, to: size + 4096)
        try FileManager.default.removeItem(atPath: directory.partition + "/recovery-point")
        let log = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(log.recoveryReport.segmentsDeleted.isEmpty, "\(log.recoveryReport)")
        #expect(log.recoveryReport.truncation == nil)
        #expect(log.segmentBaseOffsets == bases)
        #expect(log.logEndOffset == end)
        #expect(values(try readAll(log)) == expectedValues(batches: 40))
        try log.close()
        #expect(directory.size(of: sealed) == size, "the zeros are trimmed")
    }

    @Test func missingAndDamagedIndexesAreRebuilt() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let config = testConfig(segmentBytes: 2048)
        let log = try PartitionLog.open(directory: directory.partition, config: config)
        for index in 0..<60 { try await log.appendDurably(makeBatch(tag: "b\(index)", records: 3, valueBytes: 10, timestamp: 1_000 * Int64(index))) }
        let bases = log.segmentBaseOffsets
        try #require(bases.count >= 3)
        let middle = try log.read(from: 100, maxBytes: 1).slice.bytes
        let byTime = try log.offset(forTimestamp: 33_000)
        try log.close()

        func path(_ base: Int64, _ suffix: String) -> String {
            directory.partition + "/" + String(repeating: "0", count: 20 - String(base).count) + "\(base)" + suffix
        }
        try FileManager.default.removeItem(atPath: path(bases[0], ".index"))
        try directory.write(path(bases[1], ".index"), [1, 2, 3])  // not a whole entry
        try directory.write(path(bases[2], ".index"), [0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF])  // position past the file
        try FileManager.default.removeItem(atPath: path(bases[1], ".timeindex"))

        let reopened = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(Set(reopened.recoveryReport.indexesRebuilt).isSuperset(of: [bases[0], bases[1], bases[2]]))
        #expect(reopened.recoveryReport.truncation == nil)
        #expect(try reopened.read(from: 100, maxBytes: 1).slice.bytes == middle)
        #expect(try reopened.offset(forTimestamp: 33_000) == byTime)
        #expect(values(try readAll(reopened)) == expectedValues(batches: 60))
        try reopened.close()
        #expect(directory.size(of: path(bases[0], ".index")) > 0, "the rebuilt index was written")
    }

    @Test func recoveryScansOnlyPastTheCheckpoint() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let config = testConfig(segmentBytes: 2048)
        let log = try PartitionLog.open(directory: directory.partition, config: config)
        for index in 0..<40 { try await log.appendDurably(makeBatch(tag: "b\(index)", records: 3, valueBytes: 10)) }
        try log.close()
        let segmentsBefore = log.segmentBaseOffsets.count
        _ = try await writeUnclean(directory.partition, config: config, batches: 3)
        let reopened = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(!reopened.recoveryReport.cleanShutdown)
        #expect(reopened.recoveryReport.recoveryPoint != nil)
        #expect(reopened.recoveryReport.segmentsScanned <= 2, "\(reopened.recoveryReport)")
        #expect(reopened.segmentBaseOffsets.count >= segmentsBefore)
        #expect(reopened.logEndOffset == 129)
        try reopened.close()
    }

    @Test func strayFilesAreTidiedAndUnknownOnesLeftAlone() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        try await log.appendDurably(makeBatch(tag: "a"))
        try log.close()
        try directory.write(directory.partition + "/00000000000000000099.index", [0, 0, 0, 1])
        try directory.write(directory.partition + "/recovery-point.tmp", [1])
        try directory.write(directory.partition + "/notes.txt", Array("operator notes".utf8))
        let reopened = try PartitionLog.open(directory: directory.partition, config: testConfig())
        let files = directory.files(in: directory.partition)
        #expect(!files.contains("00000000000000000099.index"))
        #expect(!files.contains("recovery-point.tmp"))
        #expect(files.contains("notes.txt"))
        #expect(values(try readAll(reopened)) == ["a-0", "a-1", "a-2"])
        try reopened.close()
    }

    @Test func aCorruptCheckpointMeansAFullScan() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        // The abandoned log must not checkpoint again after the file is corrupted below.
        var config = testConfig()
        config.recoveryCheckpointIntervalMs = 3_600_000
        _ = try await writeUnclean(directory.partition, config: config, batches: 4)
        try directory.write(directory.partition + "/recovery-point", [UInt8](repeating: 0x5A, count: 40))
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        #expect(log.recoveryReport.recoveryPoint == nil)
        #expect(log.recoveryReport.batchesScanned == 4)
        #expect(log.logEndOffset == 12)
        try log.close()
    }
}
