import Foundation
import SpoolFormat

/// A job in a dead-letter topic.
public struct DeadLetter: Sendable, Equatable {
    public var id: String
    public var key: String?
    /// The attempt that failed last.
    public var attempts: Int
    public var error: String
    public var originTopic: String
    public var originPartition: Int32?
    public var originOffset: Int64?
    public var failedAt: Date?
    /// Where the dead letter itself is.
    public var partition: Int32
    public var offset: Int64
    /// Sent back to its topic already (or, in a hold, replayed).
    public var redriven: Bool
    /// The hold it belongs to (`KeyHold.id`): a dead job of a held key, or one parked behind it.
    public var hold: String?
    /// For a parked job: the id of the dead job it was parked behind.
    public var parkedBehind: String?
    public var record: ConsumedRecord
}

extension JobQueue {
    /// The dead letters of a job topic (give the job topic or its `.dlq`), oldest first, with
    /// whether each was sent back already.
    public func deadLetters(of topic: String) async throws -> [DeadLetter] {
        let dlq = topic.hasSuffix(".dlq") ? topic : Self.deadLetterTopic(of: topic)
        let records = try await transport.readAll(topic: dlq)
        var redriven = Set<String>()
        for record in records { if let marker = record.header(SpoolHeaders.redriven) { redriven.insert(marker) } }
        return records.filter { $0.header(SpoolHeaders.redriven) == nil }.map { record in
            DeadLetter(id: record.header(SpoolHeaders.jobId) ?? "\(record.partition):\(record.offset)", key: record.keyString,
                       attempts: record.header(SpoolHeaders.attempt).flatMap { Int($0) } ?? 0,
                       error: record.header(SpoolHeaders.error) ?? "",
                       originTopic: record.header(SpoolHeaders.originTopic) ?? String(dlq.dropLast(4)),
                       originPartition: record.header(SpoolHeaders.originPartition).flatMap { Int32($0) },
                       originOffset: record.header(SpoolHeaders.originOffset).flatMap { Int64($0) },
                       failedAt: record.header(SpoolHeaders.failedAt).flatMap { Int64($0) }.map { Date(timeIntervalSince1970: Double($0) / 1000) },
                       partition: record.partition, offset: record.offset,
                       redriven: redriven.contains("\(record.partition):\(record.offset)"),
                       hold: record.header(SpoolHeaders.hold), parkedBehind: record.header(SpoolHeaders.parkedBehind), record: record)
        }
    }

    /// Sends dead letters back to their origin topic with their attempt count reset, each once:
    /// the ones with these job ids, or all that were not sent back yet (`ids: nil`). Returns the
    /// ones sent.
    ///
    /// Each is produced with an idempotency key naming the dead letter, then marked in the
    /// dead-letter topic, so a redrive interrupted between the two does not send it twice. A dead
    /// letter of a key still held (`onDeadLetter: .holdKey`) is not sent alone: its whole hold is
    /// redriven in order (`redrive(_:key:group:)`), and every letter of the hold is returned.
    @discardableResult
    public func redrive(_ topic: String, ids: Set<String>? = nil) async throws -> [DeadLetter] {
        let dlq = topic.hasSuffix(".dlq") ? topic : Self.deadLetterTopic(of: topic)
        let waiting = try await deadLetters(of: dlq).filter { !$0.redriven }
        let holds = try await activeHolds(of: String(dlq.dropLast(4)))
        // A dead letter stored without its payload (too large for the dead-letter topic) has no
        // job to send back: its payload is at its origin, until retention deletes it there.
        let chosen = waiting.filter { (ids?.contains($0.id) ?? true) && $0.record.header(SpoolHeaders.valueDropped) == nil }
        let heldIds = Set(chosen.compactMap { letter in letter.hold.flatMap { holds[$0]?.id } })
        let dropped: Set<String> = [SpoolHeaders.attempt, SpoolHeaders.error, SpoolHeaders.originTopic, SpoolHeaders.originPartition,
                                    SpoolHeaders.originOffset, SpoolHeaders.failedAt, SpoolHeaders.deliverAt, SpoolHeaders.idempotencyKey,
                                    SpoolHeaders.hold, SpoolHeaders.parkedBehind, SpoolHeaders.producedAt, SpoolHeaders.group]
        for letter in chosen where !heldIds.contains(letter.hold ?? "") {
            let headers = letter.record.headers.filter { !dropped.contains($0.key) } + [
                RecordHeader(SpoolHeaders.attempt, "1"),
                RecordHeader(SpoolHeaders.idempotencyKey, Self.redriveKey(letter, dlq: dlq)),
            ]
            _ = try await transport.send(topic: letter.originTopic, records: [OutgoingRecord(key: letter.record.key, value: letter.record.value, headers: headers)])
            _ = try await transport.send(topic: dlq, records: [Self.redrivenMarker(letter)])
        }
        for id in heldIds.sorted() { if let hold = holds[id] { try await appendRedriveMarker(hold, topic: String(dlq.dropLast(4))) } }
        return chosen.filter { !heldIds.contains($0.hold ?? "") } + waiting.filter { heldIds.contains($0.hold ?? "") }
    }

    /// The idempotency key a redrive of `letter` is sent with: its place in the dead-letter topic,
    /// and its job id and timestamp, because a dead-letter topic deleted and created again reuses
    /// places, and the origin topic's window (24 h by default) would drop a new dead letter at the
    /// place of one redriven before as its duplicate.
    static func redriveKey(_ letter: DeadLetter, dlq: String) -> String {
        "redrive:\(dlq):\(letter.partition):\(letter.offset):\(letter.id):\(letter.record.timestamp)"
    }

    /// The dead-letter topic's record saying `letter` was sent back (or replayed).
    static func redrivenMarker(_ letter: DeadLetter) -> OutgoingRecord {
        OutgoingRecord(key: nil, value: nil, headers: [RecordHeader(SpoolHeaders.redriven, "\(letter.partition):\(letter.offset)")],
                       partition: letter.partition)
    }
}
