import Foundation
import SpoolClient
import SpoolFormat
import SpoolWire
import Synchronization
import Testing

/// The ApiVersions exchange against brokers older than the version the client asks first: Kafka
/// answers a version it does not serve in the v0 layout with UNSUPPORTED_VERSION, and the client
/// asks once more at a version the broker serves.
@Suite struct ApiVersionsHandshakeTests {
    /// The versions Kafka 1.1 serves of the APIs this client uses (kafka-python's
    /// `broker_version_data.py`, taken from a 1.1 broker's ApiVersions answer): ApiVersions v0-1.
    static let kafka11: [ApiKey: ClosedRange<Int16>] = [
        .produce: 0...5, .fetch: 0...7, .listOffsets: 0...2, .metadata: 0...5, .offsetCommit: 0...3, .offsetFetch: 0...3,
        .findCoordinator: 0...1, .joinGroup: 0...2, .heartbeat: 0...1, .leaveGroup: 0...1, .syncGroup: 0...1,
        .describeGroups: 0...1, .listGroups: 0...1, .apiVersions: 0...1, .createTopics: 0...2, .deleteTopics: 0...1,
        .initProducerId: 0...0,
    ]

    /// Kafka 0.10.2's versions of the same APIs (same source): ApiVersions v0 only, Metadata v0-2,
    /// Produce v0-2 (no record batches v2), no InitProducerId.
    static let kafka0102: [ApiKey: ClosedRange<Int16>] = [
        .produce: 0...2, .fetch: 0...3, .listOffsets: 0...1, .metadata: 0...2, .offsetCommit: 0...2, .offsetFetch: 0...2,
        .findCoordinator: 0...0, .joinGroup: 0...1, .heartbeat: 0...0, .leaveGroup: 0...0, .syncGroup: 0...0,
        .describeGroups: 0...0, .listGroups: 0...0, .apiVersions: 0...0, .createTopics: 0...1, .deleteTopics: 0...0,
    ]

    /// A client of `broker` with a short request timeout.
    private func client(of broker: FakeBroker) throws -> SpoolClient {
        try SpoolClient(bootstrap: broker.address, clientId: "test", requestTimeoutMs: 5_000)
    }

    /// Kafka 1.1's ranges, leading jobs[0]; it stores each Produce at offset 0 and refuses
    /// ApiVersions above v1, listing its range in the refusal or not.
    private func kafka11Broker(refusalListsRange: Bool) throws -> FakeBroker {
        try FakeBroker.producing(apiVersions: FakeBroker.apiVersions(Self.kafka11), oldApiVersions: .init(max: 1, listsRange: refusalListsRange)) { _ in
            FakeBroker.produced(baseOffset: 0)
        }
    }

    /// Sends one record to jobs through a fresh client of `broker`.
    private func sendOne(to broker: FakeBroker) async throws -> RecordMetadata {
        let client = try client(of: broker)
        defer { client.close() }
        let producer = Producer(client: client)
        let sent = try await producer.send(topic: "jobs", key: nil, value: "first")
        await producer.close()
        return sent
    }

    @Test func aBrokerServingApiVersionsUpToV1IsAskedAgainAtV1AndTheProduceGoesAtItsVersion() async throws {
        // Its refusal lists ApiVersions v0-1, as Kafka's refusals do from 2.4 on (Kafka 1.1's own list
        // nothing: the next test).
        let broker = try kafka11Broker(refusalListsRange: true)
        defer { broker.stop() }
        let sent = try await sendOne(to: broker)
        #expect(sent.partition == 0 && sent.offset == 0)
        #expect(broker.requests(.apiVersions).map(\.version) == [ClientVersions.apiVersions, 1])
        // The rest of the client takes the broker's ranges: Kafka 1.1's highest of each.
        #expect(Set(broker.requests(.metadata).map(\.version)) == [5])
        #expect(broker.requests(.initProducerId).map(\.version) == [0])
        #expect(broker.requests(.produce).map(\.version) == [5])
    }

    @Test func aRefusalListingNoApiVersionsRangeIsAskedAgainAtV0() async throws {
        // Kafka before 2.4 lists nothing in its refusal; Java's client and librdkafka then ask at v0.
        let broker = try kafka11Broker(refusalListsRange: false)
        defer { broker.stop() }
        #expect(try await sendOne(to: broker).offset == 0)
        #expect(broker.requests(.apiVersions).map(\.version) == [ClientVersions.apiVersions, 0])
        #expect(broker.requests(.produce).map(\.version) == [5])
    }

    @Test func aRefusalWhoseListDisagreesIsAskedAgainBelowTheRefusedVersion() async throws {
        // It refuses v2 (in v2's layout, not v0's) yet lists ApiVersions up to v4: asking at the
        // listed v4, capped at the client's v2, would ask what it just refused.
        let broker = try FakeBroker { broker, request in
            switch (request.body, request.version) {
            case (.apiVersions?, 2...):
                ApiVersionsResponse(errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
                                    apiKeys: [.init(apiKey: ApiKey.apiVersions.rawValue, minVersion: 0, maxVersion: 4)])
            case (.apiVersions?, _): FakeBroker.apiVersions(Self.kafka11)
            case (.metadata?, _): FakeBroker.metadata(brokers: [(1, broker.port)], topics: [])
            default: nil
            }
        }
        defer { broker.stop() }
        let client = try client(of: broker)
        defer { client.close() }
        #expect(try await client.metadata(topics: []).brokers.map(\.nodeId) == [1])
        #expect(broker.requests(.apiVersions).map(\.version) == [2, 1])
        #expect(broker.requests(.metadata).map(\.version) == [5])
    }

    @Test func aRetryAnsweredWithAnErrorGivesAnErrorNamingTheBrokerAndItsApiVersionsRange() async throws {
        // The broker lists v0-1 and then refuses v1 too, in v1's layout.
        let broker = try FakeBroker(oldApiVersions: .init(max: 1, listsRange: true)) { _, request in
            switch request.body {
            case .apiVersions?: ApiVersionsResponse(errorCode: KafkaErrorCode.unsupportedVersion.rawValue)
            default: nil
            }
        }
        defer { broker.stop() }
        let client = try client(of: broker)
        defer { client.close() }
        var failure: ClientError?
        do { _ = try await client.metadata(topics: []) } catch { failure = error }
        #expect(failure?.kafkaCode == .unsupportedVersion)
        let message = failure.map(String.init(describing:)) ?? ""
        #expect(message.contains(broker.address) && message.contains("v2, then v1") && message.contains("ApiVersions v0-1")
            && message.contains("UNSUPPORTED_VERSION"), "\(message)")
        // Asked once more, not again and again.
        #expect(broker.requests(.apiVersions).map(\.version) == [ClientVersions.apiVersions, 1])
        #expect(broker.requests(.metadata).isEmpty)
        // The failed connection is closed: the next call connects again, as Java's client does.
        await #expect(throws: ClientError.self) { _ = try await client.metadata(topics: []) }
        #expect(broker.accepted.load(ordering: .relaxed) == 2)
        #expect(broker.requests(.apiVersions).map(\.version) == [ClientVersions.apiVersions, 1, ClientVersions.apiVersions, 1])
    }

    @Test func aBrokerTooOldForAnApiTheClientNeedsGivesAnErrorNamingIt() async throws {
        // Kafka 0.10.2 answers ApiVersions v0, but serves Metadata only up to v2.
        let broker = try FakeBroker(oldApiVersions: .init(max: 0, listsRange: false)) { _, request in
            switch request.body {
            case .apiVersions?: FakeBroker.apiVersions(Self.kafka0102)
            default: nil
            }
        }
        defer { broker.stop() }
        let client = try client(of: broker)
        defer { client.close() }
        await #expect(throws: ClientError.unsupported(api: "Metadata (API key 3)", broker: broker.address)) { try await client.metadata(topics: []) }
        #expect(broker.requests(.apiVersions).map(\.version) == [ClientVersions.apiVersions, 0])
        #expect(broker.requests(.metadata).isEmpty)
    }
}
