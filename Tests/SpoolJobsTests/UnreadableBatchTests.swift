import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolJobs
import Testing

/// A job topic can hold a batch Spool's consumers cannot read: a compressed one that does not
/// decompress, stored by a Spool from before the broker read the records of the batches it is
/// sent, or one the disk corrupted. A worker used to skip such batches without a word and commit
/// past the jobs inside.
@Suite struct UnreadableBatchTests {
    @Test func aWorkerStopsAtAnUnreadableBatchReportsItAndCommitsNothingPastIt() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Step(key: "a", sequence: 0), key: "a")
        // Plain records under the zstd flag, appended past the produce path's checks.
        let unreadable = RecordBatch(producing: [ProducerRecord(value: Array("{}".utf8), timestamp: 1_000)], attributes: BatchAttributes(compression: .zstd)).encoded()
        _ = try unreadable.withUnsafeBytes { raw in try broker.spool.broker.partition(Step.topic, 0).append(raw) }
        try await queue.enqueue(Step(key: "a", sequence: 2), key: "a")

        let ran = Recorder()
        let worker = Worker<Step>(queue: queue, group: "readers", ordering: .key, concurrency: 2) { job in
            ran.succeeded(key: job.payload.key, id: job.id, sequence: job.payload.sequence)
        }
        let running = Task { try? await worker.run() }
        #expect(await eventually { worker.stats.lastPollError != nil && ran.succeededCount == 1 })
        #expect(worker.stats.lastPollError?.contains("the batch at offset 1 of steps[0] cannot be read: records compressed with zstd do not inflate") == true)
        #expect(worker.stats.pollFailures >= 1)
        #expect(ran.state.withLock { $0.firstSuccesses["a"] } == [0], "the job after the unreadable batch does not run")
        worker.stop()
        await running.value
        let committed = broker.spool.broker.committedOffsets(group: "readers", partitions: [TopicPartition(Step.topic, 0)])
        #expect(committed[TopicPartition(Step.topic, 0)]?.offset == 1)
    }
}
