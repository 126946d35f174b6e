/// A change to a directory's names, waiting for an fsync of the directories it touches.
enum MetadataOperation {
    /// A file or directory created under a name.
    case link(directory: Inode, name: String, inode: Inode)
    /// A name removed (unlink, rmdir).
    case unlink(directory: Inode, name: String)
    case rename(from: Inode, fromName: String, to: Inode, toName: String, inode: Inode)

    /// The directories whose fsync makes this operation durable.
    var directories: [UInt64] {
        switch self {
        case let .link(directory, _, _), let .unlink(directory, _): [directory.number]
        case let .rename(from, _, to, _, _): [from.number, to.number]
        }
    }
}

/// The names on the disk, in the model of ext4's ordered journal taken at its weakest: metadata
/// operations are applied to what reads see at once and queued in order; an fsync of a directory
/// makes the queued operations that touch it durable (a rename as a whole); a power cut keeps the
/// durable names plus a prefix of the queue, in order.
///
/// Not thread-safe: reached only under `SimulatedFileSystem`'s lock.
struct Namespace {
    /// Durable names, by directory inode number.
    var durable: [UInt64: [String: Inode]] = [:]
    var pending: [MetadataOperation] = []

    mutating func record(_ operation: MetadataOperation) { pending.append(operation) }

    /// An fsync of `directory`.
    mutating func sync(_ directory: Inode) {
        var kept: [MetadataOperation] = []
        for operation in pending {
            if operation.directories.contains(directory.number) {
                Self.apply(operation, to: &durable)
            } else {
                kept.append(operation)
            }
        }
        pending = kept
    }

    /// The names a power cut leaves: the durable ones and the first `kept` pending operations.
    func afterCut(keeping kept: Int) -> [UInt64: [String: Inode]] {
        precondition(kept >= 0 && kept <= pending.count, "cannot keep more operations than are pending")
        var names = durable
        for operation in pending.prefix(kept) { Self.apply(operation, to: &names) }
        return names
    }

    private static func apply(_ operation: MetadataOperation, to names: inout [UInt64: [String: Inode]]) {
        switch operation {
        case let .link(directory, name, inode):
            names[directory.number, default: [:]][name] = inode
        case let .unlink(directory, name):
            names[directory.number]?[name] = nil
        case let .rename(from, fromName, to, toName, inode):
            names[from.number]?[fromName] = nil
            names[to.number, default: [:]][toName] = inode
        }
    }
}
