import Foundation
import SpoolBroker
import SpoolFormat
@testable import SpoolServer
import SpoolSystem
import SpoolTestSupport
import SpoolWire
import Testing

/// The connection's output queue: frames go out in order, whole, however the socket takes them.
@Suite struct OutputQueueTests {
    /// A frame of `pieces` pieces: small encoded bytes around large records fields.
    static func frame(_ tag: UInt8, records: Int) -> ResponseFrame {
        let response = FetchResponse(responses: [.init(topic: "t", partitions: (0..<records).map { index in
            .init(partitionIndex: Int32(index), records: RecordBytes([UInt8](repeating: tag &+ UInt8(index), count: ResponseFrame.spliceRecordsMin + index)))
        })])
        return Frames.responseFrame(response, version: 11, correlationId: Int32(tag), headerVersion: 0)
    }

    /// A socket that takes at most `chunk` bytes a call, and nothing on every `stallEvery`th call.
    final class Socket {
        var received: [UInt8] = []
        var calls: [Int] = []
        let chunk: Int
        let stallEvery: Int
        init(chunk: Int, stallEvery: Int = 0) { self.chunk = chunk; self.stallEvery = stallEvery }

        func write(_ buffers: [UnsafeRawBufferPointer]) -> Int? {
            calls.append(buffers.count)
            #expect(buffers.count <= gatherCountMax)
            if stallEvery > 0 && calls.count.isMultiple(of: stallEvery) { return nil }
            var left = chunk
            for buffer in buffers where left > 0 {
                let take = min(left, buffer.count)
                received += buffer[..<take]
                left -= take
            }
            return chunk - left
        }
    }

    @Test("frames reach the socket in order and whole through partial writes, stalls and more pieces than one write gathers",
          arguments: [7, 1_000, 4_096, 100_000, 1 << 30])
    func inOrder(chunk: Int) {
        let frames = (0..<6).map { Self.frame(UInt8($0) &* 40, records: $0 == 3 ? 40 : $0 + 1) }
        let expected = frames.flatMap(\.bytes)
        var queue = OutputQueue()
        for frame in frames { queue.append(frame) }
        #expect(queue.count == expected.count)
        #expect(queue.queuedTotal == expected.count)
        let socket = Socket(chunk: chunk, stallEvery: 3)
        var rounds = 0
        while !queue.isEmpty && rounds < 1_000_000 {
            let before = queue.count
            let written = queue.write { socket.write($0) }
            #expect(queue.count == before - written)
            rounds += 1
        }
        #expect(queue.isEmpty)
        #expect(queue.writtenTotal == expected.count)
        #expect(socket.received == expected)
        #expect(socket.calls.first == gatherCountMax, "a write gathers as many pieces as it may")
    }

    @Test("a write that takes nothing leaves the queue as it was, and a frame queued later goes after the rest")
    func stallThenMore() {
        var queue = OutputQueue()
        let first = Self.frame(1, records: 2)
        queue.append(first)
        #expect(queue.write { _ in nil } == 0)
        #expect(queue.count == first.count)
        let socket = Socket(chunk: 100)
        _ = queue.write { socket.write($0) }
        let second = Self.frame(2, records: 1)
        queue.append(second)
        let all = Socket(chunk: 1 << 30)
        _ = queue.write { all.write($0) }
        #expect(socket.received + all.received == first.bytes + second.bytes)
        #expect(queue.isEmpty)
    }
}

/// A fetch's stored batches are not copied into its response: the response frame holds them by
/// reference, pointing into the segment's mapping, for the connection's gathering write.
@Suite struct FetchResponseSpliceTests {
    @Test("a fetch response's records piece points at the bytes the broker reads from the log")
    func recordsStayInTheMapping() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let broker = try Broker.open(BrokerConfig(dataDirectory: data))
        defer { try? broker.close() }
        try broker.createTopic("t")
        let batch = RecordBatch(producing: (0..<64).map { index in
            ProducerRecord(key: nil, value: [UInt8](repeating: UInt8(index), count: 200), timestamp: 1_764_370_000_000)
        }).encoded()
        _ = try await broker.produce(topic: "t", partition: 0, records: batch, acks: .all)
        let router = RequestRouter(broker: broker, nodeId: 0, host: "127.0.0.1", port: 9092)
        guard case let .response(frame) = await router.respond(to: RequestFrames.fetch(topic: "t", partition: 0, offset: 0), client: "test") else {
            Issue.record("the fetch was not answered")
            return
        }
        let pieces = frame.pieces.compactMap { piece -> RecordBytes? in
            if case let .records(records) = piece { return records }
            return nil
        }
        try #require(pieces.count == 1)
        let stored = try #require(await broker.fetch([FetchPartitionRequest(TopicPartition("t", 0), fetchOffset: 0)],
                                                     maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20).first?.records)
        #expect(pieces[0].bytes == batch)
        let piece = pieces[0].withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        let mapped = stored.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(piece == mapped)
    }
}
