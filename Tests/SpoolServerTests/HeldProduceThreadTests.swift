import Foundation
import SpoolBroker
import SpoolFormat
import SpoolSystem
import SpoolTestSupport
import Testing

/// A produce that holds records for later (`spool-deliver-at`) waits, under fsync=always, for the
/// delay log's fsync before the batch is appended: it waits on the broker's held-appends threads,
/// not on Swift's cooperative threads.
@Suite struct HeldProduceThreadTests {
    @Test("produces holding records wait for the disk off the cooperative threads; other work runs meanwhile, and every record is held")
    func heldProducesDoNotHoldTheCooperativePool() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let fileSystem = FaultInjectingFileSystem()
        let broker = try Broker.open(BrokerConfig(dataDirectory: data), fileSystem: fileSystem)
        defer { try? broker.close() }
        let count = ProcessInfo.processInfo.activeProcessorCount * 2
        for index in 0..<count { try broker.createTopic("later-\(index)") }
        let due = String(currentTimeMs() + 3_600_000)
        var produces: [Task<ProduceResult, any Error>] = []
        let probeRan = await fileSystem.probeWhileSyncsWait(start: {
            produces = (0..<count).map { index in
                Task {
                    let record = ProducerRecord(key: Array("k".utf8), value: Array("v\(index)".utf8),
                                                headers: [RecordHeader(SpoolHeaders.deliverAt, due)], timestamp: currentTimeMs())
                    return try await broker.produce(topic: "later-\(index)", partition: 0, records: RecordBatch(producing: [record]).encoded(), acks: .all)
                }
            }
        }, probe: { true })
        #expect(probeRan, "a task could not run while produces holding records waited for the disk")
        for produce in produces { _ = try await produce.value }
        #expect(broker.heldRecordCount == count)
    }
}
