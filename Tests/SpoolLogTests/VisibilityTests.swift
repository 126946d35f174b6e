import SpoolLog
import Synchronization
import Testing

@Suite struct VisibilityTests {
    @Test func aParkedReaderIsWokenByTheFlushThatMakesDataVisible() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(fsync: .always))
        let woken = Mutex<[Int64]>([])
        let wait = log.whenVisible(beyond: 0) { [log] in woken.withLock { $0.append(log.highWatermark) } }
        #expect(wait != nil, "nothing visible yet: the reader parks")
        #expect(woken.withLock { $0 }.isEmpty)
        try await log.appendDurably(makeBatch(tag: "v", records: 2))
        #expect(woken.withLock { $0 } == [2], "woken once, after the high watermark moved")
        try log.close()
    }

    @Test func alreadyVisibleDataCallsBackAtOnce() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        try await log.appendDurably(makeBatch(tag: "v", records: 2))
        let calls = Mutex(0)
        #expect(log.whenVisible(beyond: 1) { calls.withLock { $0 += 1 } } == nil)
        #expect(calls.withLock { $0 } == 1)
        try log.close()
    }

    @Test func cancelledWaitsAreNotCalledAndOthersStillAre() async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(fsync: .never))
        let calls = Mutex<[String]>([])
        let cancelled = try #require(log.whenVisible(beyond: 0) { calls.withLock { $0.append("cancelled") } })
        _ = log.whenVisible(beyond: 0) { calls.withLock { $0.append("kept") } }
        _ = log.whenVisible(beyond: 5) { calls.withLock { $0.append("later") } }
        log.cancelVisibilityWait(cancelled)
        try log.append(makeBatch(tag: "n", records: 3))  // never: visible on append
        #expect(calls.withLock { $0 } == ["kept"])
        try log.append(makeBatch(tag: "n", records: 3))
        #expect(calls.withLock { $0 } == ["kept", "later"])
        try log.close()
    }

    @Test func closeWakesParkedReaders() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig())
        let calls = Mutex(0)
        _ = log.whenVisible(beyond: 0) { calls.withLock { $0 += 1 } }
        try log.close()
        #expect(calls.withLock { $0 } == 1)
    }
}
