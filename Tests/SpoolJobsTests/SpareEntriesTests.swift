import SpoolFormat
import Testing
@testable import SpoolJobs

private let partition = TopicPartition("jobs", 0)

private func record(_ offset: Int64, key: String) -> ConsumedRecord {
    ConsumedRecord(topic: "jobs", partition: 0, offset: offset, timestamp: 0, key: Array(key.utf8), value: [],
                   headers: [RecordHeader(SpoolHeaders.attempt, "2")])
}

/// The book uses the entries of jobs it let go again for new records (`JobBook.SpareEntries`):
/// one still held by a runner's ticket must keep its job as it was.
@Suite("Job bookkeeping: entries used again")
struct SpareEntriesTests {
    @Test("an entry let go while its ticket is still held is not used again; once the ticket is dropped, it is, with every field new")
    func spareHeldByTicket() throws {
        var book = JobBook(ordering: .key, concurrency: 1, bufferMax: Int.max)
        book.assign(partition, committed: nil)
        _ = book.add(record(0, key: "a"), now: 0)
        var first = book.next()
        try #require(first != nil)
        let firstEntry = ObjectIdentifier(try #require(first).entry)
        // Finished: its entry leaves the book, but the ticket still holds it.
        _ = book.finish(try #require(first), now: 0)
        _ = book.add(record(1, key: "b"), now: 0)
        var second = book.next()
        try #require(second != nil)
        let secondEntry = ObjectIdentifier(try #require(second).entry)
        #expect(secondEntry != firstEntry)
        #expect(first?.offset == 0)
        #expect(first?.entry.key == "a")
        #expect(first?.entry.state == .done)
        #expect(second?.offset == 1)
        #expect(second?.entry.key == "b")
        // Both tickets dropped, the next record's job takes the entry let go last, set afresh.
        first = nil
        _ = book.finish(try #require(second), now: 0)
        second = nil
        _ = book.add(record(2, key: "c"), now: 0)
        let thirdTaken = book.next()
        let third = try #require(thirdTaken)
        #expect(ObjectIdentifier(third.entry) == secondEntry)
        #expect(third.offset == 2)
        #expect(third.entry.key == "c")
        #expect(third.entry.orderKey == "c")
        #expect(third.entry.state == .running)
        #expect(third.entry.carried)
        #expect(third.entry.nextOfKey == nil)
        #expect(third.attempt == 2)
        // Its key's line is its own: a later job of "c" waits for it, one of "b" does not.
        _ = book.add(record(3, key: "c"), now: 0)
        _ = book.add(record(4, key: "b"), now: 0)
        _ = book.finish(third, now: 0)
        var ran: [Int64] = []
        while let next = book.next() {
            ran.append(next.offset)
            _ = book.finish(next, now: 0)
        }
        #expect(ran == [4, 3])
        #expect(book.commitPoint(partition)?.offset == 5)
    }

    /// An entry holds its partition, and the partition its entries (and each key's line its
    /// entries, each entry its line): removing the partition must let go of all of them, or every
    /// rebalance would keep its partitions' jobs in memory for good.
    @Test("a removed partition and its jobs are freed once the last ticket holding one is dropped")
    func removedPartitionIsFreed() throws {
        weak var partitionState: JobBook.PartitionState?
        weak var waiting: JobBook.Entry?
        var book = JobBook(ordering: .key, concurrency: 1, bufferMax: Int.max)
        book.assign(partition, committed: nil)
        for offset in 0..<4 { _ = book.add(record(Int64(offset), key: "a"), now: 0) }
        var ticket = book.next()
        try #require(ticket != nil)
        partitionState = ticket?.state
        waiting = ticket?.entry.nextOfKey
        #expect(waiting != nil)
        book.remove(partition)
        // The runner's ticket still holds its job, and that job its partition.
        #expect(partitionState != nil)
        #expect(partitionState?.removed == true)
        // The jobs waiting behind it are gone with the partition.
        #expect(waiting == nil)
        ticket = nil
        #expect(partitionState == nil)
        #expect(book.assigned.isEmpty)
    }
}
