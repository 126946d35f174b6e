import SpoolFormat

/// Reads a topic's partitions up to the ends they had when the read began (`spool dlq list`,
/// `spool jobs list`, the console's job lists): the whole list or an error, never part of it.
///
/// A large topic may take long, so there is no overall deadline: the read fails only when no
/// partition moved for `stallLimit` (a leader gone, a partition that cannot be read), and says
/// where each unfinished partition stopped.
enum ReadToEnd {
    static let stallLimit: Duration = .seconds(30)

    static func read(_ topic: String, ends: [TopicPartition: Int64], stallLimit: Duration = stallLimit,
                     poll: () async throws -> [ConsumedRecord], position: (TopicPartition) -> Int64?) async throws -> [ConsumedRecord] {
        let clock = ContinuousClock()
        var records: [ConsumedRecord] = []
        var lastMove = clock.now
        var positions = ends.mapValues { _ in Int64.min }
        while true {
            records += try await poll().filter { $0.offset < ends[$0.topicPartition] ?? 0 }
            var moved = false
            for (partition, end) in ends {
                let now = min(position(partition) ?? 0, end)
                if now != positions[partition] { moved = true }
                positions[partition] = now
            }
            if positions.allSatisfy({ $0.value >= ends[$0.key] ?? 0 }) { break }
            if moved {
                lastMove = clock.now
            } else if clock.now - lastMove >= stallLimit {
                let behind = positions.filter { $0.value < ends[$0.key] ?? 0 }.map { ReadStall.Partition(partition: $0.key.partition, position: $0.value, end: ends[$0.key] ?? 0) }
                throw JobError.readStalled(ReadStall(topic: topic, waited: stallLimit, partitions: behind.sorted { $0.partition < $1.partition }))
            }
        }
        return records.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
    }
}

/// Where a read of a whole topic stopped moving (see `JobError.readStalled`).
public struct ReadStall: Sendable, Equatable, CustomStringConvertible {
    public struct Partition: Sendable, Equatable {
        public var partition: Int32
        public var position: Int64
        public var end: Int64
    }

    public var topic: String
    public var waited: Duration
    public var partitions: [Partition]

    public var description: String {
        let places = partitions.map { "partition \($0.partition) at offset \($0.position) of \($0.end)" }.joined(separator: ", ")
        return "reading \(topic) made no progress for \(waited): \(places)"
    }
}
