import Foundation
import SpoolClient
import SpoolFormat
import SpoolWire
import Testing

/// A topic with a partition that has no leader (its only replica's broker is down): the client
/// goes on with the partitions that have one, as Kafka's clients do.
@Suite struct LeaderlessPartitionTests {
    /// Node 1 leads jobs[0]; jobs[1] has no leader. Node 1 answers ListOffsets with 42, Produce
    /// with base offset 7 and Fetch with one record at the offset asked for.
    private static func cluster() throws -> FakeCluster {
        try FakeCluster(brokers: 1) { node, request in
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions()
            case .metadata?: return node.metadata(topics: [("jobs", [1, -1])])
            case .initProducerId?: return InitProducerIdResponse(errorCode: 0, producerId: 1, producerEpoch: 0)
            case let .listOffsets(list)?:
                return ListOffsetsResponse(topics: list.topics.map { topic in
                    .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: 0, offset: 42) })
                })
            case .produce?: return FakeBroker.produced(baseOffset: 7)
            case let .fetch(fetch)?:
                return FetchResponse(responses: fetch.topics.map { topic in
                    .init(topic: topic.topic, partitions: topic.partitions.map { partition in
                        var batch = RecordBatch(producing: [ProducerRecord(key: nil, value: Array("r".utf8), timestamp: 1)])
                        batch.baseOffset = partition.fetchOffset
                        return .init(partitionIndex: partition.partition, highWatermark: partition.fetchOffset + 1, records: RecordBytes(batch.encoded()))
                    })
                })
            default: return nil
            }
        }
    }

    @Test func thePartitionsWithALeaderAreServedAndTheCountIncludesTheLeaderlessOne() async throws {
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let client = try SpoolClient(bootstrap: cluster.brokers[0].address, clientId: "test", requestTimeoutMs: 1_000)
        defer { client.close() }
        let partitions = try await client.partitions(of: "jobs")
        #expect(partitions.map(\.partition) == [0, 1] && partitions.map(\.leader) == [1, -1])
        let (zero, one) = (TopicPartition("jobs", 0), TopicPartition("jobs", 1))
        #expect(try await client.listOffsets([zero], timestamp: -1) == [zero: 42])
        let stored = try await Producer(client: client).send(topic: "jobs", key: nil, value: Array("v".utf8), partition: 0)
        #expect(stored.partition == 0 && stored.offset == 7)
        // The leaderless partition fails, retriably, once the request timeout is spent.
        let failure = await #expect(throws: ClientError.self) { try await client.listOffsets([one], timestamp: -1) }
        #expect(failure?.kafkaCode == .leaderNotAvailable && failure?.isRetriable == true, "\(String(describing: failure))")
    }

    @Test func aConsumerFetchesThePartitionsWithALeaderAndBacksOffForTheOther() async throws {
        let cluster = try Self.cluster()
        defer { cluster.stop() }
        let client = try SpoolClient(bootstrap: cluster.brokers[0].address, clientId: "test", requestTimeoutMs: 1_000)
        defer { client.close() }
        let transport = try NetworkConsumerTransport(settingsOf: client)
        #expect(try await transport.partitionCount(of: "jobs") == 2)
        let (zero, one) = (TopicPartition("jobs", 0), TopicPartition("jobs", 1))
        let outcome = try await transport.fetch([(zero, 5), (one, 5)], maxWaitMs: 0, maxBytes: 1 << 20)
        #expect(outcome.partitions.map(\.0) == [zero] && outcome.backOff)
        await transport.close()
    }
}
