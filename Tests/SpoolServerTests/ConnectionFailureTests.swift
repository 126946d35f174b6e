import Foundation
import Glibc
import SpoolFormat
import Testing

/// What a connection whose socket fails leaves behind: nothing, and the others go on.
@Suite(.serialized) struct ConnectionFailureTests {
    @Test(.timeLimit(.minutes(1)))
    func aFailedReadClosesOnlyThatConnectionAndGivesItsBytesBack() async throws {
        let spool = try InProcessServer()
        defer { spool.stop() }
        let setup = try await spool.client(creating: "reset")
        let victim = try RawClient(port: spool.port)
        #expect(await eventually { spool.server.connections == 2 })
        spool.network.inject(.read, errno: ECONNRESET)
        victim.send(frame: RequestFrames.metadata(nil, correlation: 1))
        // Closed with its request unread, so the client may see a reset rather than an end of file.
        #expect(await eventually { spool.server.connections == 1 }, "closed on the failed read")
        spool.network.clear()
        #expect(await blocking { victim.receive() } == nil)
        #expect(spool.server.bufferedRequestBytes == 0 && spool.server.bufferedResponseBytes == 0)
        #expect(try await spool.answersANewClient(), "the server goes on")
        #expect(spool.network.callsAfterClose == [])
        withExtendedLifetime(setup) {}
    }

    @Test(.timeLimit(.minutes(1)))
    func aConnectionTheKernelCannotWatchIsClosedAndTheServerGoesOn() async throws {
        let spool = try InProcessServer()
        defer { spool.stop() }
        spool.network.inject(.watch, errno: ENOSPC)
        let refused = try RawClient(port: spool.port)
        refused.send(frame: RequestFrames.metadata(nil, correlation: 4))
        #expect(await blocking { refused.receive() } == nil, "closed at once")
        spool.network.clear()
        #expect(await eventually { spool.server.connections == 0 })
        #expect(try await spool.answersANewClient())
        #expect(spool.network.callsAfterClose == [])
    }

    @Test(.timeLimit(.minutes(1)))
    func runningOutOfDescriptorsPausesAcceptingInsteadOfSpinning() async throws {
        let spool = try InProcessServer()
        defer { spool.stop() }
        spool.network.inject(.accept, errno: EMFILE)
        let client = try RawClient(port: spool.port)
        client.send(frame: RequestFrames.metadata(nil, correlation: 3))
        #expect(await eventually { spool.network.count(.accept) >= 1 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(spool.network.count(.accept) <= 3, "the listener is not watched while accepting fails")
        spool.network.clear()
        #expect(await blocking { client.receive() }?.correlationId == 3, "accepted once the pause is over")
    }

    @Test(.timeLimit(.minutes(1)))
    func aRequestThatClosesTheConnectionLetsNoLaterOneTakeEffect() async throws {
        // Behind a Fetch that waits half a second, a request Spool closes the connection for (an
        // unknown API key), then a Produce: the Fetch is answered, the connection closes, and the
        // Produce, which would never be answered (and so be sent again), stores nothing.
        let spool = try InProcessServer()
        defer { spool.stop() }
        let client = try await spool.client(creating: "slow")
        let batch = RecordBatch(producing: [ProducerRecord(value: Array("r".utf8), timestamp: 1)]).encoded()
        client.send(pipelined([RequestFrames.fetch(topic: "slow", partition: 0, offset: 0, maxWaitMs: 500, correlation: 1),
                               RequestFrames.header(999, 0, correlation: 2).bytes,
                               RequestFrames.produce(topic: "slow", partition: 0, batch: batch, correlation: 3)]))
        #expect(await blocking { client.receive() }?.correlationId == 1)
        #expect(await blocking { client.receive() } == nil, "closed after the answers before the bad request")
        try await Task.sleep(for: .milliseconds(200))
        #expect(spool.broker.logEndOffset(topic: "slow", partition: 0) == 0, "the produce after it stored nothing")
    }

    @Test(.timeLimit(.minutes(1)))
    func aResponseLargerThanOneWriteIsSentWholeBeforeTheCloseItPrecedes() async throws {
        // A 4 MiB Fetch answer, then a request that closes the connection: a client reading slowly
        // gets the whole answer, then the end of the stream.
        let spool = try await serverWithABigTopic()
        defer { spool.stop() }
        let reader = try RawClient(port: spool.port, receiveBufferBytes: 16 << 10)
        reader.send(pipelined([RequestFrames.fetch(topic: "big", partition: 0, offset: 0, maxBytes: 8 << 20, correlation: 1),
                               RequestFrames.header(999, 0, correlation: 2).bytes]))
        try await Task.sleep(for: .milliseconds(300))
        let answer = await blocking { reader.receive() }
        #expect(answer?.correlationId == 1)
        #expect((answer?.count ?? 0) > 4 << 20, "the whole answer: \(answer?.count ?? 0) bytes")
        #expect(await blocking { reader.receive() } == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func requestsPipelinedBehindTheCloseDoNotResetTheConnectionBeforeTheAnswersGetThere() async throws {
        // As above, with 256 KiB of requests sent behind the one that closes the connection, which
        // the server never reads: closed with them unread, the socket was reset, the kernel dropped
        // what it still held of the 4 MiB answer, and the client's read failed part way.
        let spool = try await serverWithABigTopic()
        defer { spool.stop() }
        let reader = try RawClient(port: spool.port, receiveBufferBytes: 16 << 10)
        let behind = RecordBatch(producing: [ProducerRecord(value: [UInt8](repeating: 0x41, count: 64 << 10), timestamp: 1)]).encoded()
        reader.send(pipelined([RequestFrames.fetch(topic: "big", partition: 0, offset: 0, maxBytes: 8 << 20, correlation: 1),
                               RequestFrames.header(999, 0, correlation: 2).bytes]
                              + (3..<7).map { RequestFrames.produce(topic: "big", partition: 0, batch: behind, correlation: Int32($0)) }))
        try await Task.sleep(for: .milliseconds(300))
        let answer = await blocking { reader.receive() }
        #expect(answer?.correlationId == 1)
        #expect((answer?.count ?? 0) > 4 << 20, "the whole answer: \(answer?.count ?? 0) bytes")
        #expect(await blocking { reader.receive() } == nil)
        #expect(spool.broker.logEndOffset(topic: "big", partition: 0) == 5, "nothing behind the close was stored")
    }

    /// A server whose topic "big" holds five records of 900 KiB: a Fetch of it answers 4.5 MiB.
    private func serverWithABigTopic() async throws -> InProcessServer {
        let spool = try InProcessServer()
        let client = try await spool.client(creating: "big")
        for round in 0..<5 {
            let batch = RecordBatch(producing: [ProducerRecord(value: [UInt8](repeating: 0x5A, count: 900 << 10), timestamp: 1)]).encoded()
            client.send(frame: RequestFrames.produce(topic: "big", partition: 0, batch: batch, correlation: Int32(round)))
            #expect(await blocking { client.receive() } != nil)
        }
        return spool
    }
}
