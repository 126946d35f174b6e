import Foundation
import SpoolFormat
import Testing
@testable import SpoolJobs

/// A job a group dead-lettered above its commit point is marked dead in the commit's metadata
/// (`spool-dead:`); its group's workers finish it without running it. With its dead letter gone
/// from the dead-letter topic (deleted, or past retention), the listing reads the mark.
@Suite struct DeadMarkListingTests {
    private let partition = TopicPartition(Errand.topic, 0)

    /// Jobs j0, j1, j2 at offsets 0, 1, 2 of a one-partition job topic that has no dead letters,
    /// and what `group` committed: `offset`, with `metadata`.
    private func enqueued(committing metadata: CommitMetadata, at offset: Int64, group: String) async throws -> (JobsTestBroker, JobQueue) {
        let broker = try JobsTestBroker()
        let queue = broker.queue(partitions: 1)
        for id in ["j0", "j1", "j2"] { try await queue.enqueue(Errand(name: id), key: id, id: id) }
        try await broker.spool.broker.storeOffsets(group: group, [partition: CommittedOffset(offset: offset, metadata: metadata.encoded)])
        return (broker, queue)
    }

    /// j1 as the dead listing of a group that marked it shows it.
    private let markedJ1 = JobStatus(state: .dead, id: "j1", key: "j1", topic: Errand.topic, partition: 0, offset: 1, attempts: 0)

    @Test("a job marked dead above the commit point, its dead letter gone, is listed dead for the group, not queued")
    func aMarkedJobIsDeadNotQueued() async throws {
        let (broker, queue) = try await enqueued(committing: CommitMetadata(dead: [1]), at: 0, group: "g")
        defer { broker.stop() }
        #expect(try await queue.jobs(in: Errand.topic, state: .queued, group: "g").map(\.id) == ["j0", "j2"], "the dead job is listed queued")
        #expect(try await queue.jobs(in: Errand.topic, state: .dead, group: "g") == [markedJ1])
        // The topic's dead letters alone: there are none; and another group marked nothing.
        #expect(try await queue.jobs(in: Errand.topic, state: .dead).isEmpty)
        #expect(try await queue.jobs(in: Errand.topic, state: .dead, group: "other").isEmpty)
        #expect(try await queue.jobs(in: Errand.topic, state: .queued, group: "other").map(\.id) == ["j0", "j1", "j2"])
    }

    @Test("a job one group dead-lettered is dead for that group only: for another group it is still queued")
    func aDeadLetterIsItsGroups() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        for id in ["j0", "j1", "j2"] { try await queue.enqueue(Errand(name: id), key: id, id: id) }
        struct Refused: Error {}
        let worker = Worker<Errand>(queue: queue, group: "a", ordering: .key, retry: .never) { job in
            if job.payload.name == "j1" { throw Refused() }
        }
        let task = Task { try await worker.run() }
        #expect(await eventually { worker.stats.deadLettered == 1 && worker.stats.succeeded == 2 })
        worker.stop()
        try await task.value
        #expect(try await queue.jobs(in: Errand.topic, state: .dead).map(\.id) == ["j1"])
        #expect(try await queue.jobs(in: Errand.topic, state: .dead, group: "a").map(\.id) == ["j1"])
        #expect(try await queue.jobs(in: Errand.topic, state: .queued, group: "a").isEmpty)
        #expect(try await queue.jobs(in: Errand.topic, state: .dead, group: "b").isEmpty, "another group's dead letter is listed dead for b")
        #expect(try await queue.jobs(in: Errand.topic, state: .queued, group: "b").map(\.id) == ["j0", "j1", "j2"])
    }

    @Test("a mark beside an attempt count (which no worker writes, but a reader may meet) wins, as in the worker: the job is dead, not retrying")
    func aMarkBesideACountIsDead() async throws {
        let (broker, queue) = try await enqueued(committing: CommitMetadata(attempts: [1: 2], dead: [1]), at: 0, group: "g")
        defer { broker.stop() }
        #expect(try await queue.jobs(in: Errand.topic, state: .retrying, group: "g").isEmpty)
        #expect(try await queue.jobs(in: Errand.topic, state: .dead, group: "g") == [markedJ1])
    }

    @Test("a mark below the commit point is past: the job is in no listing of the group")
    func aMarkBelowTheCommitPointIsPast() async throws {
        let (broker, queue) = try await enqueued(committing: CommitMetadata(dead: [1]), at: 2, group: "g")
        defer { broker.stop() }
        #expect(try await queue.jobs(in: Errand.topic, state: .queued, group: "g").map(\.id) == ["j2"])
        #expect(try await queue.jobs(in: Errand.topic, state: .dead, group: "g").isEmpty)
    }
}
