import SpoolLog
import Synchronization
import Testing

@Suite struct DurabilityTests {
    @Test func underAlwaysReadersSeeOnlyFlushedData() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(fsync: .always))
        // Many appends before waiting: one flush may cover several of them (group commit), and the
        // high watermark never passes the durable end.
        var last: Int64 = -1
        for index in 0..<200 {
            last = try log.append(makeBatch(tag: "b\(index)", records: 2)).lastOffset
            #expect(log.highWatermark <= log.durableOffset)
        }
        try await log.waitUntilDurable(last)
        #expect(log.durableOffset == 400)
        #expect(log.highWatermark == 400)
        #expect(values(try readAll(log)).count == 400)
        try log.close()
    }

    @Test func waitersAreWokenInAnyOrder() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        let offsets = try (0..<50).map { try log.append(makeBatch(tag: "w\($0)", records: 1)).lastOffset }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for offset in offsets.reversed() {
                group.addTask { try await log.waitUntilDurable(offset) }
            }
            try await group.waitForAll()
        }
        #expect(log.durableOffset == 50)
        try log.close()
    }

    @Test func intervalPolicyShowsDataAtOnceAndFlushesOnATimer() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(fsync: .interval(milliseconds: 20)))
        try log.append(makeBatch(tag: "i", records: 5))
        #expect(log.highWatermark == 5, "interval: visible before it is flushed")
        var waitedMs = 0
        while log.durableOffset < 5 && waitedMs < 5_000 {
            try await Task.sleep(for: .milliseconds(10))
            waitedMs += 10
        }
        #expect(log.durableOffset == 5, "the timer flushed it")
        try log.close()
    }

    @Test func neverPolicyFlushesOnlyWhenAsked() async throws {
        let directory = TestDirectory()
        let timed = TestDirectory()
        defer {
            directory.remove()
            timed.remove()
        }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(fsync: .never))
        // A log beside it on a 20 ms flush timer: once that timer has flushed, a timer of the
        // `never` log (were there one) would have had its turn too.
        let control = try PartitionLog.open(directory: timed.partition, config: testConfig(fsync: .interval(milliseconds: 20)))
        try log.append(makeBatch(tag: "n", records: 4))
        try control.append(makeBatch(tag: "c", records: 4))
        #expect(log.highWatermark == 4)
        var polls = 0
        while control.durableOffset < 4 && polls < 3_000 {
            try await Task.sleep(for: .milliseconds(10))
            polls += 1
        }
        try #require(control.durableOffset == 4, "the control log's timer flushed")
        #expect(log.durableOffset == 0 && log.flushStatistics.count == 0, "never: no flush by itself")
        try await log.waitUntilDurable(3)
        #expect(log.durableOffset == 4)
        try control.close()
        try log.close()
    }

    @Test func waitingForAnOffsetNotYetAppendedIsAnError() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        await #expect(throws: LogError.offsetOutOfRange(requested: 10, logStart: 0, highWatermark: 0)) {
            try await log.waitUntilDurable(10)
        }
        try log.close()
    }

    @Test func concurrentAppendersGetDisjointOffsets() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 16 << 10))
        let results = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for producer in 0..<8 {
                group.addTask {
                    var bases: [Int64] = []
                    for index in 0..<40 {
                        bases.append(try await log.appendDurably(makeBatch(tag: "p\(producer)-\(index)", records: 2)).baseOffset)
                    }
                    return bases
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(results).count == 320)
        #expect(results.allSatisfy { $0 % 2 == 0 })
        #expect(values(try readAll(log)).count == 640)
        try log.close()
    }
}
