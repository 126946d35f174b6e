import Foundation
import SpoolClient
import SpoolFormat
import SpoolWire
import Synchronization
import Testing

/// ListOffsets answers a client asks again, as Kafka's Java client does.
@Suite struct ListOffsetsRetryTests {
    /// A broker leading jobs[0] whose ListOffsets answers `codes` in turn (the last one for good),
    /// with offset 42 when the code is 0.
    private static func broker(_ codes: [Int16]) throws -> FakeBroker {
        let answered = Atomic(0)
        return try FakeBroker { broker, request in
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions()
            case .metadata?: return FakeBroker.metadata(brokers: [(1, broker.port)], topics: [("jobs", [1])])
            case .listOffsets?:
                let code = codes[min(answered.add(1, ordering: .relaxed).oldValue, codes.count - 1)]
                return ListOffsetsResponse(topics: [.init(name: "jobs", partitions: [.init(partitionIndex: 0, errorCode: code, offset: code == 0 ? 42 : -1)])])
            default: return nil
            }
        }
    }

    @Test func offsetNotAvailableIsAskedAgain() async throws {
        // OFFSET_NOT_AVAILABLE (78): a new leader whose high watermark is not yet known.
        let broker = try Self.broker([78, 0])
        defer { broker.stop() }
        let client = try SpoolClient(bootstrap: broker.address, clientId: "test", requestTimeoutMs: 2_000)
        defer { client.close() }
        let zero = TopicPartition("jobs", 0)
        #expect(try await client.listOffsets([zero], timestamp: -1) == [zero: 42])
        #expect(broker.requests(.listOffsets).count == 2)
    }

    @Test func offsetNotAvailableForTheWholeRequestTimeoutFailsNamingIt() async throws {
        let broker = try Self.broker([78])
        defer { broker.stop() }
        let client = try SpoolClient(bootstrap: broker.address, clientId: "test", requestTimeoutMs: 500)
        defer { client.close() }
        let failure = await #expect(throws: ClientError.self) { try await client.listOffsets([TopicPartition("jobs", 0)], timestamp: -1) }
        #expect(failure?.description.contains("OFFSET_NOT_AVAILABLE (78)") == true, "\(String(describing: failure))")
        #expect(broker.requests(.listOffsets).count > 1)
    }
}
