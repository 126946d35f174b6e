import Dispatch
import Foundation
import SpoolBroker
import SpoolFormat
import SpoolLog
import SpoolServer
import SpoolSystem
import SpoolWire
import Synchronization

/// `spool-bench wire`: the Kafka-protocol server driven over loopback.
struct WireBenchmark {
    static let help = """
        usage: spool-bench wire [--records N] [--batch-records N] [--connections N] [--dir DIR] [--json]

        Starts spool serve (in this process, fsync=always) on a free loopback port with a topic of
        8 partitions, then:
          produce: N records of 100 bytes with acks=all (-1) over several connections, each keeping
                   8 Produce requests in flight, one batch per request;
          consume: the whole N-record backlog read back with Fetch (1 MiB per partition), counting
                   records from the batch headers, as a consumer that does not decode would.
        Prints records/s and MB/s for each, beside the same produce straight into the broker
        (no network) from this run.

        options:
          --records N        records to produce (default 1000000)
          --batch-records N  records per batch (default 500)
          --connections N    producer connections (default 4)
          --dir DIR          data directory parent (default ./.bench-tmp); removed afterwards
          --json             print one JSON object with the figures as the last line
        """

    struct Options {
        var records = 1_000_000
        var batchRecords = 500
        var connections = 4
        var directory = ".bench-tmp"
        var json = false
        var help = false

        init(_ words: ArraySlice<String>) throws {
            var words = BenchWords(words)
            while let flag = try words.next() {
                switch flag {
                case "--records": records = try words.number(flag, 1_000...100_000_000)
                case "--batch-records": batchRecords = try words.number(flag, 1...10_000)
                case "--connections": connections = try words.number(flag, 1...64)
                default: throw UsageError("unknown option \(flag)")
                }
            }
            (directory, json, help) = (words.directory, words.json, words.help)
        }
    }

    let options: Options
    static let partitions: Int32 = 8
    static let inFlight = 8

    func run() async throws {
        let root = options.directory + "/spool-bench-wire-\(getpid())"
        try LiveFileSystem().makeDirectories(root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let broker = try Broker.open(BrokerConfig(dataDirectory: root + "/wire"))
        try broker.createTopic("bench", partitions: Int(Self.partitions))
        var serverConfig = ServerConfig()
        serverConfig.port = 0
        let server = try Server(config: serverConfig, broker: broker)
        defer {
            server.stop()
            try? broker.close()
        }
        let batch = RecordBatch(producing: (0..<options.batchRecords).map { index in
            ProducerRecord(key: Array("user-\(index)".utf8), value: [UInt8](repeating: UInt8(ascii: "v"), count: 100), timestamp: currentTimeMs())
        }).encoded()
        let batches = (options.records + options.batchRecords - 1) / options.batchRecords

        let produce = try produceOverWire(port: server.port, batch: batch, batches: batches)
        let consume = try consumeOverWire(port: server.port)
        let direct = try await produceDirect(root: root + "/direct", batch: batch, batches: batches)

        let records = batches * options.batchRecords
        let produceRate = Double(records) / produce
        let consumeRate = Double(consume.records) / consume.seconds
        let directRate = Double(records) / direct
        let recordBytes = Double(batch.count) / Double(options.batchRecords)
        print("""
            spool-bench wire: \(records) records of 100 bytes (\(options.batchRecords) per batch, \(Self.partitions) partitions), fsync=always, loopback
            server and load generator share this process and its cores

            \(row("workload", "records/s", "MB/s"))
            \(row("produce, acks=all, \(options.connections) connections x \(Self.inFlight) in flight", format(produceRate, 0), format(produceRate * recordBytes / 1_048_576)))
            \(row("consume, 1 connection, Fetch v11", format(consumeRate, 0), format(consumeRate * recordBytes / 1_048_576)))
            \(row("baseline: same produce into the broker, no network", format(directRate, 0), format(directRate * recordBytes / 1_048_576)))

            wire produce vs in-process: \(format(produceRate / directRate * 100)) %
            """)
        if options.json {
            print("{\"produce_records_per_s\": \(format(produceRate, 0)), \"consume_records_per_s\": \(format(consumeRate, 0)), "
                  + "\"in_process_produce_records_per_s\": \(format(directRate, 0)), \"consumed_records\": \(consume.records)}")
        }
    }

    /// One line of the table: the label padded to its column, the figures right-aligned in theirs
    /// (never cut: a wider figure widens its line).
    private func row(_ label: String, _ records: String, _ megabytes: String) -> String {
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        return label.padding(toLength: max(label.count, 52), withPad: " ", startingAt: 0) + right(records, 12) + right(megabytes, 10)
    }

    /// Produce v7 with acks=-1 over `connections` sockets, each with `inFlight` requests outstanding.
    private func produceOverWire(port: UInt16, batch: [UInt8], batches: Int) throws -> Double {
        let failure = Mutex<String?>(nil)
        let started = monotonicNanoseconds()
        let perConnection = (batches + options.connections - 1) / options.connections
        // A thread per connection, all at once (`concurrentPerform` would run no more of them at a
        // time than there are cores, and so fewer requests in flight than the label says).
        Self.onThreads(options.connections) { connection in
            do {
                let client = try WireClient(port: port)
                let count = min(perConnection, batches - connection * perConnection)
                var sent = 0
                var received = 0
                while received < count {
                    while sent < count && sent - received < Self.inFlight {
                        try client.send(produceRequest(batch: batch, partition: Int32((connection + sent) % Int(Self.partitions))), version: 7)
                        sent += 1
                    }
                    let response = try client.receive(ProduceRequest.self, version: 7)
                    let code = response.responses.first?.partitionResponses.first?.errorCode ?? -1
                    if code != 0 { throw UsageError("produce answered error \(code)") }
                    received += 1
                }
            } catch {
                failure.withLock { $0 = String(describing: error) }
            }
        }
        if let message = failure.withLock({ $0 }) { throw UsageError(message) }
        return seconds(since: started)
    }

    /// Runs `body(index)` for each index below `count`, each on a thread of its own, and waits for all.
    private static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchGroup()
        for index in 0..<count {
            done.enter()
            Thread {
                body(index)
                done.leave()
            }.start()
        }
        done.wait()
    }

    private func produceRequest(batch: [UInt8], partition: Int32) -> ProduceRequest {
        ProduceRequest(acks: -1, timeoutMs: 30_000, topicData: [.init(name: "bench", partitionData: [.init(index: partition, records: RecordBytes(batch))])])
    }

    /// Reads every partition from offset 0 to its high watermark with Fetch v11.
    private func consumeOverWire(port: UInt16) throws -> (records: Int, seconds: Double) {
        let client = try WireClient(port: port)
        var offsets = [Int64](repeating: 0, count: Int(Self.partitions))
        var watermarks = [Int64](repeating: Int64.max, count: Int(Self.partitions))
        var records = 0
        let started = monotonicNanoseconds()
        while zip(offsets, watermarks).contains(where: { $0 < $1 }) {
            let request = FetchRequest(replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 64 << 20, sessionEpoch: -1, topics: [
                .init(topic: "bench", partitions: (0..<Self.partitions).map {
                    .init(partition: $0, fetchOffset: offsets[Int($0)], partitionMaxBytes: 1 << 20)
                }),
            ])
            try client.send(request, version: 11)
            let response = try client.receive(FetchRequest.self, version: 11)
            for answer in response.responses.flatMap(\.partitions) {
                let partition = Int(answer.partitionIndex)
                watermarks[partition] = answer.highWatermark
                (answer.records ?? RecordBytes([])).withUnsafeBytes { raw in
                    var position = 0
                    while position + RecordBatchLayout.headerSize <= raw.count,
                          let size = RecordBatchView.declaredSize(UnsafeRawBufferPointer(rebasing: raw[position...])), position + size <= raw.count {
                        let header = UnsafeRawBufferPointer(rebasing: raw[position..<(position + size)])
                        if let parsed = try? RecordBatchHeader(parsing: header) {
                            records += Int(parsed.recordsCount)
                            offsets[partition] = parsed.nextOffset
                        }
                        position += size
                    }
                }
            }
        }
        return (records, seconds(since: started))
    }

    /// The same batches produced into a broker in this process (acks=all), for comparison.
    private func produceDirect(root: String, batch: [UInt8], batches: Int) async throws -> Double {
        let broker = try Broker.open(BrokerConfig(dataDirectory: root))
        defer { try? broker.close() }
        try broker.createTopic("bench", partitions: Int(Self.partitions))
        let started = monotonicNanoseconds()
        let connections = options.connections
        let perConnection = (batches + connections - 1) / connections
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in 0..<connections {
                group.addTask {
                    let count = min(perConnection, batches - connection * perConnection)
                    // The same pipelining as the wire producers: `inFlight` produces outstanding.
                    try await withThrowingTaskGroup(of: Void.self) { inner in
                        for lane in 0..<Self.inFlight {
                            inner.addTask {
                                var index = lane
                                while index < count {
                                    _ = try await broker.produce(topic: "bench", partition: Int32((connection + index) % Int(Self.partitions)),
                                                                 records: batch, acks: .all)
                                    index += Self.inFlight
                                }
                            }
                        }
                        try await inner.waitForAll()
                    }
                }
            }
            try await group.waitForAll()
        }
        return seconds(since: started)
    }
}
