import Foundation
import SpoolBroker
import SpoolFormat
import SpoolLog

/// A data directory for one test, removed by `remove()`.
struct TestDataDirectory {
    let path: String

    init(_ name: String = #function) {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        path = NSTemporaryDirectory() + "spool-broker-\(safe)-\(UUID().uuidString.prefix(8))"
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    func config(fsync: FsyncPolicy = .always) -> BrokerConfig {
        var config = BrokerConfig(dataDirectory: path)
        config.log.fsync = fsync
        config.log.preallocateBytes = 64 << 10
        config.log.segmentBytes = 1 << 20
        return config
    }
}

/// A batch of `count` records "<tag>-<i>" with key "k<i>", optionally idempotent.
func batch(_ tag: String, count: Int = 2, producerId: Int64 = -1, epoch: Int16 = -1, sequence: Int32 = -1, valueBytes: Int = 0) -> [UInt8] {
    RecordBatch(producing: (0..<count).map { index in
        var value = Array("\(tag)-\(index)".utf8)
        if value.count < valueBytes { value += [UInt8](repeating: 0x2E, count: valueBytes - value.count) }
        return ProducerRecord(key: Array("k\(index)".utf8), value: value, timestamp: 1_764_370_000_000 + Int64(index))
    }, producerId: producerId, producerEpoch: epoch, baseSequence: sequence).encoded()
}

/// Values of every visible record of a partition, in order (compressed batches decompressed).
func values(_ broker: Broker, _ topic: String, _ partition: Int32 = 0) async throws -> [String] {
    var next: Int64 = 0
    var values: [String] = []
    while true {
        let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition(topic, partition), fetchOffset: next)],
                                         maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
        guard let slice = fetched.first?.records, !slice.isEmpty else { return values }
        try slice.forEachBatch { bytes in
            let decoded = try RecordBatch(inflating: bytes)
            values += decoded.records.map { String(decoding: $0.value ?? [], as: UTF8.self) }
            next = decoded.baseOffset + Int64(decoded.lastOffsetDelta) + 1
        }
    }
}
