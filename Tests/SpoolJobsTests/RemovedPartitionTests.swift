import SpoolFormat
import Testing
@testable import SpoolJobs

private let partition = TopicPartition("jobs", 0)

private func record(_ offset: Int64, key: String) -> ConsumedRecord {
    ConsumedRecord(topic: "jobs", partition: 0, offset: offset, timestamp: 0, key: Array(key.utf8), value: [], headers: [])
}

/// A key's waiting jobs are linked through their entries, and each entry names its key's line,
/// which names the first and last of them: removing a partition (a rebalance, the worker
/// stopping) must unlink them, or those entries, their records and the fetched batches behind
/// them are never freed.
@Suite("Job bookkeeping: a removed partition's jobs are freed")
struct RemovedPartitionTests {
    @Test("the jobs waiting behind a running one of their key are freed with their partition; the running one once its ticket goes")
    func waitingJobsFreed() throws {
        weak var partitionState: JobBook.PartitionState?
        weak var running: JobBook.Entry?
        weak var waiting: JobBook.Entry?
        weak var line: JobBook.KeyLine?
        var book = JobBook(ordering: .key, concurrency: 1, bufferMax: Int.max)
        book.assign(partition, committed: nil)
        for offset in 0..<4 { _ = book.add(record(Int64(offset), key: "a"), now: 0) }
        _ = book.add(record(4, key: "b"), now: 0)
        var ticket = book.next()
        try #require(ticket != nil)
        partitionState = ticket?.state
        running = ticket?.entry
        waiting = ticket?.entry.nextOfKey
        line = ticket?.entry.keyLine
        #expect(waiting != nil)
        #expect(line != nil)
        book.remove(partition)
        #expect(book.assigned.isEmpty)
        // The runner's ticket still holds its job and the partition, now removed.
        #expect(running != nil)
        #expect(partitionState?.removed == true)
        // The jobs waiting behind it, and their key's line, are gone with the partition.
        #expect(waiting == nil)
        #expect(line == nil)
        // The runner finishes its job, which changes nothing in a removed partition; the ready
        // queue's stale job of "b" goes at the next look for a job.
        #expect(book.finish(try #require(ticket), now: 0) == nil)
        #expect(book.next() == nil)
        #expect(book.commitPoint(partition) == nil)
        ticket = nil
        #expect(running == nil)
        #expect(partitionState == nil)
    }

    /// A book dropped with its partitions still assigned (a worker freed before `run()` ended
    /// them) frees their waiting jobs too.
    @Test("a dropped book's partitions free their waiting jobs")
    func droppedBookFreesWaitingJobs() {
        weak var waiting: JobBook.Entry?
        weak var line: JobBook.KeyLine?
        do {
            var book = JobBook(ordering: .key, concurrency: 1, bufferMax: Int.max)
            book.assign(partition, committed: nil)
            for offset in 0..<3 { _ = book.add(record(Int64(offset), key: "a"), now: 0) }
            let ticket = book.next()
            waiting = ticket?.entry.nextOfKey
            line = ticket?.entry.keyLine
            #expect(waiting != nil)
            #expect(line != nil)
        }
        #expect(waiting == nil)
        #expect(line == nil)
    }
}
