import Foundation
import SpoolFormat
@testable import SpoolServer
import SpoolSystem
import SpoolTestSupport
import Testing

/// Stopping the server while requests are still running: parked fetches, joins waiting for their
/// rebalance and pipelined produces finish after the loops stopped and still hand their responses
/// over. Nothing may then read, write or close a descriptor the server already closed: its number
/// may name a checkpoint file or another connection by then.
@Suite(.serialized) struct ServerShutdownTests {
    @Test(.timeLimit(.minutes(2)))
    func stoppingUnderLoadTouchesNoClosedDescriptor() async throws {
        let spool = try InProcessServer()
        defer { spool.stop() }
        _ = try await spool.client(creating: "load")
        // The fetches read a topic nothing is produced to, so they park whatever the timing.
        _ = try await spool.client(creating: "quiet")

        // Parked for 2.5 s: they finish well after the stop below.
        let fetchers = try (0..<8).map { _ in try RawClient(port: spool.port) }
        for fetcher in fetchers { fetcher.send(frame: RequestFrames.fetch(topic: "quiet", partition: 0, offset: 0, maxWaitMs: 2500)) }
        // Parked for the groups' initial rebalance delay (300 ms).
        let joiners = try (0..<4).map { _ in try RawClient(port: spool.port) }
        for (index, joiner) in joiners.enumerated() { joiner.send(frame: RequestFrames.joinGroup(group: "g\(index)")) }
        // Pipelined produces, some still appending or waiting for their flush at the stop.
        let batch = RecordBatch(producing: [ProducerRecord(value: [UInt8](repeating: 1, count: 1000), timestamp: 1)]).encoded()
        let producers = try (0..<4).map { _ in try RawClient(port: spool.port) }
        for producer in producers {
            producer.send(pipelined((0..<50).map { RequestFrames.produce(topic: "load", partition: 0, batch: batch, correlation: Int32($0)) }))
        }
        #expect(await eventually { spool.broker.metrics.fetchesParked.load(ordering: .relaxed) == fetchers.count }, "the fetches parked")

        spool.server.stop()
        #expect(spool.network.openDescriptors.isEmpty, "every socket, epoll and eventfd the server opened is closed")
        // The broker is still open and opens files (segments, checkpoints) that may take the
        // numbers just freed, while the parked requests finish and submit their responses.
        let files = try openFiles(in: spool.data + "/after-stop", count: 32)
        defer { for fd in files { close(fd) } }
        #expect(await eventually { spool.broker.metrics.fetchesParked.load(ordering: .relaxed) == 0 }, "the parked fetches finished")
        try await Task.sleep(for: .milliseconds(500))  // the joins' delay has passed too; their tasks ran

        #expect(spool.network.callsAfterClose == [], "no read, write or close of a descriptor after it was closed")
        #expect(writtenFiles(files) == [], "files opened after the stop were written to")
        #expect(spool.network.count(.write) > 0, "the seam saw the server's writes")
    }

    /// The loop accepts a connection in the same turn as it runs the stop: the hand-over to the
    /// connection's loop comes after the stop closed every connection, so it closes the socket.
    @Test(.timeLimit(.minutes(1)))
    func aConnectionAcceptedAsTheServerStopsIsClosed() async throws {
        let spool = try InProcessServer { $0.eventLoops = 1 }
        defer { spool.stop() }
        let gate = spool.network.holdNextReadyWait()
        let client = try RawClient(port: spool.port)
        // The loop's wait has reported the listener readable and is held before it accepts.
        #expect(await blocking { gate.held.wait(timeout: .now() + 10) == .success }, "the loop saw the connection")
        let server = spool.server
        let stopped = Task.detached { await blocking { server.stop() } }
        try await Task.sleep(for: .milliseconds(200))  // the stop's task is queued on the loop
        gate.open()
        await stopped.value
        #expect(spool.network.openDescriptors.isEmpty, "the accepted socket is closed with everything else")
        #expect(await blocking { client.isClosedByPeer() })
        #expect(server.connections == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func theHTTPListenerClosesItsDescriptorsOnItsOwnThread() async throws {
        let spool = try InProcessServer()
        defer { spool.stop() }
        let network = RecordingNetworkSystem()
        var config = HTTPConfig()
        config.port = 0
        let http = try HTTPServer(config: config, handler: ConsoleHandler(broker: spool.broker, server: spool.server, jobs: nil), network: network)
        let text = await blocking { httpGet(port: Int(http.port), path: "/metrics") }
        #expect(text.contains("spool_connections_paused 0"))
        #expect(text.contains("spool_buffered_request_bytes 0"))
        // A client that connects and says nothing does not hold up the stop.
        let silent = try RawClient(port: Int(http.port))
        try await Task.sleep(for: .milliseconds(100))
        await blocking { http.stop() }
        #expect(await blocking { silent.isClosedByPeer() })
        #expect(network.openDescriptors.isEmpty, "listener, epoll, eventfd and client sockets are closed")
        #expect(network.callsAfterClose == [])
    }
}
