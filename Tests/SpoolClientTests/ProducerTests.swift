import SpoolBroker
import SpoolClient
import SpoolFormat
import Testing

@Suite struct ProducerTests {
    @Test func keyedRecordsLandOnTheirMurmur2PartitionsInOrder() async throws {
        let server = try ClientTestServer()
        defer { server.stop() }
        let client = try server.client()
        defer { client.close() }
        try await client.createTopic("orders", partitions: 4)
        let producer = Producer(client: client)
        let sent = try await withThrowingTaskGroup(of: (Int, RecordMetadata).self) { group in
            for index in 0..<400 {
                group.addTask { (index, try await producer.send(topic: "orders", key: "customer-\(index % 13)", value: "order-\(index)")) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(sent.count == 400)
        for (index, metadata) in sent {
            #expect(metadata.partition == Partitioner.partition(forKey: Array("customer-\(index % 13)".utf8), partitions: 4))
        }
        // Offsets are unique and contiguous per partition.
        for partition in 0..<Int32(4) {
            let offsets = sent.values.filter { $0.partition == partition }.map(\.offset).sorted()
            #expect(offsets == Array(0..<Int64(offsets.count)))
        }
        // Batches were stored with a producer id and contiguous sequences (idempotence is on).
        let fetched = await server.broker.fetch([FetchPartitionRequest(TopicPartition("orders", 0), fetchOffset: 0)], maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        var nextSequence: Int32 = 0
        try fetched[0].records?.forEachBatch { bytes in
            let header = try RecordBatchHeader(parsing: bytes)
            #expect(header.producerId >= 0)
            #expect(header.baseSequence == nextSequence)
            nextSequence = header.lastSequence + 1
        }
        #expect(nextSequence > 0)
        await producer.close()
    }

    @Test func batchesGroupRecordsSentTogether() async throws {
        let server = try ClientTestServer()
        defer { server.stop() }
        let client = try server.client()
        defer { client.close() }
        var options = Producer.Options()
        options.lingerMs = 50
        let producer = Producer(client: client, options: options)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 { group.addTask { _ = try await producer.send(topic: "batched", key: nil, value: "v\(index)") } }
            try await group.waitForAll()
        }
        let fetched = await server.broker.fetch([FetchPartitionRequest(TopicPartition("batched", 0), fetchOffset: 0)], maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        var batches = 0
        fetched[0].records?.forEachBatch { _ in batches += 1 }
        #expect(fetched[0].highWatermark == 100)
        #expect(batches < 20, "100 records sent within the linger went in a few batches, not \(batches)")
    }

    @Test func acksZeroIsFireAndForget() async throws {
        let server = try ClientTestServer()
        defer { server.stop() }
        let client = try server.client()
        defer { client.close() }
        try await client.createTopic("events")
        var options = Producer.Options()
        options.acks = 0
        options.idempotent = false
        let producer = Producer(client: client, options: options)
        let metadata = try await producer.send(topic: "events", key: nil, value: "no answer")
        #expect(metadata.offset == -1)
        for _ in 0..<1_500 where (try? server.broker.describeTopic("events").partitions[0].highWatermark) != 1 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try server.broker.describeTopic("events").partitions[0].highWatermark == 1)
    }

    @Test func errorsAreClear() async throws {
        let server = try ClientTestServer()
        defer { server.stop() }
        let client = try server.client()
        defer { client.close() }
        try await client.createTopic("small", configs: ["max.message.bytes": "1000"])
        let producer = Producer(client: client)
        await #expect { _ = try await producer.send(topic: "small", key: nil, value: [UInt8](repeating: 1, count: 5000)) } throws: { error in
            guard case .kafka(code: 10, _) = error as? ClientError else { return false }
            return true
        }
        await #expect { _ = try await producer.send(topic: "small", key: nil, value: [1], partition: 9) } throws: { error in
            guard case .kafka(code: 3, _) = error as? ClientError else { return false }
            return true
        }
        let nowhere = try SpoolClient(bootstrap: "127.0.0.1:1")
        await #expect { _ = try await nowhere.listTopics() } throws: { error in
            guard case .connection = error as? ClientError else { return false }
            return true
        }
        #expect(throws: ClientError.self) { try SpoolClient(bootstrap: "no-port") }
    }
}
