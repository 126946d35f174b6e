import Dispatch
import Foundation
import SpoolClient
import SpoolFormat
import SpoolWire
import Synchronization
import Testing

/// A network consumer's fetches across partition leaders (`LeaderFetches`), against scripted brokers.
@Suite struct LeaderFetchTests {
    /// Two brokers: node 1 leads partition 0 of "jobs" and answers every fetch at once with one
    /// record at the offset asked for; node 2 leads partition 1 and answers only once `release`
    /// is signalled, with one record at the offset asked for (a long poll that parks).
    private static func cluster(release: DispatchSemaphore) throws -> FakeCluster {
        try FakeCluster(brokers: 2) { node, request in
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions()
            case .metadata?: return node.metadata(topics: [("jobs", [1, 2])])
            case let .fetch(fetch)?:
                if node.id == 2 { release.wait() }
                return FetchResponse(responses: fetch.topics.map { topic in
                    .init(topic: topic.topic, partitions: topic.partitions.map { partition in
                        .init(partitionIndex: partition.partition, highWatermark: partition.fetchOffset + 1,
                              records: RecordBytes(record(at: partition.fetchOffset, node: node.id)))
                    })
                })
            default: return nil
            }
        }
    }

    /// The cluster above, a client of it and a consumer transport over that client.
    private static func connected() throws -> (FakeCluster, SpoolClient, NetworkConsumerTransport, DispatchSemaphore) {
        let release = DispatchSemaphore(value: 0)
        let cluster = try cluster(release: release)
        let client = try SpoolClient(bootstrap: cluster.brokers[0].address, clientId: "test", requestTimeoutMs: 30_000)
        return (cluster, client, try NetworkConsumerTransport(settingsOf: client), release)
    }

    private static func record(at offset: Int64, node: Int32) -> [UInt8] {
        var batch = RecordBatch(producing: [ProducerRecord(key: nil, value: Array("from node \(node)".utf8), timestamp: 1)])
        batch.baseOffset = offset
        return batch.encoded()
    }

    private static func offsets(_ outcome: FetchOutcome) -> [TopicPartition: [Int64]] {
        var found: [TopicPartition: [Int64]] = [:]
        for (partition, fetched) in outcome.partitions { var cursor = fetched.records; found[partition, default: []] += cursor.takeAll().map(\.offset) }
        return found
    }

    @Test("a poll hands out one leader's records while another leader's fetch is still parked, and that fetch's answer comes with a later poll")
    func oneLeaderParkedDoesNotHoldBackAnother() async throws {
        let (cluster, client, transport, release) = try Self.connected()
        defer {
            for _ in 0..<4 { release.signal() }
            cluster.stop()
            client.close()
        }
        let (zero, one) = (TopicPartition("jobs", 0), TopicPartition("jobs", 1))

        // Node 2 holds its fetch: the poll must not wait for it (before, it waited for every leader).
        let first = try await transport.fetch([(zero, 0), (one, 0)], maxWaitMs: 500, maxBytes: 1 << 20)
        #expect(Self.offsets(first) == [zero: [0]])
        // Its fetch reaches node 2 once the connection to it is made.
        for _ in 0..<200 where cluster.brokers[1].requests(.fetch).isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        #expect(cluster.brokers[1].requests(.fetch).count == 1, "node 2's fetch went out")

        // The next poll: node 1 is asked again from offset 1; node 2's fetch is still the one out.
        let second = try await transport.fetch([(zero, 1), (one, 0)], maxWaitMs: 500, maxBytes: 1 << 20)
        #expect(Self.offsets(second)[zero] == [1])
        #expect(cluster.brokers[1].requests(.fetch).count == 1, "no second fetch to a leader that has one out")

        // Node 2 answers: a later poll hands its record out.
        release.signal()
        var fromNodeTwo: [Int64] = []
        for _ in 0..<200 where fromNodeTwo.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            let outcome = try await transport.fetch([(zero, 2), (one, 0)], maxWaitMs: 500, maxBytes: 1 << 20)
            fromNodeTwo = Self.offsets(outcome)[one] ?? []
        }
        #expect(fromNodeTwo == [0])
        await transport.close()
    }

    @Test("an answer for a partition whose position moved while its fetch was out is dropped, and the partition is fetched from the new position")
    func anAnswerFromAnOldPositionIsDropped() async throws {
        let (cluster, client, transport, release) = try Self.connected()
        defer {
            for _ in 0..<4 { release.signal() }
            cluster.stop()
            client.close()
        }
        let (zero, one) = (TopicPartition("jobs", 0), TopicPartition("jobs", 1))

        _ = try await transport.fetch([(zero, 0), (one, 0)], maxWaitMs: 500, maxBytes: 1 << 20)
        // Partition 1 is seeked to 7 while the fetch from 0 is out; that fetch then answers, and
        // so does the next one.
        release.signal()
        release.signal()
        var seen: [Int64] = []
        for _ in 0..<200 where seen.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            let outcome = try await transport.fetch([(zero, 1), (one, 7)], maxWaitMs: 500, maxBytes: 1 << 20)
            seen = Self.offsets(outcome)[one] ?? []
        }
        #expect(seen == [7], "the record at 0, fetched for the old position, was not handed out")
        await transport.close()
    }
}
