import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolSystem
import SpoolTestSupport
import Testing

/// An offset commit whose append must wait for the disk (a pwrite of a large batch) waits on the
/// offset store's own queue, not on one of Swift's cooperative threads.
@Suite struct OffsetCommitFileWorkTests {
    @Test("commits whose pwrites wait for the disk hold no cooperative thread: a task runs meanwhile, and every commit is stored")
    func commitsWaitOffThePool() async throws {
        let directory = TestDataDirectory()
        defer { directory.remove() }
        let disk = FaultInjectingFileSystem()
        let store = try OffsetStore(dataDirectory: directory.path, fileSystem: disk, clock: currentTimeMs)
        defer { try? store.close() }
        // A first commit, so that the log's first blocks are allocated and the rest need none.
        let first = OffsetStore.Key(group: "first", topicPartition: TopicPartition("jobs", 0))
        try await store.commit([(first, CommittedOffset(offset: 1))])
        // 4 KiB of metadata: each commit's batch is written with pwrite.
        let metadata = String(repeating: "m", count: OffsetStore.metadataBytesMax)
        let count = ProcessInfo.processInfo.activeProcessorCount * 2
        let keys = (0..<count).map { OffsetStore.Key(group: "g\($0)", topicPartition: TopicPartition("jobs", 0)) }
        disk.gatesWrites.store(true, ordering: .relaxed)
        var commits: [Task<Void, any Error>] = []
        let probeRan = await disk.probeWhileSyncsWait(start: {
            commits = keys.enumerated().map { index, key in
                Task { try await store.commit([(key, CommittedOffset(offset: Int64(index + 10), metadata: metadata))]) }
            }
        }, probe: { true })
        disk.gatesWrites.store(false, ordering: .relaxed)
        #expect(probeRan, "a task could not run while commits waited for the disk")
        for commit in commits { try await commit.value }
        for (index, key) in keys.enumerated() {
            #expect(store.committed(group: key.group)[key.topicPartition]?.offset == Int64(index + 10))
        }
    }
}
