import SpoolFormat
import Testing
@testable import SpoolJobs

private func record(_ topic: String, _ offset: Int64, key: String?) -> ConsumedRecord {
    ConsumedRecord(topic: topic, partition: 0, offset: offset, timestamp: 0, key: key.map { Array($0.utf8) }, value: [], headers: [])
}

/// A book over `jobs`, `jobs.high` and `jobs.low` (one partition each).
private func priorityBook(_ ordering: JobOrdering = .none, concurrency: Int = 1, priorities: JobPriorities = .standard) -> JobBook {
    var book = JobBook(ordering: ordering, concurrency: concurrency, priorities: priorities, priorityTopic: "jobs")
    for priority in JobPriority.allCases { book.assign(TopicPartition(priority.topic(of: "jobs"), 0), committed: nil) }
    return book
}

private func add(_ book: inout JobBook, _ priority: JobPriority, count: Int, from: Int64 = 0, key: String? = nil) {
    for offset in from..<(from + Int64(count)) { _ = book.add(record(priority.topic(of: "jobs"), offset, key: key), now: 0) }
}

/// Starts and finishes `count` jobs one at a time; returns the topics they came from.
private func run(_ book: inout JobBook, count: Int) -> [String] {
    var topics: [String] = []
    for _ in 0..<count {
        guard let ticket = book.next() else { break }
        topics.append(ticket.partition.topic)
        _ = book.finish(ticket, now: 0)
    }
    return topics
}

@Suite("Priorities in the job book: weighted choice among ready jobs")
struct ReadyQueuesTests {
    @Test("a high job taken in behind a backlog of normal ones starts next")
    func highJumpsTheBacklog() {
        var book = priorityBook()
        add(&book, .normal, count: 20)
        #expect(run(&book, count: 3) == ["jobs", "jobs", "jobs"])
        add(&book, .high, count: 1)
        #expect(run(&book, count: 2) == ["jobs.high", "jobs"])
    }

    @Test("with all three levels ready, every 10 starts hold 6 high, 3 normal and 1 low, spread out; a drained level's share goes to the others")
    func weightsWithoutStarvation() {
        var book = priorityBook()
        add(&book, .high, count: 100)
        add(&book, .normal, count: 100)
        add(&book, .low, count: 12)
        let topics = run(&book, count: 100)
        for window in stride(from: 0, to: 100, by: 10) {
            let slice = topics[window..<window + 10]
            #expect(slice.filter { $0 == "jobs.high" }.count == 6)
            #expect(slice.filter { $0 == "jobs" }.count == 3)
            #expect(slice.filter { $0 == "jobs.low" }.count == 1)
        }
        // Spread out: never more than 3 high ones in a row.
        #expect(!topics.joined(separator: " ").contains(Array(repeating: "jobs.high", count: 4).joined(separator: " ")))
        // The last 2 lows keep their share (within the next 20 starts), not left until high and normal drain.
        let rest = run(&book, count: 200)
        #expect(rest.count == 112)
        #expect(rest.prefix(20).filter { $0 == "jobs.low" }.count == 2)
    }

    @Test("weights are the caller's: 1:1:1 takes turns")
    func equalWeights() {
        var book = priorityBook(priorities: .weighted(high: 1, normal: 1, low: 1))
        add(&book, .low, count: 3)
        add(&book, .normal, count: 3)
        add(&book, .high, count: 3)
        #expect(run(&book, count: 9) == Array(repeating: ["jobs.high", "jobs", "jobs.low"], count: 3).flatMap { $0 })
    }

    @Test("under .key each priority keeps its own order per key, and a key's high jobs do not wait for its normal ones")
    func keyOrderWithinPriority() {
        var book = priorityBook(.key, concurrency: 10)
        add(&book, .normal, count: 3, key: "user")
        add(&book, .high, count: 3, key: "user")
        let first = (0..<10).compactMap { _ in book.next() }
        #expect(first.map { "\($0.partition.topic)@\($0.offset)" }.sorted() == ["jobs.high@0", "jobs@0"])
        var order: [String: [Int64]] = [:]
        var running = first
        while !running.isEmpty {
            let ticket = running.removeFirst()
            order[ticket.partition.topic, default: []].append(ticket.offset)
            _ = book.finish(ticket, now: 0)
            while let next = book.next() { running.append(next) }
        }
        #expect(order == ["jobs": [0, 1, 2], "jobs.high": [0, 1, 2]])
    }

    @Test("a weight below 1 stops the program")
    func zeroWeightStops() async {
        await #expect(processExitsWith: .failure) { _ = JobPriorities.weighted(high: 6, normal: 3, low: 0) }
    }
}
