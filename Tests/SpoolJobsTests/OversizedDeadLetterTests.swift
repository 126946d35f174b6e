import Foundation
import SpoolEmbedded
import SpoolFormat
import Testing
@testable import SpoolJobs

/// A job whose dead letter its topic refuses as too large (MESSAGE_TOO_LARGE) must still leave the
/// partition: retried as it was, it was refused for ever, holding its slot, its key and the
/// partition's commit point.
@Suite("Dead letters too large for their topic", .serialized)
struct OversizedDeadLetterTests {
    struct Blob: Job {
        static let topic = "blobs"
        var data: String
    }

    /// Runs one 19,500-byte job that fails with a 1,900-character error; the dead-letter topic
    /// takes records up to `dlqLimit` bytes. Returns the dead letters.
    private func deadLetter(dlqLimit: Int) async throws -> (letters: [DeadLetter], committed: Int64?, redriven: [DeadLetter]) {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        _ = try broker.spool.createTopic("blobs", partitions: 1, configs: ["max.message.bytes": "20000"])
        _ = try broker.spool.createTopic("blobs.dlq", partitions: 1, configs: ["max.message.bytes": String(dlqLimit)])
        let queue = broker.queue(partitions: 1)
        try await queue.enqueue(Blob(data: String(repeating: "b", count: 19_500)), key: "k")
        let worker = Worker<Blob>(queue: queue, group: "blobbers", retry: .never, shutdownTimeout: .zero) { _ in
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: String(repeating: "e", count: 1_900)])
        }
        let task = Task { _ = try? await worker.run() }
        #expect(await eventually(within: 15) { worker.stats.deadLettered == 1 }, "the dead letter was never stored")
        worker.stop()
        await task.value
        let committed = broker.spool.broker.committedOffsets(group: "blobbers")[TopicPartition("blobs", 0)]?.offset
        let letters = try await queue.deadLetters(of: "blobs")
        return (letters, committed, try await queue.redrive("blobs"))
    }

    @Test("a dead letter over the limit with its long error is stored with the error cut short, payload and all")
    func errorCutShort() async throws {
        // Room for the payload and the dead letter's headers (its idempotency key and group among them),
        // not for the whole error.
        let (letters, committed, redriven) = try await deadLetter(dlqLimit: 20_300)
        #expect(redriven.count == 1)
        let letter = try #require(letters.first)
        #expect(letters.count == 1 && committed == 1)
        #expect((letter.record.value?.count ?? 0) > 19_500)
        #expect(letter.error.count <= JobRecordShrinking.errorCharactersMax)
        #expect(letter.record.header(SpoolHeaders.valueDropped) == nil)
    }

    @Test("a dead letter over the limit even with its error cut short is stored without its payload, its size in a header, and is not redriven")
    func payloadLeftOut() async throws {
        let (letters, committed, redriven) = try await deadLetter(dlqLimit: 10_000)
        #expect(redriven.isEmpty, "no payload to send back")
        let letter = try #require(letters.first)
        #expect(letters.count == 1 && committed == 1)
        #expect(letter.record.value == nil)
        #expect(Int(letter.record.header(SpoolHeaders.valueDropped) ?? "").map { $0 > 19_500 } == true)
        #expect(letter.originTopic == "blobs" && letter.originOffset == 0)
    }

    @Test("a .none retry too large for its own topic even with its error cut short is dead-lettered, not sent again for ever")
    func retryTooLargeIsDeadLettered() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        _ = try broker.spool.createTopic("blobs", partitions: 1, configs: ["max.message.bytes": "20000"])
        let queue = broker.queue(partitions: 1)
        // Fits as enqueued; with a retry's headers (its time, its error cut to 200 characters, its
        // group) it does not.
        try await queue.enqueue(Blob(data: String(repeating: "b", count: 19_750)), key: "k", id: "big")
        let runs = LockedValue(0)
        let worker = Worker<Blob>(queue: queue, group: "blobbers", ordering: .none, retry: .exponential(maxAttempts: 3), shutdownTimeout: .zero) { _ in
            runs.withLock { $0 += 1 }
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: String(repeating: "e", count: 300)])
        }
        let task = Task { _ = try? await worker.run() }
        #expect(await eventually(within: 15) { worker.stats.deadLettered == 1 }, "the retry was sent again and again")
        worker.stop()
        await task.value
        let letter = try #require(try await queue.deadLetters(of: "blobs").first)
        #expect(letter.id == "big" && letter.error.contains("too large"))
        #expect(runs.value == 1)
        #expect(broker.spool.broker.committedOffsets(group: "blobbers")[TopicPartition("blobs", 0)]?.offset == 1)
    }
}
