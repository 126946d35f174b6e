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
        let chosen = waiting.filter { ids?.contains($0.id) ?? true }
        let heldIds = Set(chosen.compactMap { letter in letter.hold.flatMap { holds[$0]?.id } })
        let dropped: Set<String> = [SpoolHeaders.attempt, SpoolHeaders.error, SpoolHeaders.originTopic, SpoolHeaders.originPartition,
                                    SpoolHeaders.originOffset, SpoolHeaders.failedAt, SpoolHeaders.deliverAt, SpoolHeaders.idempotencyKey,
                                    SpoolHeaders.hold, SpoolHeaders.parkedBehind]
        for letter in chosen where !heldIds.contains(letter.hold ?? "") {
            let headers = letter.record.headers.filter { !dropped.contains($0.key) } + [
                RecordHeader(SpoolHeaders.attempt, "1"),
                RecordHeader(SpoolHeaders.idempotencyKey, "redrive:\(dlq):\(letter.partition):\(letter.offset)"),
            ]
            _ = try await transport.send(topic: letter.originTopic, records: [OutgoingRecord(key: letter.record.key, value: letter.record.value, headers: headers)])
            _ = try await transport.send(topic: dlq, records: [Self.redrivenMarker(letter)])
        }
        for id in heldIds.sorted() { if let hold = holds[id] { try await appendRedriveMarker(hold, topic: String(dlq.dropLast(4))) } }
        return chosen.filter { !heldIds.contains($0.hold ?? "") } + waiting.filter { heldIds.contains($0.hold ?? "") }
    }

    /// Redrives the holds on `key` (of `group`, or of every group): appends to the job topic, in
    /// the key's partition, a marker that the group's worker replays the hold's dead and parked
    /// jobs at, in their order, before the key's later jobs (docs/jobs.md, "Ordered redrive").
    /// Returns the hold's letters waiting to be replayed; empty when the key is not held.
    @discardableResult
    public func redrive(_ topic: String, key: String, group: String? = nil) async throws -> [DeadLetter] {
        let jobTopic = topic.hasSuffix(".dlq") ? String(topic.dropLast(4)) : topic
        let holds = try await activeHolds(of: jobTopic).values.filter { $0.key == key && (group ?? $0.group) == $0.group }
        guard !holds.isEmpty else { return [] }
        let ids = Set(holds.map(\.id))
        let letters = try await deadLetters(of: jobTopic).filter { !$0.redriven && ids.contains($0.hold ?? "") }
        for hold in holds.sorted(by: { $0.id < $1.id }) { try await appendRedriveMarker(hold, topic: jobTopic) }
        return letters
    }

    /// The keys held in `topic` (every group's), oldest first. None over a transport without a
    /// control topic (no worker can hold a key there).
    public func keyHolds(of topic: String) async throws -> [KeyHold] {
        let jobTopic = topic.hasSuffix(".dlq") ? String(topic.dropLast(4)) : topic
        return try await activeHolds(of: jobTopic).values.sorted { ($0.heldAtMs, $0.id) < ($1.heldAtMs, $1.id) }
    }

    /// The holds of a job topic by id.
    private func activeHolds(of topic: String) async throws -> [String: KeyHold] {
        guard transport is any JobControlTransport else { return [:] }
        let holds = try await controlState(of: topic).holds.values
        return Dictionary(holds.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private func appendRedriveMarker(_ hold: KeyHold, topic: String) async throws {
        var random = SystemRandomNumberGenerator()
        // No value: workers look for the marker's header only on records without one (`mayBeHeld`).
        let marker = OutgoingRecord(key: Array(hold.key.utf8), value: nil, headers: [
            RecordHeader(SpoolHeaders.jobId, "redrive-marker/" + Self.randomUUID(&random)),
            RecordHeader(SpoolHeaders.redriveHold, hold.id),
        ], partition: hold.partition)
        _ = try await transport.send(topic: topic, records: [marker])
    }

    /// The dead-letter topic's record saying `letter` was sent back (or replayed).
    static func redrivenMarker(_ letter: DeadLetter) -> OutgoingRecord {
        OutgoingRecord(key: nil, value: nil, headers: [RecordHeader(SpoolHeaders.redriven, "\(letter.partition):\(letter.offset)")],
                       partition: letter.partition)
    }

    /// The letters of hold `hold` not replayed yet, in the order to replay them: one group of
    /// copies per origin offset (a crash can store a job's dead letter twice), by origin offset.
    static func replayOrder(_ letters: [DeadLetter], hold: String) -> [[DeadLetter]] {
        let held = letters.filter { $0.hold == hold && !$0.redriven }
        let byOrigin = Dictionary(grouping: held) { $0.originOffset ?? -1 }
        return byOrigin.keys.sorted().compactMap { byOrigin[$0] }
    }
}
