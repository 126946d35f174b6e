import Foundation
import SpoolFormat
import Testing

/// What a hostile or clumsy client can do to `spool serve` over a socket, and what it gets back.
@Suite(.serialized) struct ServerLimitsTests {
    @Test(.timeLimit(.minutes(2)))
    func badFramesCloseOnlyTheirOwnConnection() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await ServerProcess.start(data: data, arguments: ["--max-frame-bytes", "65536"])
        defer { server.kill() }
        let bystander = try RawClient(port: server.port)

        let oversized = try RawClient(port: server.port)
        oversized.send([0x00, 0x10, 0x00, 0x00])  // 1 MiB declared, over the 64 KiB limit
        #expect(await blocking { oversized.isClosedByPeer() })

        let garbage = try RawClient(port: server.port)
        garbage.send(frame: [0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0x05])
        #expect(await blocking { garbage.isClosedByPeer() })

        let unknownApi = try RawClient(port: server.port)
        unknownApi.send(frame: RequestFrames.header(99, 0).bytes)
        #expect(await blocking { unknownApi.isClosedByPeer() })

        let unsupported = try RawClient(port: server.port)
        unsupported.send(frame: RequestFrames.header(1, 18).bytes + [UInt8](repeating: 0, count: 40))
        #expect(await blocking { unsupported.isClosedByPeer() })

        let negative = try RawClient(port: server.port)
        negative.send([0xFF, 0xFF, 0xFF, 0xF0])
        #expect(await blocking { negative.isClosedByPeer() })

        // The other connection was not disturbed.
        bystander.send(frame: RequestFrames.metadata(nil, correlation: 41))
        #expect(await blocking { bystander.receive() }?.correlationId == 41)
        // The server logs each refusal as it closes the connection; wait (bounded) for all three.
        let refusals = ["frame of 1048576 bytes is outside", "unknown API key 99", "unsupported version 18 of Fetch"]
        for _ in 0..<3_000 where !refusals.allSatisfy(server.output.contains) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(server.output.contains("frame of 1048576 bytes is outside"), "\(server.output)")
        #expect(server.output.contains("unknown API key 99"))
        #expect(server.output.contains("unsupported version 18 of Fetch"))
        #expect(server.isRunning)
    }

    @Test(.timeLimit(.minutes(2)))
    func apiVersionsFallsBackAndPipelinedRequestsAreAnsweredInOrder() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await ServerProcess.start(data: data)
        defer { server.kill() }
        let client = try RawClient(port: server.port)
        // A version Spool does not know (v9): answered in v0 layout, header v0, with the range it has.
        client.send(frame: RequestFrames.apiVersions(version: 9, correlation: 1))
        let fallback = try #require(await blocking { client.receive() })
        #expect(fallback.correlationId == 1)
        #expect(fallback.int16(at: 4) == 35, "UNSUPPORTED_VERSION in v0 layout")
        #expect(fallback.int32(at: 6) == 1, "one entry: ApiVersions itself")
        #expect(fallback.int16(at: 10) == 18 && fallback.int16(at: 12) == 0 && fallback.int16(at: 14) == 4)

        // Three requests in one write; the slow one (a fetch parked 500 ms) does not let the
        // ones behind it overtake it.
        client.send(frame: RequestFrames.createTopics("slow"))
        _ = await blocking { client.receive() }
        let frames = [RequestFrames.apiVersions(version: 2, correlation: 2),
                      RequestFrames.fetch(topic: "slow", partition: 0, offset: 0, maxWaitMs: 500),
                      RequestFrames.metadata(nil, correlation: 4)]
        var bytes: [UInt8] = []
        for (index, frame) in frames.enumerated() {
            var frame = frame
            if index == 1 { frame.replaceSubrange(4..<8, with: [0, 0, 0, 3]) }
            bytes += withUnsafeBytes(of: UInt32(frame.count).bigEndian) { Array($0) } + frame
        }
        let started = Date()
        client.send(bytes)
        let answers = await blocking { (0..<3).compactMap { _ in client.receive()?.correlationId } }
        #expect(answers == [2, 3, 4])
        #expect(Date().timeIntervalSince(started) >= 0.45, "the fetch really parked, and the metadata waited behind it")
    }

    @Test(.timeLimit(.minutes(2)))
    func aParkedFetchDoesNotHoldUpOtherConnections() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await ServerProcess.start(data: data)
        defer { server.kill() }
        let setup = try RawClient(port: server.port)
        setup.send(frame: RequestFrames.createTopics("quiet"))
        _ = await blocking { setup.receive() }
        let parked = try RawClient(port: server.port)
        // Parked for 30 s, three times RawClient's 10 s receive timeout: an answer received at
        // all came before the fetch's deadline.
        parked.send(frame: RequestFrames.fetch(topic: "quiet", partition: 0, offset: 0, maxWaitMs: 30_000))
        let other = try RawClient(port: server.port)
        other.send(frame: RequestFrames.metadata(["quiet"], correlation: 9))
        #expect(await blocking { other.receive() }?.correlationId == 9, "answered while the other connection's fetch is parked")
        // A produce wakes the parked fetch long before its deadline.
        let batch = RecordBatch(producing: [ProducerRecord(value: Array("wake".utf8), timestamp: 1)]).encoded()
        other.send(frame: RequestFrames.produce(topic: "quiet", partition: 0, batch: batch))
        _ = await blocking { other.receive() }
        let woken = await blocking { parked.receive() }
        #expect(woken != nil, "woken by the produce")
    }

    @Test(.timeLimit(.minutes(2)))
    func connectionLimitAndIdleTimeout() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await ServerProcess.start(data: data, arguments: ["--max-connections", "2", "--idle-timeout-ms", "1000"])
        defer { server.kill() }
        let first = try RawClient(port: server.port)
        let second = try RawClient(port: server.port)
        first.send(frame: RequestFrames.metadata(nil, correlation: 1))
        second.send(frame: RequestFrames.metadata(nil, correlation: 2))
        let firstAnswer = await blocking { first.receive() }
        let secondAnswer = await blocking { second.receive() }
        #expect(firstAnswer != nil && secondAnswer != nil)
        let third = try RawClient(port: server.port)
        #expect(await blocking { third.isClosedByPeer() }, "over the limit: closed at once")
        try await Task.sleep(for: .seconds(3))
        #expect(await blocking { first.isClosedByPeer() }, "idle for more than 1 s: closed")
        #expect(server.output.contains("refusing a connection"))
        #expect(server.output.contains("idle for more than 1000 ms"))
        let fresh = try RawClient(port: server.port)
        fresh.send(frame: RequestFrames.metadata(nil, correlation: 5))
        #expect(await blocking { fresh.receive() }?.correlationId == 5, "room again once the idle ones are gone")
    }
}
