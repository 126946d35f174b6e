import Foundation
import SpoolFormat

/// Held keys from the queue's side (`onDeadLetter: .holdKey`): listing them, and redriving a hold
/// through a marker in the key's partition (docs/jobs.md, "Ordered redrive").
extension JobQueue {
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
    func activeHolds(of topic: String) async throws -> [String: KeyHold] {
        guard transport is any JobControlTransport else { return [:] }
        let holds = try await controlState(of: topic).holds.values
        return Dictionary(holds.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Appends the marker that has the hold's group replay it, to the job topic in the key's partition.
    func appendRedriveMarker(_ hold: KeyHold, topic: String) async throws {
        // No value: workers look for the marker's header only on records without one (`mayBeHeld`).
        let marker = OutgoingRecord(key: Array(hold.key.utf8), value: nil, headers: [
            RecordHeader(SpoolHeaders.jobId, "redrive-marker/" + Self.randomUUID()),
            RecordHeader(SpoolHeaders.redriveHold, hold.id),
        ], partition: hold.partition)
        _ = try await transport.send(topic: topic, records: [marker])
    }

    /// The letters of hold `hold` not replayed yet, in the order to replay them: one group of
    /// copies per origin offset (a crash can store a job's dead letter twice), by origin offset.
    static func replayOrder(_ letters: [DeadLetter], hold: String) -> [[DeadLetter]] {
        let held = letters.filter { $0.hold == hold && !$0.redriven }
        let byOrigin = Dictionary(grouping: held) { $0.originOffset ?? -1 }
        return byOrigin.keys.sorted().compactMap { byOrigin[$0] }
    }
}
