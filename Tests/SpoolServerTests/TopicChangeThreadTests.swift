import Dispatch
import Foundation
import SpoolBroker
@testable import SpoolServer
import SpoolTestSupport
import Testing

/// Topic changes wait for the disk on the broker's topic-change thread, not on Swift's
/// cooperative threads: while they wait, every other request is still answered.
@Suite struct TopicChangeThreadTests {
    @Test("CreateTopics and auto-creating Metadata waiting for a slow disk hold no cooperative thread; other requests are answered meanwhile")
    func topicChangesDoNotHoldTheCooperativePool() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let fileSystem = FaultInjectingFileSystem()
        let broker = try Broker.open(BrokerConfig(dataDirectory: data), fileSystem: fileSystem)
        defer { try? broker.close() }
        try broker.createTopic("ready")
        let router = RequestRouter(broker: broker, nodeId: 0, host: "127.0.0.1", port: 9092)
        // More topic changes than cooperative threads: the first waits for the disk while holding
        // the topic-change lock, the rest wait for that lock. On cooperative threads they would
        // hold them all, and no other request of the broker could run.
        let count = ProcessInfo.processInfo.activeProcessorCount * 2
        var changes: [Task<Outcome, Never>] = []
        let probeAnswered = await fileSystem.probeWhileSyncsWait(start: {
            changes = (0..<count).map { index in
                Task {
                    let frame = index.isMultiple(of: 2)
                        ? RequestFrames.createTopics("slow-\(index)")
                        : RequestFrames.metadata(["slow-\(index)"], autoCreate: true)
                    return await router.respond(to: frame, client: "test")
                }
            }
        }, probe: {
            if case .response = await router.respond(to: RequestFrames.metadata(["ready"], correlation: 9), client: "probe") { return true }
            return false
        })
        #expect(probeAnswered, "a Metadata request was not answered while topic changes waited for the disk")
        for change in changes {
            guard case .response = await change.value else {
                Issue.record("a topic change was not answered")
                continue
            }
        }
        for index in 0..<count { #expect(broker.partitionCount("slow-\(index)") == 1, "slow-\(index) was created") }
    }

    @Test("DeleteTopics waits for the disk off the cooperative threads and still deletes the topic")
    func deleteTopicDoesNotHoldTheCooperativePool() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let fileSystem = FaultInjectingFileSystem()
        let broker = try Broker.open(BrokerConfig(dataDirectory: data), fileSystem: fileSystem)
        defer { try? broker.close() }
        let count = ProcessInfo.processInfo.activeProcessorCount * 2
        for index in 0..<count { try broker.createTopic("doomed-\(index)") }
        try broker.createTopic("ready")
        var deletes: [Task<Void, any Error>] = []
        let probeRan = await fileSystem.probeWhileSyncsWait(start: {
            deletes = (0..<count).map { index in Task { try await broker.deleteTopic("doomed-\(index)") } }
        }, probe: { true })
        #expect(probeRan, "a task could not run while topic deletions waited for the disk")
        for delete in deletes { try await delete.value }
        #expect(broker.listTopics().map(\.name) == ["ready"])
    }
}
