import SpoolFormat
import SpoolLog
import Testing

@Suite struct PartitionLogTests {
    @Test func appendAssignsContiguousOffsetsAndReadReturnsTheBatches() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        var expected: [String] = []
        for index in 0..<20 {
            let records = index % 4 + 1
            let result = try await log.appendDurably(makeBatch(tag: "b\(index)", records: records))
            #expect(result.baseOffset == Int64(expected.count))
            #expect(result.lastOffset == Int64(expected.count + records - 1))
            expected += (0..<records).map { "b\(index)-\($0)" }
        }
        #expect(log.logEndOffset == Int64(expected.count))
        #expect(log.highWatermark == log.logEndOffset)
        let batches = try readAll(log)
        #expect(values(batches) == expected)
        // Offsets were written into the stored bytes, and every stored batch still validates.
        var next: Int64 = 0
        for batch in batches {
            #expect(batch.baseOffset == next)
            next += Int64(batch.lastOffsetDelta) + 1
        }
        try log.close()
    }

    @Test func readFromTheMiddleOfABatchStartsAtThatBatch() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        for index in 0..<50 { try await log.appendDurably(makeBatch(tag: "b\(index)", records: 3, valueBytes: 40)) }
        for offset: Int64 in [0, 1, 2, 3, 77, 149] {
            let result = try log.read(from: offset, maxBytes: 1)
            var headers: [RecordBatchHeader] = []
            try result.slice.forEachBatch { headers.append(try RecordBatchHeader(parsing: $0)) }
            #expect(headers.count == 1, "maxBytes 1 still returns one whole batch")
            #expect(headers.first.map { $0.baseOffset <= offset && $0.lastOffset >= offset } == true)
        }
        let wide = try log.read(from: 0, maxBytes: 1 << 20)
        #expect(wide.highWatermark == 150)
        #expect(wide.logStartOffset == 0)
        #expect(try log.read(from: 150, maxBytes: 100).slice.isEmpty)
        try log.close()
    }

    @Test func readsOutsideTheLogAreOutOfRange() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        try await log.appendDurably(makeBatch(tag: "a"))
        #expect(throws: LogError.offsetOutOfRange(requested: 4, logStart: 0, highWatermark: 3)) {
            try log.read(from: 4, maxBytes: 100)
        }
        #expect(throws: LogError.offsetOutOfRange(requested: -1, logStart: 0, highWatermark: 3)) {
            try log.read(from: -1, maxBytes: 100)
        }
        try log.close()
    }

    @Test func invalidAndOversizedBatchesAreRejectedAndNothingChanges() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        var config = testConfig()
        config.maxBatchBytes = 2048
        let log = try PartitionLog.open(directory: directory.partition, config: config)
        try await log.appendDurably(makeBatch(tag: "good"))

        var corrupt = makeBatch(tag: "bad")
        corrupt[corrupt.count - 1] ^= 0xFF
        #expect { try log.append(corrupt) } throws: { error in
            guard case .invalidBatch(.crcMismatch) = error as? LogError else { return false }
            return true
        }
        #expect { try log.append(Array(makeBatch(tag: "short").dropLast(3))) } throws: { error in
            guard case .invalidBatch(.lengthMismatch) = error as? LogError else { return false }
            return true
        }
        #expect { try log.append([UInt8](repeating: 0, count: 10)) } throws: { error in
            guard case .invalidBatch(.truncated) = error as? LogError else { return false }
            return true
        }
        let big = makeBatch(tag: "big", records: 1, valueBytes: 3000)
        #expect(throws: LogError.batchTooLarge(bytes: big.count, limit: 2048)) { try log.append(big) }

        #expect(log.logEndOffset == 3)
        #expect(values(try readAll(log)) == ["good-0", "good-1", "good-2"])
        try log.close()
    }

    @Test func closedLogRefusesWork() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        try log.close()
        #expect(throws: LogError.closed) { try log.append(makeBatch(tag: "late")) }
        #expect(throws: LogError.closed) { try log.read(from: 0, maxBytes: 10) }
        try log.close()  // closing twice is harmless
    }

    @Test func cleanReopenKeepsEverythingWithoutScanning() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        var log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 1024))
        for index in 0..<40 { try await log.appendDurably(makeBatch(tag: "b\(index)", records: 2, valueBytes: 30)) }
        let segments = log.segmentBaseOffsets
        #expect(segments.count > 3)
        try log.close()

        log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 1024))
        #expect(log.recoveryReport.cleanShutdown)
        #expect(log.recoveryReport.segmentsScanned == 0)
        #expect(log.recoveryReport.truncation == nil)
        #expect(log.segmentBaseOffsets == segments)
        #expect(log.logEndOffset == 80)
        #expect(values(try readAll(log)) == (0..<40).flatMap { ["b\($0)-0", "b\($0)-1"] })
        try await log.appendDurably(makeBatch(tag: "after", records: 1))
        #expect(log.logEndOffset == 81)
        try log.close()
    }

    @Test func segmentFilesUseKafkaNames() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 2048))
        for index in 0..<12 { try await log.appendDurably(makeBatch(tag: "b\(index)", records: 2, valueBytes: 100)) }
        try log.close()
        let files = directory.files(in: directory.partition)
        #expect(files.contains("00000000000000000000.log"))
        #expect(files.contains("00000000000000000000.index"))
        #expect(files.contains("00000000000000000000.timeindex"))
        #expect(files.contains("recovery-point"))
        let logs = files.filter { $0.hasSuffix(".log") }
        #expect(logs.count == log.segmentBaseOffsets.count)
        #expect(logs.allSatisfy { $0.count == 24 })
        // Closed segments are trimmed to their real length.
        #expect(directory.size(of: directory.partition + "/" + logs[0]) <= 2048)
    }

    @Test func invalidConfigIsRejected() throws {
        var config = LogConfig()
        config.segmentBytes = 10
        #expect { try PartitionLog.open(directory: "/nonexistent/never", config: config) } throws: { error in
            guard case .invalidConfig = error as? LogError else { return false }
            return true
        }
        #expect(throws: LogError.self) { try FsyncPolicy(parsing: "sometimes") }
        #expect(throws: LogError.self) { try FsyncPolicy(parsing: "interval=0") }
        #expect(try FsyncPolicy(parsing: "interval=25") == .interval(milliseconds: 25))
        #expect(try FsyncPolicy(parsing: "always") == .always)
        #expect(try FsyncPolicy(parsing: "never") == .never)
    }
}
