import Foundation
import SpoolFormat
import Testing
@testable import SpoolJobs

private let partition = TopicPartition("jobs", 0)

private func record(_ offset: Int64, key: String?, attempt: Int? = nil) -> ConsumedRecord {
    ConsumedRecord(topic: "jobs", partition: 0, offset: offset, timestamp: 0, key: key.map { Array($0.utf8) }, value: [],
              headers: attempt.map { [RecordHeader(SpoolHeaders.attempt, String($0))] } ?? [])
}

private func drain(_ book: inout JobBook) -> [JobTicket] {
    var tickets: [JobTicket] = []
    while let ticket = book.next() { tickets.append(ticket) }
    return tickets
}

@Suite("Job bookkeeping: ordering, commit points, attempts")
struct JobBookTests {
    /// A key's jobs are linked through their entries, not kept in a buffer of the key's own: a
    /// line of one key (here the partition's, under `.partition`) longer than the ring's wrap
    /// keeps its order, and the partition is given up with it.
    @Test("a line of one key's jobs across the ring's end runs in order and is given up whole")
    func longKeyLineAcrossTheRing() {
        var book = JobBook(ordering: .partition, concurrency: 1, bufferMax: Int.max)
        book.assign(partition, committed: nil)
        // 2^17 jobs fill the ring exactly; finishing the first 60,000 and adding 60,000 more puts
        // the newest at the ring's start.
        let filled: Int64 = 1 << 17, moved: Int64 = 60_000
        for offset in 0..<filled { _ = book.add(record(offset, key: nil), now: 0) }
        for offset in 0..<moved {
            guard let ticket = book.next() else { Issue.record("no job ready"); return }
            #expect(ticket.offset == offset)
            #expect(book.next() == nil)
            _ = book.finish(ticket, now: 0)
        }
        for offset in filled..<(filled + moved) { _ = book.add(record(offset, key: nil), now: 0) }
        #expect(book.buffered(partition) == Int(filled))
        #expect(book.commitPoint(partition)?.offset == moved)
        // The next 1,000 in order, across the ring's end, then the partition is given up.
        var ran: [Int64] = []
        for _ in 0..<1_000 {
            guard let ticket = book.next() else { break }
            ran.append(ticket.offset)
            _ = book.finish(ticket, now: 0)
        }
        #expect(ran == Array(moved..<(moved + 1_000)))
        book.remove(partition)
        #expect(book.assigned.isEmpty)
    }

    /// The job at the commit point is made ready again on every finish, in case the carried bound
    /// held it back; while it waits in the ready queue that must not queue it a second time, or
    /// a backlog's queue fills with copies that are taken out only to be skipped.
    @Test("a job waiting in the ready queue is queued once, however many jobs finish meanwhile")
    func readyJobQueuedOnce() {
        var book = JobBook(ordering: .key, concurrency: 2, bufferMax: Int.max)
        book.assign(partition, committed: nil)
        // 0 and 1 start; 2 waits for 0 (same key), then queues behind 3...9.
        let keys = ["a", "b", "a", "c", "d", "e", "f", "g", "h", "i"]
        for (offset, key) in keys.enumerated() { _ = book.add(record(Int64(offset), key: key), now: 0) }
        var running = drain(&book)
        #expect(running.map(\.offset) == [0, 1])
        #expect(book.readyQueued == 7)
        _ = book.finish(running.removeFirst(), now: 0)
        #expect(book.readyQueued == 8)
        // From here 2 is the commit point, ready and queued, while 3...9 start and finish before it.
        var order: [Int64] = []
        while !running.isEmpty || book.readyQueued > 0 {
            if let next = book.next() { running.append(next) }
            #expect(book.readyQueued <= 8 - order.count)
            guard !running.isEmpty else { break }
            let ticket = running.removeFirst()
            order.append(ticket.offset)
            _ = book.finish(ticket, now: 0)
        }
        #expect(order == [1, 3, 4, 5, 6, 7, 8, 9, 2])
        #expect(book.readyQueued == 0)
        #expect(book.commitPoint(partition)?.offset == 10)
    }

    @Test(".key runs one job per key at a time, in order, while other keys flow; commits stop at the first unfinished job")
    func keyOrdering() {
        var book = JobBook(ordering: .key, concurrency: 10)
        book.assign(partition, committed: nil)
        for (offset, key) in [(0, "a"), (1, "b"), (2, "a"), (3, "c"), (4, "a")] { _ = book.add(record(Int64(offset), key: key), now: 0) }
        let first = drain(&book)
        #expect(first.map(\.offset) == [0, 1, 3])
        #expect(book.commitPoint(partition)?.offset == 0)
        // b and c finish: the commit point stays at a's first job.
        _ = book.finish(first[1], now: 0)
        _ = book.finish(first[2], now: 0)
        #expect(drain(&book).isEmpty)
        #expect(book.commitPoint(partition)?.offset == 0)
        // a's first job finishes: its next job runs, and the commit point moves past 0 and 1.
        _ = book.finish(first[0], now: 0)
        let second = drain(&book)
        #expect(second.map(\.offset) == [2])
        #expect(book.commitPoint(partition)?.offset == 2)
        _ = book.finish(second[0], now: 0)
        let third = drain(&book)
        #expect(third.map(\.offset) == [4])
        _ = book.finish(third[0], now: 0)
        #expect(book.commitPoint(partition)?.offset == 5)
        #expect(book.buffered(partition) == 0)
    }

    @Test("a job dead-lettered above the commit point is carried as a mark until the point passes it; the next owner resumes it marked")
    func deadLetterMarkIsCarried() {
        var book = JobBook(ordering: .key, concurrency: 10, attemptsMax: 3)
        book.assign(partition, committed: nil)
        for (offset, key) in [(0, "slow"), (1, "poison")] { _ = book.add(record(Int64(offset), key: key), now: 0) }
        let tickets = drain(&book)
        _ = book.finish(tickets[1], now: 0, deadLettered: true)
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 0, metadata: "spool-dead:1"))
        // A new owner resumes from that commit: the job comes out marked, past the last attempt.
        var next = JobBook(ordering: .key, concurrency: 10, attemptsMax: 3)
        next.assign(partition, committed: book.commitPoint(partition))
        for (offset, key) in [(0, "slow"), (1, "poison")] { _ = next.add(record(Int64(offset), key: key), now: 0) }
        #expect(drain(&next).map(\.deadLettered) == [false, true])
        // A record that carries a high attempt itself is not taken for a mark.
        var carriedByRecord = JobBook(ordering: .key, concurrency: 10, attemptsMax: 3)
        carriedByRecord.assign(partition, committed: nil)
        _ = carriedByRecord.add(record(0, key: "k", attempt: 5), now: 0)
        #expect(drain(&carriedByRecord).map(\.deadLettered) == [false])
        // The job in front finishes: the point passes the dead letter and the mark goes.
        _ = book.finish(tickets[0], now: 0)
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 2, metadata: ""))
    }

    @Test("a dead letter whose record carries an attempt past the last one is marked in the commit too")
    func deadLetterMarkOfAHighAttemptRecord() {
        var book = JobBook(ordering: .key, concurrency: 10, attemptsMax: 3)
        book.assign(partition, committed: nil)
        _ = book.add(record(0, key: "slow"), now: 0)
        _ = book.add(record(1, key: "k", attempt: 5), now: 0)
        let tickets = drain(&book)
        _ = book.finish(tickets[1], now: 0, deadLettered: true)
        let point = book.commitPoint(partition)
        #expect(point == CommittedOffset(offset: 0, metadata: "spool-dead:1"))
        // The next owner takes it in as dead-lettered, not to be run again.
        var next = JobBook(ordering: .key, concurrency: 10, attemptsMax: 3)
        next.assign(partition, committed: point)
        _ = next.add(record(0, key: "slow"), now: 0)
        _ = next.add(record(1, key: "k", attempt: 5), now: 0)
        #expect(drain(&next).map(\.deadLettered) == [false, true])
    }

    /// A mark is no count: a worker with another `maxAttempts` tells them apart.
    @Test("a dead-letter mark stays a mark, and a count a count, whatever the next owner's maxAttempts")
    func deadLetterMarkIsNoCount() {
        // A mark under a higher maxAttempts: still dead-lettered, not run again.
        var raised = JobBook(ordering: .key, concurrency: 10, attemptsMax: 10)
        raised.assign(partition, committed: CommittedOffset(offset: 0, metadata: "spool-dead:1"))
        for (offset, key) in [(0, "slow"), (1, "poison")] { _ = raised.add(record(Int64(offset), key: key), now: 0) }
        #expect(drain(&raised).map(\.deadLettered) == [false, true])
        // A count under a lower maxAttempts: handed out with its count (past the last attempt,
        // which the worker dead-letters), not taken for a mark and dropped.
        var lowered = JobBook(ordering: .key, concurrency: 10, attemptsMax: 5)
        lowered.assign(partition, committed: CommittedOffset(offset: 0, metadata: "spool-attempts:1=7"))
        for (offset, key) in [(0, "slow"), (1, "k")] { _ = lowered.add(record(Int64(offset), key: key), now: 0) }
        let tickets = drain(&lowered)
        #expect(tickets.map(\.deadLettered) == [false, false])
        #expect(tickets.map(\.attempt) == [1, 7])
    }

    /// The record may carry an attempt at or past anything a count would say (a job enqueued
    /// again under `.none`, then read under `.key`): the mark is carried all the same, until the
    /// job is finished and the commit point passes it.
    @Test("a resumed mark stays in the commit whatever attempt its record carries")
    func resumedMarkOfAHighAttemptRecordStays() {
        var book = JobBook(ordering: .key, concurrency: 10, attemptsMax: 3)
        book.assign(partition, committed: CommittedOffset(offset: 0, metadata: "spool-dead:1"))
        _ = book.add(record(0, key: "slow"), now: 0)
        _ = book.add(record(1, key: "k", attempt: 5), now: 0)
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 0, metadata: "spool-dead:1"))
        let tickets = drain(&book)
        #expect(tickets.map(\.deadLettered) == [false, true])
        _ = book.finish(tickets[1], now: 0, deadLettered: true)
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 0, metadata: "spool-dead:1"))
        _ = book.finish(tickets[0], now: 0)
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 2, metadata: ""))
    }

    @Test("jobs finished above the commit point go in the commit as ranges; the next owner takes them in as done and runs the rest")
    func finishedAboveThePointAreMarked() {
        var book = JobBook(ordering: .key, concurrency: 10, attemptsMax: 3)
        book.assign(partition, committed: nil)
        for (offset, key) in [(0, "slow"), (1, "a"), (2, "b"), (3, "slow"), (4, "c"), (5, "a")] { _ = book.add(record(Int64(offset), key: key), now: 0) }
        let first = drain(&book)
        #expect(first.map(\.offset) == [0, 1, 2, 4])
        for ticket in first.dropFirst() { _ = book.finish(ticket, now: 0) }
        let second = drain(&book)
        #expect(second.map(\.offset) == [5])
        // The job in front fails and waits to run again; a, b and c's jobs are done above it.
        _ = book.retry(first[0], attempt: 2, atMs: 1_000)
        let point = book.commitPoint(partition)
        #expect(point == CommittedOffset(offset: 0, metadata: "spool-attempts:0=2 spool-done:1-2,4"))

        // The next owner runs the failed job and the unfinished ones only, in key order.
        var next = JobBook(ordering: .key, concurrency: 10, attemptsMax: 3)
        next.assign(partition, committed: point)
        for (offset, key) in [(0, "slow"), (1, "a"), (2, "b"), (3, "slow"), (4, "c"), (5, "a")] { _ = next.add(record(Int64(offset), key: key), now: 0) }
        let resumed = drain(&next)
        #expect(resumed.map(\.offset) == [0, 5])
        #expect(resumed.map(\.attempt) == [2, 1])
        _ = next.finish(resumed[0], now: 0)
        #expect(next.commitPoint(partition) == CommittedOffset(offset: 3, metadata: "spool-done:4"))
        let slow = drain(&next)
        #expect(slow.map(\.offset) == [3])
        _ = next.finish(slow[0], now: 0)
        _ = next.finish(resumed[1], now: 0)
        #expect(next.commitPoint(partition) == CommittedOffset(offset: 6, metadata: ""))
        #expect(next.buffered(partition) == 0)
    }

    /// Counts for offsets the partition's records moved past (deleted by retention, or the
    /// consumer reset beyond them) took places under the carried bound for the whole assignment:
    /// with the bound full of them, `.key` ran one job at a time.
    @Test("stored counts for offsets that will never arrive are dropped when later records come, or the position passes them")
    func storedCountsBelowTheRecordsAreDropped() {
        var book = JobBook(ordering: .key, concurrency: 20)
        let counts = Dictionary(uniqueKeysWithValues: (0..<Int64(book.carriedMax)).map { ($0, 2) })
        let committed = CommittedOffset(offset: 0, metadata: CommitMetadata(attempts: counts).encoded)
        book.assign(partition, committed: committed)
        for offset in 1000..<1010 { _ = book.add(record(Int64(offset), key: "k\(offset)"), now: 0) }
        #expect(drain(&book).count == 10)
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 1000, metadata: ""))

        // Before any record: the consumer's position alone moves past them.
        var advanced = JobBook(ordering: .key, concurrency: 20)
        advanced.assign(partition, committed: committed)
        advanced.advance(partition, to: 1000)
        #expect(advanced.commitPoint(partition) == CommittedOffset(offset: 1000, metadata: ""))
        for offset in 1000..<1010 { _ = advanced.add(record(Int64(offset), key: "k\(offset)"), now: 0) }
        #expect(drain(&advanced).count == 10)
    }

    /// Jobs held back by stored counts start once later records show those will not come.
    @Test("jobs held back by counts of offsets that will never arrive start when a later record comes")
    func heldJobsStartWhenStoredCountsAreDropped() {
        var book = JobBook(ordering: .key, concurrency: 20)
        let counts = Dictionary(uniqueKeysWithValues: (0..<Int64(book.carriedMax)).map { (100 + $0, 2) })
        book.assign(partition, committed: CommittedOffset(offset: 0, metadata: CommitMetadata(attempts: counts).encoded))
        // Records below the stored offsets: 0 may start (at the commit point), 1 is held back.
        for offset in [0, 1] { _ = book.add(record(Int64(offset), key: "k\(offset)"), now: 0) }
        #expect(drain(&book).map(\.offset) == [0])
        // Record 1,000 shows that every stored offset below it is gone: 1 and 1,000 start.
        _ = book.add(record(1000, key: "k1000"), now: 0)
        #expect(Set(drain(&book).map(\.offset)) == [1, 1000])
    }

    @Test("finished marks for offsets not fetched yet stay in the commit until their records arrive")
    func storedFinishedAheadAreCarried() {
        var book = JobBook(ordering: .none, concurrency: 10)
        book.assign(partition, committed: CommittedOffset(offset: 0, metadata: "spool-done:3-5,9"))
        for offset in 0..<2 { _ = book.add(record(Int64(offset), key: "k\(offset)"), now: 0) }
        let tickets = drain(&book)
        _ = book.finish(tickets[1], now: 0)
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 0, metadata: "spool-done:1,3-5,9"))
        _ = book.finish(tickets[0], now: 0)
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 2, metadata: "spool-done:3-5,9"))
        // Record 4 arrives first (3 was compacted away): it is taken in done, and the marks that
        // remain run on from it.
        _ = book.add(record(4, key: "k4"), now: 0)
        #expect(drain(&book).isEmpty)
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 5, metadata: "spool-done:5,9"))
        for offset in [5, 6] { _ = book.add(record(Int64(offset), key: "k\(offset)"), now: 0) }
        #expect(drain(&book).map(\.offset) == [6])
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 6, metadata: "spool-done:9"))
    }

    @Test("counts resumed from the last commit stay in the next one until their jobs are taken in")
    func storedCountsAheadAreCarried() {
        var book = JobBook(ordering: .key, concurrency: 10, attemptsMax: 3)
        book.assign(partition, committed: CommittedOffset(offset: 0, metadata: "spool-attempts:2=2"))
        // The first fetch brings offsets 0 and 1 only; they finish before 2 arrives.
        for (offset, key) in [(0, "a"), (1, "b")] { _ = book.add(record(Int64(offset), key: key), now: 0) }
        for ticket in drain(&book) { _ = book.finish(ticket, now: 0) }
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 2, metadata: "spool-attempts:2=2"))
        _ = book.add(record(2, key: "c"), now: 0)
        let resumed = drain(&book)
        #expect(resumed.map(\.attempt) == [2])
        _ = book.finish(resumed[0], now: 0)
        #expect(book.commitPoint(partition) == CommittedOffset(offset: 3, metadata: ""))
    }

    @Test("an abandoned job stays below the commit point and is not handed out again")
    func abandonedJobStaysUncommitted() {
        var book = JobBook(ordering: .key, concurrency: 10, attemptsMax: 3)
        book.assign(partition, committed: nil)
        for (offset, key) in [(0, "a"), (1, "b")] { _ = book.add(record(Int64(offset), key: key), now: 0) }
        let tickets = drain(&book)
        book.abandon(tickets[0])
        _ = book.finish(tickets[1], now: 0)
        #expect(book.runningCount(partition) == 0)
        #expect(drain(&book).isEmpty)
        #expect(book.commitPoint(partition)?.offset == 0)
    }

    @Test(".partition runs one job at a time; .none runs up to the concurrency limit")
    func partitionAndNone() {
        var serial = JobBook(ordering: .partition, concurrency: 10)
        serial.assign(partition, committed: nil)
        for offset in 0..<4 { _ = serial.add(record(Int64(offset), key: "k\(offset)"), now: 0) }
        var ran: [Int64] = []
        while let ticket = serial.next() {
            #expect(serial.next() == nil)
            ran.append(ticket.offset)
            _ = serial.finish(ticket, now: 0)
        }
        #expect(ran == [0, 1, 2, 3])

        var parallel = JobBook(ordering: .none, concurrency: 3)
        parallel.assign(partition, committed: nil)
        for offset in 0..<5 { _ = parallel.add(record(Int64(offset), key: "same"), now: 0) }
        let running = drain(&parallel)
        #expect(running.map(\.offset) == [0, 1, 2])
        _ = parallel.finish(running[1], now: 0)
        #expect(drain(&parallel).map(\.offset) == [3])
        #expect(parallel.commitPoint(partition)?.offset == 0)
    }

    @Test("a retry in place keeps its key blocked, and its attempt travels in the commit metadata to the next owner")
    func retryInPlace() {
        var book = JobBook(ordering: .key, concurrency: 10)
        book.assign(partition, committed: nil)
        _ = book.add(record(10, key: "a"), now: 0)
        _ = book.add(record(11, key: "a"), now: 0)
        _ = book.add(record(12, key: "b"), now: 0)
        let first = drain(&book)
        #expect(first.map(\.offset) == [10, 12])
        let wake = book.retry(first[0], attempt: 2, atMs: 500)
        #expect(wake?.atMs == 500)
        _ = book.finish(first[1], now: 0)
        // a's second job must not overtake the retrying first one.
        #expect(drain(&book).isEmpty)
        let point = book.commitPoint(partition)
        #expect(point == CommittedOffset(offset: 10, metadata: "spool-attempts:10=2 spool-done:12"))

        // A new owner resumes at attempt 2, not 1.
        var next = JobBook(ordering: .key, concurrency: 10)
        next.assign(partition, committed: point)
        _ = next.add(record(10, key: "a"), now: 0)
        #expect(drain(&next).first?.attempt == 2)

        // The wake makes it runnable again, as attempt 2.
        book.wake(wake!)
        let again = drain(&book)
        #expect(again.map(\.offset) == [10])
        #expect(again.first?.attempt == 2)
    }

    @Test("a record's own spool-attempt counts; a future spool-deliver-at waits; stale tickets after a reassignment are ignored")
    func attemptsTimesAndGenerations() {
        var book = JobBook(ordering: .none, concurrency: 10)
        book.assign(partition, committed: nil)
        _ = book.add(record(0, key: nil, attempt: 3), now: 0)
        var delayed = record(1, key: nil)
        delayed.headers.append(RecordHeader(SpoolHeaders.deliverAt, "1000"))
        let added = book.add(delayed, now: 0)
        #expect(added.wake?.atMs == 1000)
        let tickets = drain(&book)
        #expect(tickets.map(\.attempt) == [3])
        #expect(book.add(record(1, key: nil), now: 0).accepted == false)
        book.assign(partition, committed: nil)
        _ = book.finish(tickets[0], now: 0)
        #expect(book.running == 0)
        #expect(book.commitPoint(partition) == nil)
    }

    @Test("attempt metadata round-trips, ignores junk, and stays under Kafka's 4 KB metadata limit")
    func metadata() {
        #expect(AttemptMetadata.decode(AttemptMetadata.encode([5: 2, 9: 4])) == [5: 2, 9: 4])
        #expect(AttemptMetadata.encode([:]) == "")
        #expect(AttemptMetadata.decode("something else").isEmpty)
        #expect(AttemptMetadata.decode("spool-attempts:x=1,7=0,8=3") == [8: 3])
        var many: [Int64: Int] = [:]
        for offset in 0..<2000 { many[Int64(offset) * 1_000_000] = 2 }
        #expect(AttemptMetadata.encode(many).utf8.count <= 4000)
    }

    @Test("commit metadata: counts and finished marks round-trip, junk is ignored, counts come first and marks fill the rest of 4 KB")
    func commitMetadata() {
        let both = CommitMetadata(attempts: [5: 2], finished: [6...9, 12...12])
        #expect(both.encoded == "spool-attempts:5=2 spool-done:6-9,12")
        #expect(CommitMetadata(decoding: both.encoded) == both)
        #expect(CommitMetadata(finished: [1...1]).encoded == "spool-done:1")
        #expect(CommitMetadata().encoded == "")
        // Written before finished marks existed.
        #expect(CommitMetadata(decoding: "spool-attempts:1=4") == CommitMetadata(attempts: [1: 4]))
        let marked = CommitMetadata(attempts: [5: 2], dead: [9, 7], finished: [10...12])
        #expect(marked.encoded == "spool-attempts:5=2 spool-dead:7,9 spool-done:10-12")
        #expect(CommitMetadata(decoding: marked.encoded) == marked)
        #expect(CommitMetadata(decoding: "spool-dead:x,3,-1,4").dead == [3, 4])
        #expect(AttemptMetadata.decode(both.encoded) == [5: 2])
        // Not numbers, backwards, overlapping or out of order: left out.
        #expect(CommitMetadata(decoding: "spool-done:x,5-3,7,9-12,8,-1,13-,20-21").finished == [7...7, 9...12, 20...21])
        #expect(CommitMetadata(decoding: "something else") == CommitMetadata())
        // confluent-kafka (Python) sends a commit's metadata with the C string's NUL at its end.
        #expect(CommitMetadata(decoding: "spool-dead:2\0").dead == [2])
        #expect(CommitMetadata(decoding: "spool-attempts:5=2 spool-dead:7,9 spool-done:10-12\0") == marked)
        #expect(CommitMetadata(decoding: "spool-attempts:5=2\0") == CommitMetadata(attempts: [5: 2]))

        var counts: [Int64: Int] = [:]
        for index in 0..<150 { counts[1_000_000_000_000 + Int64(index) * 2] = 3 }
        let ranges = (0..<400).map { index -> ClosedRange<Int64> in let at = 2_000_000_000_000 + Int64(index) * 10; return at...(at + 1) }
        let full = CommitMetadata(attempts: counts, finished: ranges).encoded
        #expect(full.utf8.count <= 4000)
        let decoded = CommitMetadata(decoding: full)
        #expect(decoded.attempts == counts)
        #expect(!decoded.finished.isEmpty && decoded.finished.count < ranges.count)
        #expect(decoded.finished == Array(ranges.prefix(decoded.finished.count)), "the lowest marks are kept")
    }

    @Test("exponential backoff doubles from base up to max; jitter stays between half and the full delay")
    func retryPolicy() {
        let policy = RetryPolicy.exponential(maxAttempts: 5, base: .milliseconds(100), max: .milliseconds(1000), jitter: false)
        #expect((1...6).map { policy.delay(afterAttempt: $0) } == [.milliseconds(100), .milliseconds(200), .milliseconds(400),
                                                                  .milliseconds(800), .milliseconds(1000), .milliseconds(1000)])
        let jittered = RetryPolicy.exponential(base: .milliseconds(400), jitter: true)
        for _ in 0..<100 {
            let delay = jittered.delay(afterAttempt: 1)
            #expect(delay >= .milliseconds(200) && delay <= .milliseconds(400))
        }
        #expect(RetryPolicy.exponential(maxAttempts: 0).maxAttempts == 1)
    }
}
