import Foundation
import SpoolClient
import SpoolFormat
import SpoolWire
import Synchronization
import Testing

/// Group requests bounded by their own timeouts, and heartbeats that keep out of a join's way.
@Suite struct GroupTimeoutTests {
    /// A broker that is its own group coordinator: JoinGroup (after `joinDelay(n)` for the n-th,
    /// from 0) makes the caller member "m" and leader of a group of no subscriptions, SyncGroup
    /// assigns nothing, Heartbeat is answered if `heartbeats` and never otherwise, LeaveGroup never.
    private static func coordinator(heartbeats: Bool, joinDelay: @escaping @Sendable (Int) -> Double = { _ in 0 }) throws -> FakeBroker {
        let joins = Atomic(0)
        return try FakeBroker { broker, request in
            switch request.body {
            case .apiVersions?: return FakeBroker.apiVersions()
            case .metadata?: return FakeBroker.metadata(brokers: [(1, broker.port)], topics: [("jobs", [1])])
            case .findCoordinator?: return FindCoordinatorResponse(errorCode: 0, nodeId: 1, host: "127.0.0.1", port: broker.port)
            case .joinGroup?:
                let index = joins.add(1, ordering: .relaxed).oldValue
                Thread.sleep(forTimeInterval: joinDelay(index))
                return JoinGroupResponse(errorCode: 0, generationId: Int32(index + 1), protocolName: "range", leader: "m", memberId: "m")
            case .syncGroup?: return SyncGroupResponse(errorCode: 0)
            case .heartbeat?: return heartbeats ? HeartbeatResponse(errorCode: 0) : nil
            default: return nil
            }
        }
    }

    @Test func aHeartbeatAndALeaveTheCoordinatorNeverAnswersEndWithinTheirOwnTimeouts() async throws {
        let broker = try Self.coordinator(heartbeats: false)
        defer { broker.stop() }
        let client = try SpoolClient(bootstrap: broker.address, clientId: "test", requestTimeoutMs: 30_000)
        defer { client.close() }
        let transport = try NetworkConsumerTransport(settingsOf: client)
        let started = ContinuousClock.now
        let code = await transport.heartbeat(group: "g", generation: 1, memberId: "m", timeoutMs: 300)
        let heartbeat = ContinuousClock.now - started
        #expect(code == nil)
        // Not the client's 30 s request timeout: a member must see its session end in time.
        #expect(heartbeat < .seconds(3), "the heartbeat took \(heartbeat)")
        await transport.leaveGroup(group: "g", memberId: "m")
        let leave = ContinuousClock.now - started - heartbeat
        #expect(leave < .seconds(10), "leaving took \(leave)")
        await transport.close()
    }

    @Test func aRejoinTheCoordinatorHoldsLongerThanTheRequestTimeoutIsNotCutShortByHeartbeats() async throws {
        // The broker holds the second JoinGroup 1.5 s (another member slow to rejoin), past the
        // client's 1 s request timeout but within the 3 s rebalance timeout. A heartbeat sent
        // behind it on the same connection would time out first and drop the connection, the
        // JoinGroup with it.
        let broker = try Self.coordinator(heartbeats: true) { $0 == 1 ? 1.5 : 0 }
        defer { broker.stop() }
        let client = try SpoolClient(bootstrap: broker.address, clientId: "test", requestTimeoutMs: 1_000)
        defer { client.close() }
        var options = Consumer.Options()
        options.heartbeatIntervalMs = 100
        options.rebalanceTimeoutMs = 3_000
        let consumer = try Consumer(client: client, group: "g", topics: ["jobs"], options: options)
        try await consumer.join()
        try await consumer.join()
        #expect(consumer.generation == 2)
        #expect(broker.requests(.joinGroup).count == 2)
        await consumer.close()
    }
}
