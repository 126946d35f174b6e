import SpoolFormat
import Synchronization
import Testing
@testable import SpoolJobs

@Suite("Reading a whole topic for a listing")
struct ReadToEndTests {
    private static func record(_ partition: Int32, _ offset: Int64) -> ConsumedRecord {
        ConsumedRecord(topic: "jobs", partition: partition, offset: offset, timestamp: 0, key: nil, value: [], headers: [])
    }

    /// A consumer that hands out each partition's records `step` at a time, and none past `stuckAt`.
    private final class FakeConsumer: Sendable {
        let positions: Mutex<[Int32: Int64]>
        let available: [Int32: Int64]
        let step: Int64

        init(available: [Int32: Int64], stuckAt: [Int32: Int64] = [:], step: Int64 = 2) {
            self.available = available.merging(stuckAt) { min($0, $1) }
            positions = Mutex(available.mapValues { _ in 0 })
            self.step = step
        }

        func poll() async throws -> [ConsumedRecord] {
            try await Task.sleep(for: .milliseconds(5))
            return positions.withLock { positions in
                var records: [ConsumedRecord] = []
                for (partition, position) in positions.sorted(by: { $0.key < $1.key }) {
                    let upTo = min(position + step, available[partition] ?? 0)
                    records += (position..<upTo).map { ReadToEndTests.record(partition, $0) }
                    positions[partition] = upTo
                }
                return records
            }
        }

        func position(_ partition: TopicPartition) -> Int64? { positions.withLock { $0[partition.partition] } }
    }

    @Test("reads every partition up to the ends taken at the start, sorted, and leaves out what arrived later")
    func readsToTheEnds() async throws {
        let consumer = FakeConsumer(available: [0: 7, 1: 3, 2: 0])
        let records = try await ReadToEnd.read("jobs", ends: [TopicPartition("jobs", 0): 5, TopicPartition("jobs", 1): 3, TopicPartition("jobs", 2): 0],
                                               poll: { try await consumer.poll() }, position: { consumer.position($0) })
        #expect(records.map { "\($0.partition):\($0.offset)" } == ["0:0", "0:1", "0:2", "0:3", "0:4", "1:0", "1:1", "1:2"])
    }

    @Test("a read that stops moving fails, naming where each unfinished partition stopped, instead of returning part of the topic")
    func stalledReadFails() async throws {
        let consumer = FakeConsumer(available: [0: 4, 1: 10], stuckAt: [1: 6])
        do {
            let records = try await ReadToEnd.read("jobs", ends: [TopicPartition("jobs", 0): 4, TopicPartition("jobs", 1): 10],
                                                   stallLimit: .milliseconds(100), poll: { try await consumer.poll() }, position: { consumer.position($0) })
            Issue.record("returned \(records.count) records")
        } catch let JobError.readStalled(stall) {
            #expect(stall.partitions == [ReadStall.Partition(partition: 1, position: 6, end: 10)])
            #expect(stall.description == "reading jobs made no progress for 0.1 seconds: partition 1 at offset 6 of 10")
        }
    }

    @Test("a slow read that keeps moving is not cut off")
    func slowReadCompletes() async throws {
        // 100 records one at a time take longer than the stall limit in all, never between two.
        let consumer = FakeConsumer(available: [0: 100], step: 1)
        let records = try await ReadToEnd.read("jobs", ends: [TopicPartition("jobs", 0): 100], stallLimit: .milliseconds(200),
                                               poll: { try await consumer.poll() }, position: { consumer.position($0) })
        #expect(records.count == 100)
    }
}
