import Foundation
import SpoolEmbedded
import SpoolFormat
import Synchronization
import Testing
@testable import SpoolJobs

/// What a worker asked of its group membership: the partitions it owns, the ones it paused, and
/// the polls it made while every owned partition was paused (a poll that can only wait).
private final class PauseLog: Sendable {
    struct State {
        var owned: Set<TopicPartition> = []
        var paused: Set<TopicPartition> = []
        var pauses = 0
        var resumes = 0
        var pollsWithAllPaused = 0
    }

    let state = Mutex(State())
}

/// The embedded transport, with the worker's subscription watched by a `PauseLog`.
private struct PauseWatching: JobTransport {
    let inner: EmbeddedTransport
    let log: PauseLog

    func ensureTopic(_ topic: String, partitions: Int) async throws { try await inner.ensureTopic(topic, partitions: partitions) }

    func send(topic: String, records: [OutgoingRecord]) async throws -> [(partition: Int32, offset: Int64?)] {
        try await inner.send(topic: topic, records: records)
    }

    func subscribe(group: String, topic: String, hooks: SubscriptionHooks) async throws -> any JobSubscription {
        let log = self.log
        var watched = hooks
        watched.assigned = { owned in
            log.state.withLock { $0.owned = Set(owned.keys) }
            await hooks.assigned(owned)
        }
        return Watched(inner: try await inner.subscribe(group: group, topic: topic, hooks: watched), log: log)
    }

    func readAll(topic: String) async throws -> [ConsumedRecord] { try await inner.readAll(topic: topic) }
    func close() async { await inner.close() }

    struct Watched: JobSubscription {
        let inner: any JobSubscription
        let log: PauseLog

        func poll() async throws -> [ConsumedRecord] {
            log.state.withLock { state in
                if !state.owned.isEmpty && state.owned.isSubset(of: state.paused) { state.pollsWithAllPaused += 1 }
            }
            return try await inner.poll()
        }

        func pause(_ partitions: [TopicPartition]) {
            log.state.withLock { state in
                state.paused.formUnion(partitions)
                state.pauses += 1
            }
            inner.pause(partitions)
        }

        func resume(_ partitions: [TopicPartition]) {
            log.state.withLock { state in
                state.paused.subtract(partitions)
                state.resumes += 1
            }
            inner.resume(partitions)
        }

        func commit(_ offsets: [TopicPartition: CommittedOffset]) async throws { try await inner.commit(offsets) }
        func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: CommittedOffset] { try await inner.committed(partitions) }
        func position(_ partition: TopicPartition) -> Int64? { inner.position(partition) }
        func heartbeat() async -> Bool? { await inner.heartbeat() }
        func close() async { await inner.close() }
    }
}

@Suite("A worker's paused fetches", .serialized)
struct WorkerPauseTests {
    /// A poll while every partition is paused fetches nothing and waits out its time, and the
    /// jobs the worker then runs out of wait with it: the worker resumes a drained partition
    /// before it polls again.
    @Test("a worker with every partition paused waits for one to drain, not in a poll that cannot fetch", .timeLimit(.minutes(2)))
    func drainedPartitionResumesBeforeThePoll() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let log = PauseLog()
        let queue = JobQueue(transport: PauseWatching(inner: EmbeddedTransport(broker.spool), log: log), partitions: 1)
        let runs = Atomic(0)
        let worker = Worker<Photo>(queue: queue, group: "g", ordering: .none, concurrency: 2, retry: .never, bufferPerPartition: 8) { _ in
            runs.add(1, ordering: .relaxed)
        }
        // Two waves of 20, each one batch that a single fetch takes whole: more than the buffer.
        try await queue.enqueue((0..<20).map { JobQueue.Enqueue(Photo(user: "u\($0)", poison: false), key: "u\($0)") })
        let task = Task { try await worker.run() }
        #expect(await eventually { runs.load(ordering: .relaxed) == 20 })
        try await queue.enqueue((20..<40).map { JobQueue.Enqueue(Photo(user: "u\($0)", poison: false), key: "u\($0)") })
        #expect(await eventually { runs.load(ordering: .relaxed) == 40 })
        worker.stop()
        try await task.value
        let state = log.state.withLock { $0 }
        #expect(state.pauses >= 1)
        #expect(state.resumes >= 1)
        #expect(state.pollsWithAllPaused == 0)
        #expect(runs.load(ordering: .relaxed) == 40)
    }

    @Test("a partition owned again after a rebalance is resumed if the consumer still has it paused")
    func pauseOutlivesTheAssignment() {
        var book = JobBook(ordering: .none, concurrency: 1, bufferMax: 2)
        let partition = TopicPartition("t", 0)
        book.assign(partition, committed: nil)
        for offset in 0..<2 { _ = book.add(record(partition, offset: Int64(offset)), now: 0) }
        #expect(book.adjustPauses().pause == [partition])
        #expect(book.fetchesHeld)
        book.remove(partition)
        // The consumer keeps the pause; owned again, the partition is resumed at once (empty buffer).
        book.assign(partition, committed: nil)
        #expect(!book.fetchesHeld)
        #expect(book.adjustPauses().resume == [partition])
        let again = book.adjustPauses()
        #expect(again.pause.isEmpty && again.resume.isEmpty)
    }

    /// Finished jobs stay in the book behind an unfinished one below them (the commit point cannot
    /// pass it); the pause counts the unfinished ones, so one job waiting to run again does not
    /// stall its partition's other keys until it is done.
    @Test("a partition is resumed once its unfinished jobs are down to half, whatever waits below the finished ones")
    func pauseCountsUnfinishedJobs() {
        var book = JobBook(ordering: .key, concurrency: 10, bufferMax: 4)
        let partition = TopicPartition("t", 0)
        book.assign(partition, committed: nil)
        for offset in 0..<4 { _ = book.add(record(partition, offset: Int64(offset), key: "k\(offset)"), now: 0) }
        #expect(book.adjustPauses().pause == [partition])
        var tickets: [JobTicket] = []
        while let ticket = book.next() { tickets.append(ticket) }
        #expect(tickets.count == 4)
        // The job at the commit point fails and waits out its backoff; the other keys' jobs finish.
        _ = book.retry(tickets[0], attempt: 2, atMs: 600_000)
        for ticket in tickets.dropFirst() { _ = book.finish(ticket, now: 0) }
        #expect(book.buffered(partition) == 1)
        #expect(book.commitPoint(partition)?.offset == 0)
        #expect(book.adjustPauses().resume == [partition])
    }

    /// Memory stays bounded without a pause: at `entriesMax` entries, the finished jobs held
    /// behind one unfinished job are let go and kept as offset ranges, which the commit carries
    /// as finished marks; the commit point passes them once the job below them finishes.
    @Test("finished jobs held behind an unfinished one are let go as ranges at four times the buffer, without a pause")
    func finishedJobsBehindOneUnfinishedAreBounded() {
        var book = JobBook(ordering: .key, concurrency: 10, bufferMax: 5)
        let partition = TopicPartition("t", 0)
        book.assign(partition, committed: nil)
        _ = book.add(record(partition, offset: 0, key: "slow"), now: 0)
        guard let slow = book.next() else { Issue.record("no job ready"); return }
        // Offsets 1-39 finish, but 20 (a job of "waits", held behind 19 of the same key, which
        // never finishes) and 30 (which stays running).
        var unfinished: [JobTicket] = []
        for offset in 1..<40 {
            let key = offset == 19 || offset == 20 ? "waits" : "k\(offset)"
            _ = book.add(record(partition, offset: Int64(offset), key: key), now: 0)
            guard offset != 20, let ticket = book.next() else { continue }
            if offset == 19 || offset == 30 { unfinished.append(ticket) } else { _ = book.finish(ticket, now: 0) }
            #expect(book.adjustPauses().pause.isEmpty, "paused at offset \(offset)")
        }
        #expect(!book.fetchesHeld)
        let state = book.partitions[partition]!
        #expect(state.order.count < book.entriesMax)
        // The commit point stays at the slow job; everything finished above it is marked.
        let point = book.commitPoint(partition)
        #expect(point?.offset == 0)
        #expect(CommitMetadata(decoding: point?.metadata ?? "").finished == [1...18, 21...29, 31...39])
        _ = book.finish(slow, now: 0)
        #expect(book.commitPoint(partition)?.offset == 19)
        #expect(CommitMetadata(decoding: book.commitPoint(partition)?.metadata ?? "").finished == [21...29, 31...39])
        _ = book.finish(unfinished[0], now: 0)
        guard let waiting = book.next() else { Issue.record("the job behind 19 is not ready"); return }
        #expect(waiting.offset == 20)
        _ = book.finish(waiting, now: 0)
        #expect(book.commitPoint(partition)?.offset == 30)
        _ = book.finish(unfinished[1], now: 0)
        #expect(book.commitPoint(partition)?.offset == 40)
        let marksAtTheEnd = CommitMetadata(decoding: book.commitPoint(partition)?.metadata ?? "").finished
        #expect(marksAtTheEnd.isEmpty)
        #expect(state.finishedLetGo.isEmpty)
    }

    /// Letting go keeps memory bounded, not the jobs a rebalance or a crash runs again: when many
    /// unfinished jobs split the finished ones into more ranges than the commit's metadata has
    /// room for, the highest range is left out and grows with every job that finishes. The
    /// partition pauses once `entriesMax` finished jobs are left out, as it did at `entriesMax`
    /// entries before they were let go, and resumes once the commit point passes them.
    @Test("a partition pauses once four buffers' worth of finished jobs do not fit in the commit's marks, and resumes when the point passes them")
    func finishedJobsTheCommitCannotMarkPause() {
        var book = JobBook(ordering: .key, concurrency: 10, bufferMax: 1000)
        let partition = TopicPartition("t", 0)
        book.assign(partition, committed: nil)
        // Offsets of seven digits: a range of one job takes eight bytes of the metadata.
        var next: Int64 = 1_000_000
        func add(_ key: String) {
            _ = book.add(record(partition, offset: next, key: key), now: 0)
            next += 1
        }
        add("slow")
        guard let slow = book.next() else { Issue.record("no job ready"); return }
        // 900 jobs of "slow" wait behind it, each followed by a job of another key that finishes:
        // 900 single-job ranges, more than the metadata's 4,000 bytes hold.
        for _ in 0..<900 {
            add("slow")
            add("k\(next)")
            guard let ticket = book.next() else { Issue.record("no job ready at \(next)"); return }
            _ = book.finish(ticket, now: 0)
            #expect(book.adjustPauses().pause.isEmpty, "paused at \(next)")
        }
        // Jobs of other keys that finish now extend the highest range, which does not fit.
        var extra = 0
        while extra <= 5_000 {
            add("k\(next)")
            guard let ticket = book.next() else { Issue.record("no job ready at \(next)"); return }
            _ = book.finish(ticket, now: 0)
            extra += 1
            if book.adjustPauses().pause == [partition] { break }
        }
        #expect(extra > 3_000 && extra <= book.entriesMax, "paused after \(extra) more finished jobs")
        #expect((book.commitPoint(partition)?.metadata.utf8.count ?? 0) <= CommitMetadata.bytesMax)
        #expect(book.partitions[partition]!.order.count < book.entriesMax)
        _ = book.finish(slow, now: 0)
        var finished = 0
        while let ticket = book.next() {
            _ = book.finish(ticket, now: 0)
            finished += 1
        }
        #expect(finished == 900)
        #expect(book.commitPoint(partition)?.offset == next)
        #expect(book.adjustPauses().resume == [partition])
    }

    /// A worker-level check of the above: a job failing with a long backoff at the commit point
    /// must not stop the partition's other keys from being fetched and run.
    @Test("a job waiting a long backoff at the front of a partition does not stop its other keys", .timeLimit(.minutes(2)))
    func retryingJobDoesNotStallOtherKeys() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let (queue, runs, worker) = workerWithLongBackoffs(broker)
        // A first fetch fills the buffer; the later jobs come only once the partition is resumed.
        try await queue.enqueue([JobQueue.Enqueue(Photo(user: "slow", poison: true), key: "slow")]
                                + (0..<3).map { JobQueue.Enqueue(Photo(user: "u\($0)", poison: false), key: "u\($0)") })
        let task = Task { try await worker.run() }
        #expect(await eventually { runs() == 3 })
        try await queue.enqueue((3..<20).map { JobQueue.Enqueue(Photo(user: "u\($0)", poison: false), key: "u\($0)") })
        #expect(await eventually(within: 20) { runs() == 20 })
        worker.stop()
        try await task.value
    }

    /// The same, past `entriesMax`: jobs enqueued a few at a time behind the waiting one, each
    /// batch fetched only once the last has run, finish far more than four buffers' worth.
    @Test("finished jobs past four buffers behind a job waiting a long backoff do not pause its partition", .timeLimit(.minutes(2)))
    func manyFinishedJobsBehindARetryingJob() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let (queue, runs, worker) = workerWithLongBackoffs(broker)
        try await queue.enqueue([JobQueue.Enqueue(Photo(user: "slow", poison: true), key: "slow")])
        let task = Task { try await worker.run() }
        for round in 0..<12 {
            try await queue.enqueue((0..<3).map { JobQueue.Enqueue(Photo(user: "u\(round)-\($0)", poison: false), key: "u\(round)-\($0)") })
            guard await eventually(within: 20, { runs() == 3 * (round + 1) }) else {
                Issue.record("round \(round): \(runs()) of \(3 * (round + 1)) jobs ran")
                break
            }
        }
        worker.stop()
        try await task.value
    }

    private struct Failing: Error {}

    /// A `.key` worker of one partition whose poison jobs fail and wait 10 minutes to run again,
    /// with a buffer of 4; the closure counts the other jobs it ran.
    private func workerWithLongBackoffs(_ broker: JobsTestBroker) -> (JobQueue, @Sendable () -> Int, Worker<Photo>) {
        let queue = JobQueue(transport: EmbeddedTransport(broker.spool), partitions: 1)
        let runs = Atomic(0)
        let worker = Worker<Photo>(queue: queue, group: "g", ordering: .key, concurrency: 4,
                                   retry: .exponential(maxAttempts: 3, base: .seconds(600), jitter: false), bufferPerPartition: 4) { job in
            if job.payload.poison { throw Failing() }
            runs.add(1, ordering: .relaxed)
        }
        return (queue, { runs.load(ordering: .relaxed) }, worker)
    }

    private func record(_ partition: TopicPartition, offset: Int64, key: String? = nil) -> ConsumedRecord {
        ConsumedRecord(topic: partition.topic, partition: partition.partition, offset: offset, timestamp: 0, key: key.map { Array($0.utf8) },
                       value: Array("{}".utf8), headers: [])
    }
}
