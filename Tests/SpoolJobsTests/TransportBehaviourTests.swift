import Foundation
import SpoolEmbedded
import SpoolFormat
import SpoolServer
import Synchronization
import Testing
@testable import SpoolJobs

/// What a worker needs of a subscription, checked on both transports: the embedded broker's
/// consumer and the Kafka-protocol client.
@Suite("One behaviour on both transports", .serialized)
struct TransportBehaviourTests {
    enum Kind: String, CaseIterable, Sendable { case embedded, network }

    /// A transport of `kind` over a fresh broker, and what stops it.
    static func transport(_ kind: Kind, broker: JobsTestBroker) throws -> (any JobTransport, @Sendable () async -> Void) {
        switch kind {
        case .embedded:
            return (EmbeddedTransport(broker.spool), {})
        case .network:
            var config = ServerConfig()
            config.port = 0
            let server = try Server(config: config, broker: broker.spool.broker)
            let transport = try NetworkTransport(bootstrap: "127.0.0.1:\(server.port)")
            return (transport, { await transport.close(); server.stop() })
        }
    }

    @Test(arguments: Kind.allCases)
    func aPausedPartitionHandsOutNothingUntilResumed(kind: Kind) async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let (transport, stop) = try Self.transport(kind, broker: broker)
        let topic = "paused-\(kind.rawValue)"
        try await transport.ensureTopic(topic, partitions: 2)
        let assigned = Mutex<[TopicPartition]>([])
        let hooks = SubscriptionHooks(revoked: { _ in }, assigned: { owned in assigned.withLock { $0 = owned.keys.sorted() } })
        let subscription = try await transport.subscribe(group: "pausers", topic: topic, hooks: hooks)
        let deadline = ContinuousClock.now + .seconds(20)
        while assigned.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline { _ = try await subscription.poll() }
        #expect(assigned.withLock { $0 } == [TopicPartition(topic, 0), TopicPartition(topic, 1)])

        subscription.pause([TopicPartition(topic, 0)])
        let records = (0..<6).map { OutgoingRecord(key: nil, value: Array("r\($0)".utf8), partition: Int32($0 % 2)) }
        _ = try await transport.send(topic: topic, records: records)
        var received: [ConsumedRecord] = []
        let quiet = ContinuousClock.now + .seconds(1)
        while (received.count < 3 || ContinuousClock.now < quiet) && ContinuousClock.now < deadline { received += try await subscription.poll() }
        #expect(received.map(\.partition) == [1, 1, 1], "a paused partition hands out nothing")

        subscription.resume([TopicPartition(topic, 0)])
        while received.count < 6 && ContinuousClock.now < deadline { received += try await subscription.poll() }
        #expect(received.filter { $0.partition == 0 }.map(\.valueString) == ["r0", "r2", "r4"])
        await subscription.close()
        await stop()
    }
}
