import Foundation
import Glibc
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
}
