import Foundation
import SpoolFormat

/// What a worker does to a job's key when the job dead-letters.
public enum DeadLetterPolicy: Sendable, Equatable {
    /// The key's next job runs (the dead job is overtaken by the key's later jobs).
    case releaseKey
    /// The key is held for the worker's group: its later jobs are parked in the dead-letter topic,
    /// not run, until `JobQueue.redrive(_:key:group:)` replays the dead job and the parked ones in
    /// order. Under `.key` and `.partition` ordering; no effect under `.none`.
    case holdKey
}

/// A key held for a group after one of its jobs dead-lettered (`onDeadLetter: .holdKey`): the
/// group's workers park the key's later jobs until a redrive replays them (docs/jobs.md, "Ordered
/// redrive"). Stored in the control topic, keyed `hold/…` (`recordKey`); a tombstone releases it.
public struct KeyHold: Codable, Sendable, Equatable {
    /// GROUP/PARTITION:OFFSET, the place of the dead job: the `spool-hold` header of its dead
    /// letters and parked jobs.
    public var id: String
    public var group: String
    public var key: String
    public var partition: Int32
    /// The dead job's offset: the key's jobs after it in the partition are parked.
    public var deadOffset: Int64
    public var deadJobId: String
    /// When the key was held (ms since the Unix epoch).
    public var heldAtMs: Int64

    public init(group: String, key: String, partition: Int32, deadOffset: Int64, deadJobId: String, heldAtMs: Int64) {
        id = "\(group)/\(partition):\(deadOffset)"
        self.group = group
        self.key = key
        self.partition = partition
        self.deadOffset = deadOffset
        self.deadJobId = deadJobId
        self.heldAtMs = heldAtMs
    }

    public var heldAt: Date { Date(timeIntervalSince1970: Double(heldAtMs) / 1000) }

    static let recordPrefix = "hold/"

    /// The control record key of a group's hold on a key. The group's length comes first, so no
    /// two (group, key) pairs share a record key whatever characters they hold.
    static func recordKey(group: String, key: String) -> String { "\(recordPrefix)\(group.utf8.count):\(group)/\(key)" }

    var recordKey: String { Self.recordKey(group: group, key: key) }

    func record() throws -> OutgoingRecord {
        OutgoingRecord(key: Array(recordKey.utf8), value: Array(try JSONEncoder.sorted.encode(self)))
    }

    func releaseRecord() -> OutgoingRecord { OutgoingRecord(key: Array(recordKey.utf8), value: nil) }
}

extension JobControlState {
    /// Applies a hold record (or its tombstone) stored at control offset `version`. A record older
    /// than the last one applied for its key changes nothing: a worker applies its own holds and
    /// releases as soon as they are stored, and reads the same records again later. Nil
    /// `version`: stored at an offset not known, applied now under the version known for its key
    /// (which the record read back passes).
    mutating func applyHold(key: String, value: [UInt8]?, version: Int64?) {
        if let version {
            // Below `holdsReadBelow` every record was applied in order: the state is as new as this.
            if version < holdsReadBelow { return }
            if let known = holdVersions[key], known >= version { return }
            holdVersions[key] = version
        }
        guard let value else {
            holds[key] = nil
            return
        }
        guard let hold = try? JSONDecoder().decode(KeyHold.self, from: Data(value)), hold.recordKey == key else { return }
        holds[key] = hold
    }

    /// Notes that the control records below `offset` have been applied in order, and drops the
    /// versions that only kept older records of their keys out: `applyHold` ignores those anyway.
    mutating func holdsRead(below offset: Int64) {
        guard offset > holdsReadBelow else { return }
        holdsReadBelow = offset
        if !holdVersions.isEmpty { holdVersions = holdVersions.filter { $0.value >= offset } }
    }

    /// Applies the hold records among `records` (read again from the control topic's start).
    mutating func applyHolds(_ records: [ConsumedRecord]) {
        for record in records {
            guard let key = record.keyString, key.hasPrefix(KeyHold.recordPrefix) else { continue }
            applyHold(key: key, value: record.value, version: record.offset)
        }
    }
}
