import Foundation
import SpoolFormat
import SpoolFuzzSupport
import SpoolWire
import Testing

/// Requests pipelined on one connection take effect in the order they were sent, as in Kafka:
/// librdkafka commits asynchronously and pipelines, and expects the last commit to win.
@Suite(.serialized) struct PipelinedOrderTests {
    /// Sends every frame in one write, then reads one response per frame.
    private func pipeline(_ frames: [[UInt8]], on client: RawClient) async -> [[UInt8]] {
        var bytes: [UInt8] = []
        for frame in frames { bytes += withUnsafeBytes(of: UInt32(frame.count).bigEndian) { Array($0) } + frame }
        client.send(bytes)
        return await blocking { (0..<frames.count).compactMap { _ in client.receive() } }
    }

    /// The committed offset of partition 0 of `topic` in an OffsetFetch v5 response frame.
    private func committedOffset(_ frame: [UInt8], topic: String) throws -> Int64? {
        let response = try Frames.decodeResponse(frame, to: OffsetFetchRequest.self, version: 5)
        return response.topics.first { $0.name == topic }?.partitions.first { $0.partitionIndex == 0 }?.committedOffset
    }

    private func startWithTopic(_ topic: String) async throws -> (ServerProcess, RawClient, String) {
        let data = Clients.temporaryDirectory()
        let server = try await ServerProcess.start(data: data)
        let client = try RawClient(port: server.port)
        client.send(frame: RequestFrames.createTopics(topic))
        _ = await blocking { client.receive() }
        return (server, client, data)
    }

    @Test(.timeLimit(.minutes(2)))
    func fiveHundredPipelinedCommitsLeaveTheLastOneStored() async throws {
        let (server, client, data) = try await startWithTopic("orders")
        defer { server.kill(); try? FileManager.default.removeItem(atPath: data) }
        // Records for the commits to point into (a restart brings commits past the log end back).
        let records = (0..<2500).map { ProducerRecord(value: [UInt8(truncatingIfNeeded: $0)], timestamp: 1) }
        client.send(frame: RequestFrames.produce(topic: "orders", partition: 0, batch: RecordBatch(producing: records).encoded()))
        #expect(await blocking { client.receive() } != nil)
        for round in 0..<3 {
            let base = Int64(round * 1000)
            var frames = (1...500).map {
                RequestFrames.offsetCommit(group: "g", topic: "orders", offset: base + Int64($0), correlation: Int32($0))
            }
            frames.append(RequestFrames.offsetFetch(group: "g", correlation: 501))
            let answers = await pipeline(frames, on: client)
            #expect(answers.map(\.correlationId) == Array(1...501), "answered in order")
            for answer in answers.dropLast() { #expect(answer.int16(at: answer.count - 2) == 0, "commit acknowledged") }
            let fetched = try committedOffset(try #require(answers.last), topic: "orders")
            #expect(fetched == base + 500, "round \(round): the fetch pipelined after 500 commits reads the last")
        }
        // And after a crash and restart, too: nothing older overwrote it.
        server.kill()
        let restarted = try await ServerProcess.start(data: data)
        defer { restarted.kill() }
        let again = try RawClient(port: restarted.port)
        let answer = await pipeline([RequestFrames.offsetFetch(group: "g", correlation: 9)], on: again)
        let recovered = try committedOffset(try #require(answer.first), topic: "orders")
        #expect(recovered == 2500)
    }

    @Test(.timeLimit(.minutes(2)))
    func aFetchPipelinedAfterACommitReadsIt() async throws {
        let (server, client, data) = try await startWithTopic("ryw")
        defer { server.kill(); try? FileManager.default.removeItem(atPath: data) }
        for attempt in 1...100 {
            let offset = Int64(attempt)
            let answers = await pipeline([RequestFrames.offsetCommit(group: "ryw", topic: "ryw", offset: offset, correlation: 1),
                                          RequestFrames.offsetFetch(group: "ryw", correlation: 2)], on: client)
            #expect(answers.count == 2)
            #expect(try committedOffset(try #require(answers.last), topic: "ryw") == offset, "attempt \(attempt)")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aFetchPipelinedAfterAProduceSeesTheRecord() async throws {
        let (server, client, data) = try await startWithTopic("seen")
        defer { server.kill(); try? FileManager.default.removeItem(atPath: data) }
        for offset in Int64(0)..<20 {
            let batch = RecordBatch(producing: [ProducerRecord(value: Array("r\(offset)".utf8), timestamp: 1)]).encoded()
            let answers = await pipeline([RequestFrames.produce(topic: "seen", partition: 0, batch: batch, correlation: 1),
                                          RequestFrames.fetch(topic: "seen", partition: 0, offset: offset, correlation: 2)], on: client)
            #expect(answers.map(\.correlationId) == [1, 2])
            let fetch = try Frames.decodeResponse(try #require(answers.last), to: FetchRequest.self, version: 11)
            let partition = try #require(fetch.responses.first?.partitions.first)
            #expect(fetch.responses.first?.topic == "seen" && partition.errorCode == 0)
            #expect(partition.highWatermark == offset + 1, "the high watermark includes the record produced just before")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aProducePipelinedAfterCreateTopicsWritesToTheTopicItCreated() async throws {
        // Behind a Fetch that waits half a second (holding the connection's turn), a CreateTopics
        // of 4 partitions, then a Produce to its partition 3: the topic must be created by the
        // CreateTopics, not auto-created by the Produce with the default single partition.
        let (server, client, data) = try await startWithTopic("slow")
        defer { server.kill(); try? FileManager.default.removeItem(atPath: data) }
        let create = RequestSamples.frame(CreateTopicsRequest(topics: [.init(name: "four", numPartitions: 4, replicationFactor: 1)], timeoutMs: 1000),
                                          version: 4, correlation: 2)
        let batch = RecordBatch(producing: [ProducerRecord(value: Array("r".utf8), timestamp: 1)]).encoded()
        let answers = await pipeline([RequestFrames.fetch(topic: "slow", partition: 0, offset: 0, maxWaitMs: 500, correlation: 1), create,
                                      RequestFrames.produce(topic: "four", partition: 3, batch: batch, correlation: 3)], on: client)
        #expect(answers.map(\.correlationId) == [1, 2, 3])
        let created = try Frames.decodeResponse(try #require(answers.dropFirst().first), to: CreateTopicsRequest.self, version: 4)
        #expect(created.topics.first?.errorCode == 0)
        let produced = try Frames.decodeResponse(try #require(answers.last), to: ProduceRequest.self, version: 7)
        #expect(produced.responses.first?.partitionResponses.first?.errorCode == 0)
    }
}

