import Glibc
import SpoolFormat
import SpoolLog
import Testing

/// Pages of a segment's mapping that reads, writes and recovery touched must not stay in the
/// process's resident memory: a 10 GB log read once would otherwise leave 10 GB "resident".
@Suite struct ResidencyTests {
    static let logBytes = 16 << 20

    /// A log of `logBytes` in 64 KiB batches, all durable.
    private func fill(_ log: PartitionLog) async throws {
        let batch = makeBatch(tag: "r", records: 16, valueBytes: 4000)
        for _ in 0..<(Self.logBytes / batch.count) { _ = try log.append(batch) }
        try await log.waitUntilDurable(log.logEndOffset - 1)
    }

    @Test func readingTheWholeLogLeavesLittleOfItMapped() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 64 << 20))
        try await fill(log)
        var next: Int64 = 0
        var mapping: UInt = 0
        var checksum: UInt64 = 0
        while next < log.highWatermark {
            let slice = try log.read(from: next, maxBytes: 1 << 20).slice
            try slice.forEachBatch { bytes in
                for byte in bytes { checksum &+= UInt64(byte) }
                next = try RecordBatchHeader(parsing: bytes).nextOffset
            }
            slice.withUnsafeBytes { mapping = UInt(bitPattern: $0.baseAddress) - UInt(slice.range.lowerBound) }
        }
        #expect(checksum > 0)
        let resident = try #require(residentBytes(ofMappingAt: mapping))
        #expect(resident <= 4 << 20, "\(resident) bytes of a \(Self.logBytes)-byte log still mapped after reading it")
        try log.close()
    }

    @Test func recoveryScanLeavesLittleOfTheLogMapped() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let config = testConfig(segmentBytes: 64 << 20)
        let crashed = try PartitionLog.open(directory: directory.partition, config: config)
        try await fill(crashed)
        // Not closed: the next open finds an unclean shutdown and scans (and CRC-checks) the log.
        let recovered = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(recovered.recoveryReport.bytesScanned > 0)
        let slice = try recovered.read(from: 0, maxBytes: 1).slice
        let mapping = slice.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) - UInt(slice.range.lowerBound) }
        let resident = try #require(residentBytes(ofMappingAt: mapping))
        #expect(resident <= 1 << 20, "\(resident) bytes of a \(Self.logBytes)-byte log still mapped after recovery")
        try recovered.close()
        try? crashed.close()
    }

    /// The Rss of the mapping that starts at `address`, from /proc/self/smaps.
    private func residentBytes(ofMappingAt address: UInt) -> Int? {
        guard let text = procFileText("/proc/self/smaps") else { return nil }
        var inMapping = false
        for line in text.split(separator: "\n") {
            // A mapping's header line starts "start-end perms ..."; its fields follow as "Name: value kB".
            let range = line.prefix { $0 != " " }.split(separator: "-")
            if range.count == 2, let start = UInt(range[0], radix: 16), UInt(range[1], radix: 16) != nil {
                inMapping = start == address
            } else if inMapping, line.hasPrefix("Rss:") {
                return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]).map { $0 * 1024 }
            }
        }
        return nil
    }
}
