import Foundation
import SpoolFormat
@testable import SpoolServer
import Testing

/// Memory is bounded in bytes: a connection that pipelines more than it may hold, or stops reading
/// its responses, is no longer read from until what it holds drains, and the others go on.
@Suite(.serialized) struct ServerMemoryTests {
    static let connectionBytesMax = 2 << 20
    /// What a connection may hold past its limit: the rest of one read.
    static let slack = Connection.readBytes

    private func start(_ name: String = #function, connectionBytesMax: Int = connectionBytesMax,
                       bufferedBytesMax: Int = 64 << 20) async throws -> (InProcessServer, RawClient) {
        let spool = try InProcessServer(name) {
            $0.inFlightBytesMax = connectionBytesMax
            $0.bufferedBytesMax = bufferedBytesMax
        }
        return (spool, try await spool.client(creating: "big"))
    }

    /// A produce of one batch of about `bytes`.
    private func produce(_ bytes: Int, correlation: Int32) -> [UInt8] {
        let batch = RecordBatch(producing: [ProducerRecord(value: [UInt8](repeating: 0x5A, count: bytes), timestamp: 1)]).encoded()
        return RequestFrames.produce(topic: "big", partition: 0, batch: batch, correlation: correlation)
    }

    /// Stores `rounds` batches of 256 KiB in "big" through `client`.
    private func store(rounds: Int, through client: RawClient) async {
        for round in 0..<rounds {
            client.send(frame: produce(256 << 10, correlation: Int32(round)))
            #expect(await blocking { client.receive() } != nil)
        }
    }

    /// Sends what the socket takes of `bytes`, a little at a time (at most 3 s), until `done`
    /// holds; returns how many bytes went.
    private func send(_ bytes: [UInt8], on client: RawClient, until done: () -> Bool) async throws -> Int {
        var sent = 0
        for _ in 0..<300 where sent < bytes.count {
            sent += client.sendWithoutWaiting(Array(bytes[sent...]))
            if done() { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        return sent
    }

    @Test(.timeLimit(.minutes(2)))
    func pipelinedRequestsAreHeldToTheConnectionsByteLimit() async throws {
        let (spool, bystander) = try await start()
        defer { spool.stop() }
        let hog = try RawClient(port: spool.port)
        // A fetch parked for 3 s holds the connection's turn, so the produces behind it stay in
        // flight: without a byte limit the server would read and hold all of them (32 MiB).
        let bytes = pipelined([RequestFrames.fetch(topic: "big", partition: 0, offset: 0, maxWaitMs: 3000, maxBytes: 1024, correlation: 0)]
            + (1...128).map { produce(256 << 10, correlation: Int32($0)) })
        let sent = try await send(bytes, on: hog) { spool.server.pausedConnections > 0 }
        #expect(await eventually { spool.server.pausedConnections == 1 }, "the hog is no longer read from")
        let held = spool.server.bufferedRequestBytes
        #expect(held <= Self.connectionBytesMax + Self.slack, "request bytes held: \(held)")
        #expect(held >= Self.connectionBytesMax / 2, "the hog did fill its share: \(held)")
        #expect(spool.server.connectionBufferedBytesPeak <= Self.connectionBytesMax + Self.slack)
        #expect(sent < 32 << 20, "the rest waits in the client's socket, not in the broker")

        // Another connection is served meanwhile.
        bystander.send(frame: RequestFrames.metadata(["big"], correlation: 42))
        #expect(await blocking { bystander.receive() }?.correlationId == 42)
        #expect(spool.server.bufferedRequestBytes <= Self.connectionBytesMax + Self.slack)

        // Once the fetch's deadline passes, the produces behind it are answered, the hog is read
        // again, and its answers come back in order.
        let answers = await blocking { (0..<4).compactMap { _ in hog.receive()?.correlationId } }
        #expect(answers == [0, 1, 2, 3])
        #expect(await eventually { spool.server.pausedConnections == 0 || spool.server.bufferedRequestBytes <= Self.connectionBytesMax + Self.slack })
        #expect(spool.server.connectionBufferedBytesPeak <= Self.connectionBytesMax + Self.slack)
    }

    @Test(.timeLimit(.minutes(2)))
    func aClientThatDoesNotReadItsResponsesIsHeldToTheLimit() async throws {
        let (spool, bystander) = try await start()
        defer { spool.stop() }
        // 8 MiB stored, so each fetch below is answered with 512 KiB at once.
        await store(rounds: 32, through: bystander)
        let reader = try RawClient(port: spool.port)
        let fetch = RequestSamplesFetch.frame(maxBytes: 512 << 10)
        // 2,000 fetches (1 GiB of answers) pipelined by a client that never reads an answer.
        let bytes = pipelined([[UInt8]](repeating: fetch, count: 2000))
        _ = try await send(bytes, on: reader) {
            spool.server.pausedConnections > 0 && spool.server.bufferedResponseBytes > Self.connectionBytesMax / 2
        }
        #expect(await eventually { spool.server.pausedConnections == 1 }, "the reader is no longer read from")
        // Let whatever was in flight finish; the total must stay bounded.
        try await Task.sleep(for: .milliseconds(300))
        let held = spool.server.bufferedRequestBytes + spool.server.bufferedResponseBytes
        #expect(held <= Self.connectionBytesMax + Self.slack, "bytes held for the reader: \(held)")
        #expect(spool.server.connectionBufferedBytesPeak <= Self.connectionBytesMax + Self.slack)
        #expect(spool.broker.metrics.bytesOut.load(ordering: .relaxed) < 64 << 20, "only what fits was answered")

        bystander.send(frame: RequestFrames.metadata(["big"], correlation: 43))
        #expect(await blocking { bystander.receive() }?.correlationId == 43, "another connection is served meanwhile")
        // The reader starts reading: the server goes on answering it, in order.
        let first = await blocking { (0..<20).compactMap { _ in reader.receive()?.correlationId } }
        #expect(first.count == 20)
    }

    @Test(.timeLimit(.minutes(2)))
    func aWriteThatFailsWithResponsesQueuedClosesOnlyThatConnection() async throws {
        let (spool, bystander) = try await start()
        defer { spool.stop() }
        await store(rounds: 16, through: bystander)
        let reader = try RawClient(port: spool.port)
        let bytes = pipelined([[UInt8]](repeating: RequestSamplesFetch.frame(maxBytes: 512 << 10), count: 200))
        _ = try await send(bytes, on: reader) { spool.server.bufferedResponseBytes > 0 && spool.server.pausedConnections > 0 }
        #expect(await eventually { spool.server.bufferedResponseBytes > 0 }, "answers queued behind a full socket")
        spool.network.inject(.write, errno: EPIPE)
        // Reading makes room in the socket: the server's next write fails, and the connection
        // ends after the answers already in the sockets.
        let received = await blocking { (0..<200).prefix { _ in reader.receive() != nil }.count }
        #expect(received < 200)
        #expect(await eventually { spool.server.connections == 1 }, "the reader's connection closed")
        spool.network.clear()
        #expect(spool.server.bufferedResponseBytes == 0 && spool.server.bufferedRequestBytes == 0)
        bystander.send(frame: RequestFrames.metadata(nil, correlation: 45))
        #expect(await blocking { bystander.receive() }?.correlationId == 45)
        #expect(spool.network.callsAfterClose == [])
    }

    @Test(.timeLimit(.minutes(1)))
    func aRequestLargerThanBothLimitsStillGetsIn() async throws {
        // Limits of 2 KiB: a 64 KiB produce alone on its connection is answered, and so is the
        // next; the bytes read ahead of its size never count against the broker's budget, which
        // would then be used up by a connection that waits for it.
        let (spool, client) = try await start(connectionBytesMax: 2048, bufferedBytesMax: 2048)
        defer { spool.stop() }
        for correlation in Int32(1)...3 {
            client.send(frame: produce(64 << 10, correlation: correlation))
            #expect(await blocking { client.receive() }?.correlationId == correlation)
        }
        #expect(await eventually { spool.server.bufferedRequestBytes == 0 })
    }

    @Test(.timeLimit(.minutes(2)))
    func theBrokersBudgetBoundsAllConnectionsTogether() async throws {
        // Each connection may hold 2 MiB, all of them together 3 MiB.
        let (spool, bystander) = try await start(bufferedBytesMax: 3 << 20)
        defer { spool.stop() }
        let hogs = try (0..<3).map { _ in try RawClient(port: spool.port) }
        let bytes = pipelined([RequestFrames.fetch(topic: "big", partition: 0, offset: 0, maxWaitMs: 2000, maxBytes: 1024, correlation: 0)]
            + (1...32).map { produce(256 << 10, correlation: Int32($0)) })
        var sent = [Int](repeating: 0, count: hogs.count)
        for _ in 0..<100 {
            for (index, hog) in hogs.enumerated() where sent[index] < bytes.count {
                sent[index] += hog.sendWithoutWaiting(Array(bytes[sent[index]...]))
            }
            if spool.server.pausedConnections == hogs.count { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await eventually { spool.server.pausedConnections == hogs.count })
        let held = spool.server.bufferedRequestBytes
        // The rest of each hog's requests, sent as the server reads them.
        for (index, hog) in hogs.enumerated() where sent[index] < bytes.count {
            let rest = Array(bytes[sent[index]...])
            // A thread of its own: the send blocks until the server reads, which must not hold up
            // the dispatch threads the other tests wait on.
            Thread { hog.send(rest) }.start()
        }
        // Past the limit by at most one request (reserved with room left) and a read per connection.
        #expect(held <= (3 << 20) + (300 << 10) + hogs.count * Self.slack, "request bytes held: \(held)")
        // When the parked fetches end, everything drains and every hog is answered in order.
        for hog in hogs {
            let answers = await blocking { (0..<33).compactMap { _ in hog.receive()?.correlationId } }
            #expect(answers == Array(0...32))
        }
        #expect(await eventually { spool.server.bufferedRequestBytes == 0 && spool.server.pausedConnections == 0 })
        bystander.send(frame: RequestFrames.metadata(nil, correlation: 44))
        #expect(await blocking { bystander.receive() }?.correlationId == 44)
    }
}

/// A Fetch v11 of partition 0 of "big" from offset 0, answered at once, up to `maxBytes`.
enum RequestSamplesFetch {
    static func frame(maxBytes: Int32) -> [UInt8] {
        RequestFrames.fetch(topic: "big", partition: 0, offset: 0, maxWaitMs: 0, maxBytes: maxBytes)
    }
}
