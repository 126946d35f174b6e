import Foundation
@testable import SpoolBroker
import SpoolFormat
import SpoolLog
import SpoolSystem

/// Writes, into a closed broker's data directory, what versions from before committed offsets and
/// idempotency keys carried their topic's id left there: such entries, and topic metadata as
/// those versions wrote it.
enum EntriesWithoutId {
    /// Rewrites topic `topic`'s metadata with only the fields that versions before ids wrote.
    static func rewriteTopicAsBeforeIds(_ data: TestDataDirectory, topic: String) throws {
        let url = URL(fileURLWithPath: data.path + "/topics/" + topic + ".topic")
        guard let fields = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        let written = fields.filter { ["name", "id", "config", "createdMs"].contains($0.key) }
        try JSONSerialization.data(withJSONObject: written, options: [.sortedKeys]).write(to: url)
    }

    /// Appends group `group`'s commit of `offset` for `topicPartition` as those versions wrote it:
    /// version 1, offset, leader epoch, commit time, metadata, and nothing after.
    static func appendOffset(_ data: TestDataDirectory, group: String, _ topicPartition: TopicPartition, offset: Int64,
                             metadata: String = "m", commitTimestampMs: Int64 = 1_764_370_000_000) throws {
        var value: [UInt8] = [1]
        value.appendBigEndian(offset)
        value.appendBigEndian(Int32(-1))
        value.appendBigEndian(commitTimestampMs)
        value.appendBigEndian(UInt16(metadata.utf8.count))
        value += Array(metadata.utf8)
        let key = OffsetStore.encodeKey(OffsetStore.Key(group: group, topicPartition: topicPartition))
        try append(data, OffsetStore.directoryName, key: key, value: value, timestamp: commitTimestampMs)
    }

    /// Appends idempotency key `key`, accepted now on `topic` for the record at `offset` of
    /// `partition`, as those versions wrote it: the partition and the offset, and no topic id.
    static func appendDedupeKey(_ data: TestDataDirectory, topic: String, key: String, partition: Int32, offset: Int64) throws {
        var value: [UInt8] = []
        value.appendBigEndian(partition)
        value.appendBigEndian(offset)
        try append(data, DedupeWindow.directoryName, key: Array(topic.utf8) + [0] + Array(key.utf8), value: value, timestamp: currentTimeMs())
    }

    private static func append(_ data: TestDataDirectory, _ directory: String, key: [UInt8], value: [UInt8], timestamp: Int64) throws {
        let log = try PartitionLog.open(directory: data.path + "/" + directory, config: LogConfig.internalLog(fsync: .always),
                                        fileSystem: LiveFileSystem(), clock: currentTimeMs)
        defer { try? log.close() }
        _ = try log.append(RecordBatch(producing: [ProducerRecord(key: key, value: value, timestamp: timestamp)]).encoded())
    }
}
