import Foundation
import SpoolClient
import SpoolFormat
import SpoolWire
import Synchronization
import Testing

/// A topic's cached metadata is asked again once `metadataMaxAgeMs` old (Kafka's
/// metadata.max.age.ms), so partitions added to a topic are seen.
@Suite struct MetadataAgeTests {
    @Test func partitionsAddedToATopicAreSeenOnceTheCachedMetadataIsOld() async throws {
        // The first Metadata answer gives "jobs" one partition, every later one two.
        let answered = Atomic(0)
        let broker = try FakeBroker { broker, request in
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions()
            case .metadata?:
                let first = answered.add(1, ordering: .relaxed).oldValue == 0
                return FakeBroker.metadata(brokers: [(1, broker.port)], topics: [("jobs", first ? [1] : [1, 1])])
            case .initProducerId?: return InitProducerIdResponse(errorCode: 0, producerId: 1, producerEpoch: 0)
            case let .produce(produce)?:
                let index = produce.topicData.first?.partitionData.first?.index ?? 0
                return ProduceResponse(responses: [.init(name: "jobs", partitionResponses: [.init(index: index, errorCode: 0, baseOffset: 5)])])
            default: return nil
            }
        }
        defer { broker.stop() }
        let client = try SpoolClient(bootstrap: broker.address, clientId: "test", requestTimeoutMs: 1_000, metadataMaxAgeMs: 300)
        defer { client.close() }
        let producer = Producer(client: client)
        try await producer.prepare(topic: "jobs")
        #expect(try await client.partitions(of: "jobs").count == 1)
        // Within the age the cache answers.
        #expect(broker.requests(.metadata).count == 1)
        await #expect(throws: ClientError.self) { try await producer.send(topic: "jobs", key: nil, value: [1], partition: 1) }
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await client.partitions(of: "jobs").count == 2)
        // The producer's count follows.
        let stored = try await producer.send(topic: "jobs", key: nil, value: [1], partition: 1)
        #expect(stored.partition == 1 && stored.offset == 5)
    }

    @Test func theAgeMustNotBeNegative() {
        #expect(throws: ClientError.self) { try SpoolClient(bootstrap: "127.0.0.1:9092", metadataMaxAgeMs: -1) }
    }
}
