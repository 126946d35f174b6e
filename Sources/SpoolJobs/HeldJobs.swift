import Foundation
import SpoolFormat

/// A record the broker holds for later delivery (`spool-deliver-at`): a scheduled job, or under
/// `.none` ordering a job waiting for its next attempt.
struct HeldJob: Sendable {
    /// The held record as the delay log stores it (its offset is the delay log's).
    var record: ConsumedRecord
    var partition: Int32
    var dueMs: Int64?
}

extension JobQueue {
    /// The broker's delay log, which `spool serve` and the embedded broker serve read-only.
    static let heldRecordsTopic = "__spool_delayed"

    /// The records held for `topic` and not delivered yet, read from the broker's delay log:
    /// held records name their target in headers, and markers list the offsets delivered. A
    /// broker that holds nothing this way (Kafka) has no such topic: then there are none.
    func heldJobs(of topic: String) async throws -> [HeldJob] {
        try await heldJobs(ofAny: [topic])
    }

    /// The records held for any of `topics` (a job topic and its priority topics), read in one
    /// pass over the delay log.
    func heldJobs(ofAny topics: Set<String>) async throws -> [HeldJob] {
        guard try await controlTransport.partitionCount(of: Self.heldRecordsTopic) != nil else { return [] }
        var pending: [Int64: HeldJob] = [:]
        for record in try await transport.readAll(topic: Self.heldRecordsTopic) {
            if let delivered = record.header(SpoolHeaders.delivered) {
                for offset in delivered.split(separator: ",").compactMap({ Int64($0) }) { pending[offset] = nil }
            } else if let target = record.header(SpoolHeaders.heldTopic), topics.contains(target), let partition = record.header(SpoolHeaders.heldPartition).flatMap({ Int32($0) }) {
                pending[record.offset] = HeldJob(record: record, partition: partition,
                                                 dueMs: SpoolHeaders.parseMilliseconds(record.header(SpoolHeaders.deliverAt).map { Array($0.utf8) }))
            }
        }
        return pending.values.sorted { ($0.dueMs ?? 0, $0.record.offset) < ($1.dueMs ?? 0, $1.record.offset) }
    }
}
