import SpoolBroker
import SpoolClient
import SpoolFormat
import SpoolJobs

extension EmbeddedTransport: JobControlTransport {
    public func partitionCount(of topic: String) async throws -> Int? {
        (try? spool.broker.describeTopic(topic))?.partitions.count
    }

    public func follow(topic: String) async throws -> any TopicFollower {
        var options = Consumer.Options()
        options.pollWaitMs = 100
        options.clientId = "spool-control"
        return ConsumerFollower(consumer: try Consumer(transport: EmbeddedConsumerTransport(broker: spool.broker), group: nil, topics: [topic],
                                                       options: options))
    }

    public func committedOffsets(group: String, topic: String) async throws -> [TopicPartition: CommittedOffset] {
        spool.broker.committedOffsets(group: group).filter { $0.key.topic == topic && $0.value.offset >= 0 }
    }
}
