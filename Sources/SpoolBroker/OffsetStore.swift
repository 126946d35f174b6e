import SpoolFormat
import SpoolLog
import SpoolSystem
import Synchronization

/// A partition of a topic.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A committed consumer-group offset: the next offset the group will read.
public struct CommittedOffset: Equatable, Sendable {
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String
    public var commitTimestampMs: Int64

    public init(offset: Int64, leaderEpoch: Int32 = -1, metadata: String = "", commitTimestampMs: Int64 = 0) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestampMs = commitTimestampMs
    }
}

/// Committed offsets, kept in an internal partition log (`DATA/__consumer_offsets-0`, fsync
/// `always`) and in memory. A commit is appended and flushed before it is applied and
/// acknowledged, so an acknowledged commit survives any crash. Opening replays the log; when it
/// grows past `compactionBytes` the live entries are rewritten and older segments deleted.
final class OffsetStore: Sendable {
    struct Key: Hashable {
        var group: String
        var topicPartition: TopicPartition
    }

    private struct Entry {
        var committed: CommittedOffset
        /// Where in the internal log this commit is, so a slower commit never overwrites a newer one.
        var logOffset: Int64
    }

    static let directoryName = "__consumer_offsets-0"
    static let metadataBytesMax = 4096
    /// Longest group id, in UTF-8 bytes: the record key stores it with a 16-bit length.
    static let groupIdBytesMax = Int(UInt16.max)
    static let compactionBytes = 64 << 20

    let log: PartitionLog
    private let entries: Mutex<[Key: Entry]>
    private let compacting = Mutex(false)
    private let clock: @Sendable () -> Int64

    init(dataDirectory: String, fileSystem: any FileSystem, clock: @escaping @Sendable () -> Int64) throws {
        log = try PartitionLog.open(directory: dataDirectory + "/" + Self.directoryName, config: .internalLog(fsync: .always),
                                    fileSystem: fileSystem, clock: clock)
        self.clock = clock
        var loaded: [Key: Entry] = [:]
        try log.replay { batch in
            for record in batch.records {
                guard let key = record.key.flatMap(Self.decodeKey) else { continue }
                if let value = record.value, let committed = Self.decodeValue(value) {
                    loaded[key] = Entry(committed: committed, logOffset: batch.offset(of: record))
                } else {
                    loaded.removeValue(forKey: key)
                }
            }
        }
        entries = Mutex(loaded)
    }

    /// Appends the commits, waits until they are on disk, then applies them. `nil` deletes.
    func commit(_ changes: [(Key, CommittedOffset?)]) async throws(BrokerError) {
        guard !changes.isEmpty else { return }
        let now = clock()
        let records = changes.map { key, committed in
            ProducerRecord(key: Self.encodeKey(key), value: committed.map(Self.encodeValue), timestamp: now)
        }
        let result: AppendResult
        do {
            result = try log.append(RecordBatch(producing: records).encoded())
            try await log.waitUntilDurable(result.lastOffset)
        } catch {
            throw .storage(error)
        }
        entries.withLock { entries in
            for (index, (key, committed)) in changes.enumerated() {
                let logOffset = result.baseOffset + Int64(index)
                if let existing = entries[key], existing.logOffset > logOffset { continue }
                if let committed {
                    entries[key] = Entry(committed: committed, logOffset: logOffset)
                } else {
                    entries.removeValue(forKey: key)
                }
            }
        }
        await compactIfLarge()
    }

    func committed(group: String) -> [TopicPartition: CommittedOffset] {
        entries.withLock { entries in
            var result: [TopicPartition: CommittedOffset] = [:]
            for (key, entry) in entries where key.group == group { result[key.topicPartition] = entry.committed }
            return result
        }
    }

    func groups() -> Set<String> { entries.withLock { Set($0.keys.map(\.group)) } }

    func keys(group: String) -> [Key] { entries.withLock { $0.keys.filter { $0.group == group } } }

    func keys(topic: String) -> [Key] { entries.withLock { $0.keys.filter { $0.topicPartition.topic == topic } } }

    /// Every committed offset of `topicPartition` above `end` comes down to `end`: after a crash
    /// under a relaxed fsync policy a partition can end before what a group committed.
    func clamp(_ topicPartition: TopicPartition, to end: Int64) -> [Key] {
        entries.withLock { entries in
            var clamped: [Key] = []
            for (key, entry) in entries where key.topicPartition == topicPartition && entry.committed.offset > end {
                entries[key]?.committed.offset = end
                clamped.append(key)
            }
            return clamped
        }
    }

    /// Rewrites the live entries at the end of the log and deletes the segments before them.
    private func compactIfLarge() async {
        guard log.sizeInBytes > Self.compactionBytes, log.segmentBaseOffsets.count > 1 else { return }
        guard compacting.withLock({ busy in defer { busy = true }; return !busy }) else { return }
        defer { compacting.withLock { $0 = false } }
        do {
            try log.roll()
            let start = log.logEndOffset
            let live = entries.withLock { $0.map { ($0.key, $0.value.committed) } }
            let now = clock()
            for chunk in stride(from: 0, to: live.count, by: 1000) {
                let records = live[chunk..<min(chunk + 1000, live.count)].map {
                    ProducerRecord(key: Self.encodeKey($0.0), value: Self.encodeValue($0.1), timestamp: now)
                }
                let result = try log.append(RecordBatch(producing: records).encoded())
                try await log.waitUntilDurable(result.lastOffset)
            }
            try log.deleteSegments(before: start)
        } catch {
            // Compaction is an optimisation: on failure the log just stays larger until next time.
        }
    }

    func close() throws { try log.close() }

    // MARK: - Record format
    // Key: version u8 (1), group (u16 length + UTF-8), topic (u16 length + UTF-8), partition i32.
    // Value: version u8 (1), offset i64, leader epoch i32, commit time i64, metadata (u16 + UTF-8).
    // A null value deletes the key.

    static func encodeKey(_ key: Key) -> [UInt8] {
        var bytes: [UInt8] = [1]
        appendString(key.group, to: &bytes)
        appendString(key.topicPartition.topic, to: &bytes)
        bytes.appendBigEndian(key.topicPartition.partition)
        return bytes
    }

    static func encodeValue(_ committed: CommittedOffset) -> [UInt8] {
        var bytes: [UInt8] = [1]
        bytes.appendBigEndian(committed.offset)
        bytes.appendBigEndian(committed.leaderEpoch)
        bytes.appendBigEndian(committed.commitTimestampMs)
        appendString(committed.metadata, to: &bytes)
        return bytes
    }

    static func decodeKey(_ bytes: [UInt8]) -> Key? {
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            guard (try? reader.readInt8()) == 1, let group = readString(&reader), let topic = readString(&reader),
                  let partition = try? reader.readInt32() else { return nil }
            return Key(group: group, topicPartition: TopicPartition(topic, partition))
        }
    }

    static func decodeValue(_ bytes: [UInt8]) -> CommittedOffset? {
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            guard (try? reader.readInt8()) == 1, let offset = try? reader.readInt64(), let epoch = try? reader.readInt32(),
                  let time = try? reader.readInt64(), let metadata = readString(&reader) else { return nil }
            return CommittedOffset(offset: offset, leaderEpoch: epoch, metadata: metadata, commitTimestampMs: time)
        }
    }

    private static func appendString(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = Array(text.utf8.prefix(Int(UInt16.max)))
        bytes.appendBigEndian(UInt16(utf8.count))
        bytes += utf8
    }

    private static func readString(_ reader: inout ByteReader) -> String? {
        guard let length = try? reader.readInt16(), let bytes = try? reader.readBytes(Int(UInt16(bitPattern: length))) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }
}
