import Foundation
import SpoolSystem

/// A topic's metadata as stored in `DATA/topics/NAME.topic` (JSON, replaced atomically).
public struct TopicMetadata: Equatable, Sendable, Codable {
    public var name: String
    public var id: String
    public var config: TopicConfig
    public var createdMs: Int64
    /// True for a topic created by a version that stores the topic's id with every committed
    /// offset, idempotency key and held record; absent (nil) from the metadata of topics created
    /// before, which later writes of the metadata (a config change, new partitions) keep absent.
    /// An earlier version that writes the metadata again drops it: the topic then counts as one
    /// created before. What it decides: `ownsEntriesWithoutId`.
    public var createdWithEntryIds: Bool?

    /// Whether the committed offsets, idempotency keys and held records of the topic's name stored
    /// without a topic id, by versions from before ids were stored with them, are this topic's.
    ///
    /// Only for a topic created before, upgraded in place: those entries were made for it (an
    /// earlier topic's that such a version failed to forget cannot be told from them, and stay
    /// its). Every entry made since carries its topic's id, so for a topic created since, an entry
    /// without one is an earlier topic's of the name whose deletion did not forget it (it failed
    /// part way, or a crash came first), and stale. The topic's creation forgets such offsets and
    /// keys (`Broker.forgetEntriesWithoutId`), opening drops those that come back
    /// (`OffsetStore.forgetStale`, `DedupeWindow.forgetLost`), and delivery drops such held records.
    /// Ids and creation times cannot tell the two topics apart: every version stored both in the
    /// metadata, an offset's commit time is the client's to set (OffsetCommit v1), and a key's is
    /// the broker's clock, which may have been stepped back since the topic was created.
    public var ownsEntriesWithoutId: Bool { createdWithEntryIds != true }

    /// Whether an offset or key stored for the topic with id `entryTopicId` (nil: stored without an
    /// id) is this topic's.
    func owns(entryOf entryTopicId: String?) -> Bool {
        guard let entryTopicId else { return ownsEntriesWithoutId }
        return entryTopicId == id
    }
}

/// The topic metadata files. Each is written atomically (temporary file, fsync, rename, fsync
/// directory), so a crash leaves a topic either fully described or absent.
///
/// Deleting renames the file to `NAME.del` first, then removes the partition directories,
/// then the file; `open` finishes any deletion a crash interrupted, and `createTopic` one that
/// failed part way under the name it creates (`finishPendingDeletion`).
struct TopicStore {
    let dataDirectory: String
    let fileSystem: any FileSystem

    var directory: String { dataDirectory + "/topics" }

    func path(_ name: String) -> String { directory + "/" + name + ".topic" }
    /// The deletion marker. Every file name here must fit Linux's 255 bytes for a name of
    /// `TopicName.lengthMax` (249) characters: `NAME.topic` is 255, `NAME.del` 253, and the
    /// temporary file `save` writes has a name of its own (`NAME.topic.tmp` would be 259).
    func deletingPath(_ name: String) -> String { directory + "/" + name + Self.deletingSuffix }
    static let deletingSuffix = ".del"
    /// The marker earlier versions wrote (too long for names of 247-249 characters), still
    /// finished if found.
    static let earlierDeletingSuffix = ".deleting"

    static func partitionDirectory(_ dataDirectory: String, topic: String, partition: Int) -> String {
        dataDirectory + "/" + topic + "-" + String(partition)
    }

    /// Loads every topic, finishing interrupted deletions first.
    ///
    /// A deletion marker beside a stored topic of its name (which `createTopic` no longer leaves,
    /// see `finishPendingDeletion`) removes only the directories past that topic's partitions:
    /// the others are the stored topic's.
    func load() throws -> [TopicMetadata] {
        try fileSystem.makeDirectories(directory)
        let names = try fileSystem.contents(ofDirectory: directory).sorted()
        var topics: [TopicMetadata] = []
        for name in names where name.hasSuffix(".topic") {
            topics.append(try decode(directory + "/" + name))
        }
        let stored = Dictionary(topics.map { ($0.name, $0.config.partitions) }, uniquingKeysWith: max)
        for name in names {
            if let suffix = [Self.deletingSuffix, Self.earlierDeletingSuffix].first(where: { name.hasSuffix($0) }) {
                let topic = String(name.dropLast(suffix.count))
                try finishPendingDeletion(topic, keepingPartitions: stored[topic] ?? 0)
            } else if name.hasSuffix(".tmp") {
                try? fileSystem.remove(directory + "/" + name)
            }
        }
        return topics
    }

    func save(_ metadata: TopicMetadata) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // A temporary name that fits whatever the topic's name (see `deletingPath`); one left by a
        // crash is removed by `load`.
        try fileSystem.writeAtomically(path(metadata.name), Array(try encoder.encode(metadata)),
                                       temporary: directory + "/" + UUID().uuidString + ".tmp")
    }

    func delete(_ metadata: TopicMetadata) throws {
        try markDeleting(metadata)
        try finishDeleting(metadata)
    }

    /// The first half of `delete`: renames the file to `NAME.del` and makes that durable.
    /// From then on the topic is gone for good: a crash leaves `open` to finish the deletion.
    func markDeleting(_ metadata: TopicMetadata) throws {
        try fileSystem.rename(path(metadata.name), to: deletingPath(metadata.name))
        try fileSystem.syncDirectory(directory)
    }

    /// The second half of `delete`: removes the partition directories, then the `.del` file.
    func finishDeleting(_ metadata: TopicMetadata) throws {
        try finishPendingDeletion(metadata.name)
    }

    /// Whether a deletion of topic `name` began and did not finish (its `.del` file is there):
    /// a deletion whose last steps failed, or a creation whose undoing did.
    func hasPendingDeletion(_ name: String) -> Bool {
        markerPaths(name).contains { fileSystem.exists($0) }
    }

    /// The metadata of a topic whose deletion is pending, as its marker holds it (the renamed
    /// `NAME.topic`); nil when there is no marker or it cannot be read.
    /// Each marker is read once: `lazy.compactMap(...).first` read the first one twice, and
    /// crashed when a deletion finishing meanwhile removed it between the two reads.
    func pendingDeletion(_ name: String) -> TopicMetadata? {
        for path in markerPaths(name) {
            if let metadata = try? decode(path) { return metadata }
        }
        return nil
    }

    /// The metadata of the topic of id `id` (a UUID string, as stored) whose deletion is pending;
    /// nil when no readable marker holds that id.
    func pendingDeletion(id: String) -> TopicMetadata? {
        guard let names = try? fileSystem.contents(ofDirectory: directory) else { return nil }
        let markers = names.filter { name in [Self.deletingSuffix, Self.earlierDeletingSuffix].contains { name.hasSuffix($0) } }
        return markers.sorted().lazy.compactMap { try? decode(directory + "/" + $0) }.first { $0.id == id }
    }

    /// The deletion markers a topic may have, this version's and the earlier one.
    private func markerPaths(_ name: String) -> [String] {
        [deletingPath(name), directory + "/" + name + Self.earlierDeletingSuffix]
    }

    /// Finishes a deletion of topic `name`: removes its partition directories (found by name, so
    /// an unreadable marker loses none), durably, then the marker (`.del`, or `.deleting`). A topic
    /// created under the name must come after this: were the marker left, the next start would
    /// finish the deletion and take the new topic's directories with it.
    ///
    /// - Parameter keepingPartitions: partitions of a stored topic of that name, whose directories stay.
    func finishPendingDeletion(_ name: String, keepingPartitions: Int = 0) throws {
        try removePartitions(of: name, from: keepingPartitions)
        for marker in markerPaths(name) where fileSystem.exists(marker) { try fileSystem.remove(marker) }
        try fileSystem.syncDirectory(directory)
    }

    /// Undoes a creation that failed part way: the metadata file, if it was written, goes the way
    /// of a deletion (a crash meanwhile leaves the marker for `load`); otherwise only the
    /// partition directories opened so far.
    func discard(_ metadata: TopicMetadata) throws {
        if fileSystem.exists(path(metadata.name)) {
            try delete(metadata)
        } else {
            try removePartitions(of: metadata.name)
        }
    }

    private func decode(_ path: String) throws -> TopicMetadata {
        let bytes = try fileSystem.readFile(path, limit: 1 << 20)
        do {
            return try JSONDecoder().decode(TopicMetadata.self, from: Data(bytes))
        } catch {
            throw BrokerError.invalidConfig("topic metadata \(path) cannot be read: \(error)")
        }
    }

    /// Removes the partition directories of topic `name` (every `NAME-N` in the data directory,
    /// whatever the metadata said, from partition `first` on) and makes their removal durable
    /// before the caller removes the marker that asks for it: otherwise a power cut could
    /// leave the directories without their topic, and a topic created later under the same name
    /// would open them and serve the deleted topic's records. For the same reason a file or
    /// directory it cannot remove throws, and the marker stays.
    private func removePartitions(of name: String, from first: Int = 0) throws {
        let prefix = name + "-"
        for entry in try fileSystem.contents(ofDirectory: dataDirectory) where entry.hasPrefix(prefix) {
            // The partition is what follows the last '-', so `NAME-N` names no other topic's partition.
            let suffix = entry.dropFirst(prefix.count)
            guard !suffix.isEmpty, suffix.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let index = Int(suffix), index >= first else { continue }
            try removeTree(dataDirectory + "/" + entry)
        }
        try fileSystem.syncDirectory(dataDirectory)
    }

    /// Removes one partition's directory (a partition opened for a topic's growth whose metadata
    /// could not be saved: it holds no records, and what cannot be removed stays).
    func removePartition(topic: String, index: Int) {
        try? removeTree(Self.partitionDirectory(dataDirectory, topic: topic, partition: index))
    }

    /// Removes a partition directory and what is in it (partition directories hold no
    /// subdirectories, but one put there is removed too). Throws what stops it, so that the
    /// deletion's marker stays for a later attempt; what is gone already counts as removed.
    private func removeTree(_ path: String) throws {
        let names: [String]
        do { names = try fileSystem.contents(ofDirectory: path) } catch let error as SystemError where error.isNotFound { return }
        for name in names {
            do { try fileSystem.remove(path + "/" + name) } catch let error as SystemError where error.errno == EISDIR {
                try removeTree(path + "/" + name)
            } catch let error as SystemError where error.isNotFound {}
        }
        do { try fileSystem.removeDirectory(path) } catch let error as SystemError where error.isNotFound {}
    }
}
