import SpoolFormat
import Testing
@testable import SpoolJobs

private let partition = TopicPartition("jobs", 0)

private func record(_ offset: Int64, key: String?) -> ConsumedRecord {
    ConsumedRecord(topic: "jobs", partition: 0, offset: offset, timestamp: 0, key: key.map { Array($0.utf8) }, value: [], headers: [])
}

/// A book with `keys` taken in, in that order, from offset 0.
private func book(_ ordering: JobOrdering, _ limits: JobLimits, concurrency: Int = 100, keys: [String?]) -> JobBook {
    var book = JobBook(ordering: ordering, concurrency: concurrency, limits: limits)
    book.assign(partition, committed: nil)
    for (offset, key) in keys.enumerated() { _ = book.add(record(Int64(offset), key: key), now: 0) }
    return book
}

private func drain(_ book: inout JobBook, now: Int64 = 0) -> [JobTicket] {
    var tickets: [JobTicket] = []
    while let ticket = book.next(now: now) { tickets.append(ticket) }
    return tickets
}

private func keys(_ tickets: [JobTicket]) -> [String] { tickets.map { $0.record.keyString ?? "-" } }

@Suite("Per-key limits in the job book: concurrency, rate, parking")
struct KeyLimiterTests {
    @Test("per-key concurrency is never exceeded while other keys run; a finish lets the key's next job start, in order")
    func concurrencyPerKey() {
        var book = book(.none, .perKey(concurrency: 2), keys: ["a", "a", "a", "b", "a", "c", nil, nil])
        let first = drain(&book)
        #expect(keys(first) == ["a", "a", "b", "c", "-", "-"])
        #expect(book.limiter?.parkedCount == 2)
        // Nothing more of a until one of its runs ends, however often the book is asked.
        #expect(book.next() == nil)
        _ = book.finish(first[2], now: 0)
        #expect(book.next() == nil)
        _ = book.finish(first[0], now: 0)
        let second = drain(&book)
        #expect(second.map(\.offset) == [2])
        // A retry's run ended too: the key's last job starts.
        _ = book.retry(first[1], attempt: 2, atMs: 0)
        #expect(drain(&book).map(\.offset) == [4])
        #expect(book.limiter?.parkedCount == 0)
    }

    @Test("a key's rate is respected in count over a virtual time span: the burst at once, then one per interval, each at its wake")
    func rateOverVirtualTime() {
        // 10 a second with bursts of 3: over [0, 2000] ms that is 3 + 20 starts of key a.
        var book = book(.none, .perKey(ratePerSecond: 10, burst: 3), keys: Array(repeating: "a", count: 100) + ["b", "c"])
        var starts: [(key: String, atMs: Int64)] = []
        var wakes: [KeyWake] = []
        var now: Int64 = 0
        var rounds = 0
        while now <= 2_000 && rounds < 1_000 {
            rounds += 1
            for ticket in drain(&book, now: now) {
                starts.append((ticket.record.keyString ?? "-", now))
                _ = book.finish(ticket, now: now)
            }
            wakes += book.takeKeyWakes()
            // One wake at a time for the key, never one for a time already past.
            #expect(wakes.count == 1)
            guard let due = wakes.min(by: { $0.atMs < $1.atMs }) else { break }
            #expect(due.atMs > now)
            wakes.removeAll { $0 == due }
            now = due.atMs
            book.wake(due)
        }
        let a = starts.filter { $0.key == "a" }.map(\.atMs)
        #expect(a.filter { $0 <= 2_000 }.count == 23)
        #expect(Array(a.prefix(5)) == [0, 0, 0, 100, 200])
        // The other keys were not held back by a's wait.
        #expect(starts.filter { $0.key != "a" }.map(\.atMs) == [0, 0])
        // Woken once per start past the burst, not polled.
        #expect(rounds == 21)
    }

    @Test("under .key a key at its rate waits parked while the partition's other keys run")
    func limitedKeyDoesNotHoldBackOthers() {
        var book = book(.key, .perKey(ratePerSecond: 1), keys: ["hot", "hot", "hot", "k1", "k2", "k3"])
        let first = drain(&book)
        #expect(keys(first) == ["hot", "k1", "k2", "k3"])
        for ticket in first { _ = book.finish(ticket, now: 0) }
        // hot's second job is eligible now, but its rate allows it at 1000 ms.
        #expect(drain(&book, now: 10).isEmpty)
        #expect(book.takeKeyWakes() == [KeyWake(key: "hot", atMs: 1_000)])
        #expect(book.commitPoint(partition)?.offset == 1)
        book.wake(KeyWake(key: "hot", atMs: 1_000))
        let second = drain(&book, now: 1_000)
        #expect(second.map(\.offset) == [1])
    }

    @Test("a parked job handed out again is parked once; a new job of a parked key waits behind the parked ones")
    func parkedOnceAndInOrder() {
        var book = book(.none, .perKey(concurrency: 1), keys: ["a", "a", "a", "b", "c", "d"])
        let first = drain(&book)
        #expect(first.map(\.offset) == [0, 3, 4, 5])
        // Finishing the others puts the job at the commit point (a's parked 1) back in the ready
        // queue each time: it stays parked once.
        for ticket in first.dropFirst() { _ = book.finish(ticket, now: 0) }
        #expect(drain(&book).isEmpty)
        #expect(book.limiter?.parkedCount == 2)
        _ = book.add(record(6, key: "a"), now: 0)
        #expect(drain(&book).isEmpty)
        var order: [Int64] = []
        var running = first[0]
        for _ in 0..<3 {
            _ = book.finish(running, now: 0)
            let next = drain(&book)
            #expect(next.count == 1)
            guard let ticket = next.first else { break }
            order.append(ticket.offset)
            running = ticket
        }
        #expect(order == [1, 2, 6])
    }

    @Test("jobs parked for a revoked partition are dropped when their key opens; the next owner's jobs run")
    func staleParkedJobsAreDropped() {
        var book = book(.none, .perKey(concurrency: 1), keys: ["a", "a"])
        let running = drain(&book)
        #expect(running.map(\.offset) == [0])
        book.revoke(partition)
        book.remove(partition)
        book.assign(partition, committed: CommittedOffset(offset: 0))
        _ = book.add(record(0, key: "a"), now: 0)
        _ = book.add(record(1, key: "a"), now: 0)
        // The old run still counts until it ends (it may still be running somewhere).
        #expect(drain(&book).isEmpty)
        book.abandon(running[0])
        #expect(drain(&book).map(\.offset) == [0])
        #expect(book.limiter?.parkedCount == 1)
    }

    @Test("limits that make no sense are refused: concurrency above 1 per key needs .none ordering")
    func conflicts() {
        #expect(JobLimits.perKey(concurrency: 2).conflict(with: .key) != nil)
        #expect(JobLimits.perKey(concurrency: 2).conflict(with: .partition) != nil)
        #expect(JobLimits.perKey(concurrency: 2).conflict(with: .none) == nil)
        #expect(JobLimits.perKey(concurrency: 1, ratePerSecond: 5).conflict(with: .key) == nil)
        #expect(JobLimits.perKey(ratePerSecond: 5, burst: 10).keyBurst == 10)
        #expect(!JobLimits.none.limitsKeys)
    }

    @Test("a worker with a per-key concurrency above 1 under .key ordering stops with a message")
    func conflictingWorkerStops() async {
        await #expect(processExitsWith: .failure) {
            _ = JobBook(ordering: .key, concurrency: 8, limits: .perKey(concurrency: 3))
        }
        await #expect(processExitsWith: .failure) { _ = JobLimits.perKey(ratePerSecond: 0) }
        await #expect(processExitsWith: .failure) { _ = JobLimits.perKey(burst: 5) }
    }
}
