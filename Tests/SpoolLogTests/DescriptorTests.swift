import Foundation
import SpoolFormat
import SpoolLog
import Testing

/// A partition keeps descriptors for its active segment only: sealed segments are read through
/// their mappings. Otherwise a broker with many partitions, each with many segments, runs out of
/// descriptors (and a process out of descriptors can be brought down by the runtime's own file
/// opens, not just fail a request).
@Suite struct DescriptorTests {
    /// Descriptors of this process open on segment files (logs and indexes) under `directory`.
    static func openFiles(under directory: String) -> [String] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
            .filter { path in path.hasPrefix(directory + "/") && [".log", ".index", ".timeindex"].contains { path.hasSuffix($0) } }
    }

    @Test func sealedSegmentsHoldNoDescriptorsAndStayReadable() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let batch = makeBatch(tag: "d", records: 1, valueBytes: 200)
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: batch.count * 2))
        for _ in 0..<40 { try await log.appendDurably(batch) }
        #expect(log.segmentBaseOffsets.count == 20)
        let open = Self.openFiles(under: directory.partition)
        #expect(open.count == 3, "the active segment's log and two indexes only: \(open)")
        #expect(open.allSatisfy { $0.contains("00000000000000000038") }, "\(open)")
        // Sealed segments are still read, by offset and by time.
        let batches = try readAll(log)
        #expect(batches.count == 40)
        #expect(batches.map(\.baseOffset) == (0..<40).map { Int64($0) })
        #expect(try log.offset(forTimestamp: 0) == 0)
        try log.close()
        #expect(Self.openFiles(under: directory.partition).isEmpty, "close releases every descriptor")
    }

    @Test func aReopenedLogHoldsDescriptorsForItsActiveSegmentOnly() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let batch = makeBatch(tag: "r", records: 1, valueBytes: 200)
        let config = testConfig(segmentBytes: batch.count * 2)
        do {
            let log = try PartitionLog.open(directory: directory.partition, config: config)
            for _ in 0..<21 { try await log.appendDurably(batch) }
            try log.close()
        }
        // A clean reopen trusts the sealed segments; an unclean one scans what follows the
        // checkpoint. Either way only the last segment keeps its files open, and it takes appends.
        let log = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(Self.openFiles(under: directory.partition).count == 3)
        for _ in 0..<3 { try await log.appendDurably(batch) }
        #expect(try readAll(log).count == 24)
        #expect(Self.openFiles(under: directory.partition).count == 3)
        try log.close()
    }

    @Test func aScannedSegmentThatBecomesLastAfterACutTakesAppends() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let batch = makeBatch(tag: "c", records: 1, valueBytes: 200)
        let config = testConfig(segmentBytes: batch.count * 2)
        do {
            let log = try PartitionLog.open(directory: directory.partition, config: config)
            for _ in 0..<10 { try await log.appendDurably(batch) }
            try log.close()
        }
        // Segments 0, 2, 4, 6, 8: remove segment 4's log, so recovery cuts after segment 2 (a gap),
        // and remove the checkpoint so that every segment is scanned, not trusted.
        try FileManager.default.removeItem(atPath: directory.partition + "/00000000000000000004.log")
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.partition) where name == "recovery-point" {
            try FileManager.default.removeItem(atPath: directory.partition + "/" + name)
        }
        let log = try PartitionLog.open(directory: directory.partition, config: config)
        #expect(log.logEndOffset == 4)
        #expect(log.segmentBaseOffsets == [0, 2])
        try await log.appendDurably(batch)
        #expect(log.logEndOffset == 5)
        #expect(try readAll(log).count == 5)
        #expect(Self.openFiles(under: directory.partition).count == 3, "\(Self.openFiles(under: directory.partition)) \(log.segmentBaseOffsets)")
        try log.close()
    }
}
