import Dispatch
import Foundation
import SpoolLog
import SpoolTestSupport
import Synchronization
import Testing

/// An append writes its bytes outside the lock readers take, and a caller that may not block is
/// never the one to pwrite.
@Suite struct AppendWriteTests {
    @Test("while a large batch's pwrite or fallocate waits for the disk, readers and the high watermark go on, and an append that may not block is handed back at once",
          arguments: FaultInjectingFileSystem.HeldCall.allCases)
    func aWriteHoldsNoReader(wait: FaultInjectingFileSystem.HeldCall) async throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        let disk = FaultInjectingFileSystem()
        let log = try PartitionLog.open(directory: directory.partition, config: testConfig(segmentBytes: 1 << 20, fsync: .never), fileSystem: disk)
        defer { try? log.close() }
        try log.append(makeBatch(tag: "first"))
        // 20 KiB: written with pwrite, and past the 16 KiB allocated with the segment.
        let big = makeBatch(tag: "big", records: 2, valueBytes: 10 << 10)

        // A caller that may not block gets it back, nothing stored.
        #expect(try big.withUnsafeBytes { try log.append($0, mayBlock: false) } == nil)
        #expect(log.logEndOffset == 3)

        let observed = await offThePool { () -> Observed in
            let (probe, appended) = disk.append(big, to: log, holding: wait) { waiting in
                // Watched from another thread with a deadline: a reader stuck behind the write would hang.
                let probed = DispatchSemaphore(value: 0)
                let seen = Mutex<(highWatermark: Int64, values: [String], small: Bool?)>((-1, [], nil))
                DispatchQueue(label: "spool.test.probe").async {
                    let highWatermark = log.highWatermark
                    let read = (try? readAll(log)).map(values) ?? []
                    var small: Bool?
                    do { small = try makeBatch(tag: "small", records: 1).withUnsafeBytes { try log.append($0, mayBlock: false) } != nil } catch {}
                    seen.withLock { $0 = (highWatermark, read, small) }
                    probed.signal()
                }
                let answered = probed.wait(timeout: .now() + 10) == .success
                return (waiting, answered, seen.withLock { $0 })
            }
            return Observed(waitingAtGate: probe.0, answered: probe.1, appended: appended.finished, highWatermark: probe.2.highWatermark,
                            values: probe.2.values, smallStored: probe.2.small, bigOffset: appended.baseOffset)
        }
        #expect(observed.waitingAtGate == 1, "the big batch's \(wait) waits at the gate")
        #expect(observed.answered, "a reader waited for another append's \(wait)")
        #expect(observed.appended)
        #expect(observed.highWatermark == 3, "the big batch is not visible before it is written")
        #expect(observed.values == ["first-0", "first-1", "first-2"])
        #expect(observed.smallStored == false, "an append that may not block does not wait behind one that may")
        #expect(observed.bigOffset == 3)
        #expect(log.logEndOffset == 5)
        #expect(values(try readAll(log)) == ["first-0", "first-1", "first-2", "big-0", "big-1"])
    }

    /// What `aWriteHoldsNoReader` saw while the disk was held.
    struct Observed: Sendable {
        var waitingAtGate: Int
        var answered: Bool
        var appended: Bool
        var highWatermark: Int64
        var values: [String]
        var smallStored: Bool?
        var bigOffset: Int64?
    }

    /// Runs `body`, which blocks (semaphores, sleeps), on a Dispatch thread: on a cooperative one
    /// it would hold a thread that the tests running beside it need.
    private func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in DispatchQueue(label: "spool.test.probe").async { continuation.resume(returning: body()) } }
    }
    @Test("an append that may not block stores small batches through the mapping, in order, when no other append is writing")
    func smallAppendsStayInline() throws {
        let directory = TestDirectory()
        defer { directory.remove() }
        var config = testConfig(segmentBytes: 1 << 20, fsync: .never)
        // No index entry, so no index file grows: no append below needs file work.
        config.indexIntervalBytes = 1 << 20
        let log = try PartitionLog.open(directory: directory.partition, config: config)
        defer { try? log.close() }
        for index in 0..<20 {
            let result = try makeBatch(tag: "s\(index)", records: 2).withUnsafeBytes { try log.append($0, mayBlock: false) }
            #expect(result?.baseOffset == Int64(index * 2))
        }
        #expect(values(try readAll(log)).count == 40)
        #expect(values(try readAll(log)).prefix(4) == ["s0-0", "s0-1", "s1-0", "s1-1"])
    }
}
