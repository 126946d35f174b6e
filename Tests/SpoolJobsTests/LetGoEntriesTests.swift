import SpoolFormat
import Testing
@testable import SpoolJobs

private let partition = TopicPartition("jobs", 0)

private func record(_ offset: Int64, key: String) -> ConsumedRecord {
    ConsumedRecord(topic: "jobs", partition: 0, offset: offset, timestamp: 0, key: Array(key.utf8), value: [], headers: [])
}

/// A book owning `partition`, with a job of key "a" at offset 0 and one of "b" at 1.
private func bookOfTwoKeys() -> JobBook {
    var book = JobBook(ordering: .key, concurrency: 2, bufferMax: Int.max)
    book.assign(partition, committed: nil)
    _ = book.add(record(0, key: "a"), now: 0)
    _ = book.add(record(1, key: "b"), now: 0)
    return book
}

/// A finished job's entry is freed by the poll loop, which allocated it (`JobBook.letGo`), not
/// by the runner that finished it.
@Suite("Job bookkeeping: finished jobs' entries go back to the poll loop")
struct LetGoEntriesTests {
    @Test("an entry dropped at the commit point waits in letGo, past its ticket, until the poll loop takes and frees it")
    func droppedEntryWaitsForThePollLoop() throws {
        weak var first: JobBook.Entry?
        var book = bookOfTwoKeys()
        var ticket = book.next()
        first = ticket?.entry
        try #require(first != nil)
        #expect(book.finish(try #require(ticket), now: 0) == nil)
        ticket = nil
        #expect(first != nil)
        #expect(book.letGo.entries.count == 1)
        #expect(book.commitPoint(partition)?.offset == 1)

        var spare = JobBook.LetGoEntries()
        book.takeLetGo(&spare)
        #expect(book.letGo.entries.isEmpty)
        #expect(spare.entries.count == 1)
        #expect(first != nil)
        spare.free()
        #expect(first == nil)
    }

    @Test("a job finished above the commit point stays in its partition, and goes to letGo with the jobs below it once they finish")
    func finishedAboveCommitPointStays() throws {
        weak var second: JobBook.Entry?
        var book = bookOfTwoKeys()
        let zero = book.next()
        var one = book.next()
        second = one?.entry
        _ = book.finish(try #require(one), now: 0)
        one = nil
        // Above the commit point: still the partition's, not let go.
        #expect(book.letGo.entries.isEmpty)
        #expect(second != nil)
        _ = book.finish(try #require(zero), now: 0)
        #expect(book.letGo.entries.map(\.offset) == [0, 1])
        #expect(book.commitPoint(partition)?.offset == 2)

        var spare = JobBook.LetGoEntries()
        book.takeLetGo(&spare)
        spare.free()
        #expect(second == nil)
        // Nothing more to take: the spare buffer stays with the caller.
        book.takeLetGo(&spare)
        #expect(spare.entries.isEmpty)
    }
}
