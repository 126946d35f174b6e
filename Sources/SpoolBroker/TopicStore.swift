import Foundation
import SpoolSystem

/// A topic's metadata as stored in `DATA/topics/NAME.topic` (JSON, replaced atomically).
public struct TopicMetadata: Equatable, Sendable, Codable {
    public var name: String
    public var id: String
    public var config: TopicConfig
    public var createdMs: Int64
}

/// The topic metadata files. Each is written atomically (temporary file, fsync, rename, fsync
/// directory), so a crash leaves a topic either fully described or absent.
///
/// Deleting renames the file to `NAME.deleting` first, then removes the partition directories,
/// then the file; `open` finishes any deletion a crash interrupted.
struct TopicStore {
    let dataDirectory: String
    let fileSystem: any FileSystem

    var directory: String { dataDirectory + "/topics" }

    func path(_ name: String) -> String { directory + "/" + name + ".topic" }
    func deletingPath(_ name: String) -> String { directory + "/" + name + ".deleting" }

    static func partitionDirectory(_ dataDirectory: String, topic: String, partition: Int) -> String {
        dataDirectory + "/" + topic + "-" + String(partition)
    }

    /// Loads every topic, finishing interrupted deletions first.
    func load() throws -> [TopicMetadata] {
        try fileSystem.makeDirectories(directory)
        var topics: [TopicMetadata] = []
        for name in try fileSystem.contents(ofDirectory: directory).sorted() {
            let full = directory + "/" + name
            if name.hasSuffix(".deleting") {
                if let metadata = try? decode(full) { try removePartitions(of: metadata) }
                try fileSystem.remove(full)
            } else if name.hasSuffix(".topic") {
                topics.append(try decode(full))
            } else if name.hasSuffix(".tmp") {
                try? fileSystem.remove(full)
            }
        }
        return topics
    }

    func save(_ metadata: TopicMetadata) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try fileSystem.writeAtomically(path(metadata.name), Array(try encoder.encode(metadata)))
    }

    func delete(_ metadata: TopicMetadata) throws {
        try markDeleting(metadata)
        try finishDeleting(metadata)
    }

    /// The first half of `delete`: renames the file to `NAME.deleting` and makes that durable.
    /// From then on the topic is gone for good: a crash leaves `open` to finish the deletion.
    func markDeleting(_ metadata: TopicMetadata) throws {
        try fileSystem.rename(path(metadata.name), to: deletingPath(metadata.name))
        try fileSystem.syncDirectory(directory)
    }

    /// The second half of `delete`: removes the partition directories, then the `.deleting` file.
    func finishDeleting(_ metadata: TopicMetadata) throws {
        try removePartitions(of: metadata)
        try fileSystem.remove(deletingPath(metadata.name))
        try fileSystem.syncDirectory(directory)
    }

    private func decode(_ path: String) throws -> TopicMetadata {
        let bytes = try fileSystem.readFile(path, limit: 1 << 20)
        do {
            return try JSONDecoder().decode(TopicMetadata.self, from: Data(bytes))
        } catch {
            throw BrokerError.invalidConfig("topic metadata \(path) cannot be read: \(error)")
        }
    }

    /// Removes the partition directories and makes their removal durable before the caller
    /// removes the `.deleting` file that asks for it: otherwise a power cut could leave the
    /// directories without their topic, and a topic created later under the same name would open
    /// them and serve the deleted topic's records.
    private func removePartitions(of metadata: TopicMetadata) throws {
        for partition in 0..<metadata.config.partitions {
            removeTree(Self.partitionDirectory(dataDirectory, topic: metadata.name, partition: partition))
        }
        try fileSystem.syncDirectory(dataDirectory)
    }

    /// Removes one partition's directory (a partition opened for a topic's growth whose metadata
    /// could not be saved).
    func removePartition(topic: String, index: Int) {
        removeTree(Self.partitionDirectory(dataDirectory, topic: topic, partition: index))
    }

    /// Removes a partition directory and the files in it (partition directories hold no subdirectories).
    private func removeTree(_ path: String) {
        guard let names = try? fileSystem.contents(ofDirectory: path) else { return }
        for name in names { try? fileSystem.remove(path + "/" + name) }
        try? fileSystem.removeDirectory(path)
    }
}
