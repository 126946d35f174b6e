import Glibc
import SpoolSystem
import Synchronization

/// The world behind one lock. The buffers the system calls are given (`pwrite`'s bytes, `pread`'s
/// buffer) are the caller's, so a `Mutex<World>`, which wants its state in a region of its own,
/// does not fit.
final class GuardedWorld: @unchecked Sendable {
    // Safe to share: `world` is read and written only inside `withLock`, under `lock`.
    private var world: World
    private let lock = Mutex(())

    init(_ world: World) { self.world = world }

    func withLock<R, E: Error>(_ body: (inout World) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = lock.withLock { _ in
            do throws(E) { return .success(try body(&world)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// Everything on the simulated disk and in the simulated process's descriptor table, under
/// `SimulatedFileSystem`'s lock.
struct World {
    /// A descriptor.
    struct OpenFile {
        var inode: Inode
        var options: OpenOptions
        /// Where `write` writes next (without `.append`).
        var position = 0
    }

    /// A live mapping of a file, by the address it starts at.
    struct Mapping {
        var inode: Inode
        var count: Int
    }

    struct ArmedCut {
        /// The value of `operations` at which the cut happens, before that operation.
        var operation: Int
        var random: SimulationRandom
    }

    let fileBytesMax: Int
    let root: Inode
    var nextInodeNumber: UInt64 = 2
    var files: [Int32: OpenFile] = [:]
    var nextDescriptor: Int32 = 3
    var mappings: [UInt: Mapping] = [:]
    var namespace = Namespace()
    var operations = 0
    var armedCut: ArmedCut?
    var cutImage: CrashImage?

    init(fileBytesMax: Int, now: Int64) {
        self.fileBytesMax = (fileBytesMax + FileStorage.pageBytes - 1) / FileStorage.pageBytes * FileStorage.pageBytes
        root = Inode(number: 1, directory: true, capacity: 0, now: now)
    }

    /// Counts an operation that changes the disk, cutting the power first when it is the one the
    /// armed cut waits for.
    mutating func step() {
        operations += 1
        guard var cut = armedCut, operations >= cut.operation else { return }
        armedCut = nil
        cutImage = crashImage(&cut.random)
    }

    mutating func makeInode(directory: Bool, now: Int64) -> Inode {
        defer { nextInodeNumber += 1 }
        return Inode(number: nextInodeNumber, directory: directory, capacity: fileBytesMax, now: now)
    }

    // MARK: - Paths

    func resolve(_ path: SimulatedPath, _ operation: String, spelled: String) throws(SystemError) -> Inode {
        var inode = root
        for name in path.components {
            guard inode.isDirectory else { throw SystemError(errno: ENOTDIR, operation: operation, path: spelled) }
            guard let next = inode.entries[name] else { throw SystemError(errno: ENOENT, operation: operation, path: spelled) }
            inode = next
        }
        return inode
    }

    /// The directory that holds the last name of `path`, and that name.
    func parent(of path: SimulatedPath, _ operation: String, spelled: String) throws(SystemError) -> (Inode, String) {
        guard let name = path.name else { throw SystemError(errno: EBUSY, operation: operation, path: spelled) }
        let directory = try resolve(path.parent, operation, spelled: spelled)
        guard directory.isDirectory else { throw SystemError(errno: ENOTDIR, operation: operation, path: spelled) }
        return (directory, name)
    }

    func file(_ fd: Int32, _ operation: String, writing: Bool) throws(SystemError) -> OpenFile {
        guard let file = files[fd] else { throw SystemError(errno: EBADF, operation: operation) }
        if writing {
            guard file.options.contains(.readWrite) else { throw SystemError(errno: EBADF, operation: operation) }
            guard !file.inode.isDirectory else { throw SystemError(errno: EISDIR, operation: operation) }
        }
        return file
    }

    // MARK: - Calls

    mutating func open(_ path: SimulatedPath, _ options: OpenOptions, now: Int64, spelled: String) throws(SystemError) -> Int32 {
        // The root has no parent to hold its name.
        let (directory, name) = path.components.isEmpty ? (root, "") : try parent(of: path, "open", spelled: spelled)
        let inode: Inode
        if let existing = path.components.isEmpty ? root : directory.entries[name] {
            if options.contains(.create) && options.contains(.exclusive) { throw SystemError(errno: EEXIST, operation: "open", path: spelled) }
            if existing.isDirectory && options.contains(.readWrite) { throw SystemError(errno: EISDIR, operation: "open", path: spelled) }
            if !existing.isDirectory && options.contains(.directory) { throw SystemError(errno: ENOTDIR, operation: "open", path: spelled) }
            if options.contains(.truncate) && options.contains(.readWrite) && !existing.isDirectory {
                existing.resize(to: 0)
                existing.modificationTimeMs = now
            }
            inode = existing
        } else {
            guard options.contains(.create) else { throw SystemError(errno: ENOENT, operation: "open", path: spelled) }
            inode = makeInode(directory: false, now: now)
            directory.entries[name] = inode
            namespace.record(.link(directory: directory, name: name, inode: inode))
        }
        let fd = nextDescriptor
        nextDescriptor += 1
        files[fd] = OpenFile(inode: inode, options: options)
        return fd
    }

    func store(_ bytes: UnsafeRawBufferPointer, in inode: Inode, at offset: Int, now: Int64) throws(SystemError) -> Int {
        guard offset >= 0 else { throw SystemError(errno: EINVAL, operation: "pwrite") }
        guard let visible = inode.visible else { throw SystemError(errno: EISDIR, operation: "pwrite") }
        guard offset + bytes.count <= fileBytesMax else { throw SystemError(errno: EFBIG, operation: "pwrite") }
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        if offset > inode.size { inode.resize(to: offset) }
        memcpy(visible.base + offset, source, bytes.count)
        inode.size = max(inode.size, offset + bytes.count)
        inode.modificationTimeMs = now
        return bytes.count
    }

    /// fsync or fdatasync: a file's contents and size, or a directory's names, become durable.
    mutating func sync(_ inode: Inode, now: Int64) throws(SystemError) {
        if inode.isDirectory {
            namespace.sync(inode)
        } else if inode.makeDurable() {
            // Stores through a mapping are seen only now: they move the modification time here.
            inode.modificationTimeMs = max(inode.modificationTimeMs, now)
        }
    }

    mutating func rename(_ from: SimulatedPath, _ to: SimulatedPath, spelled: String) throws(SystemError) {
        let (source, sourceName) = try parent(of: from, "rename", spelled: spelled)
        let (target, targetName) = try parent(of: to, "rename", spelled: spelled)
        guard let inode = source.entries[sourceName] else { throw SystemError(errno: ENOENT, operation: "rename", path: spelled) }
        if source === target && sourceName == targetName { return }
        if let replaced = target.entries[targetName] {
            if replaced.isDirectory && !inode.isDirectory { throw SystemError(errno: EISDIR, operation: "rename", path: spelled) }
            if !replaced.isDirectory && inode.isDirectory { throw SystemError(errno: ENOTDIR, operation: "rename", path: spelled) }
            if replaced.isDirectory && !replaced.entries.isEmpty { throw SystemError(errno: ENOTEMPTY, operation: "rename", path: spelled) }
        }
        if inode.isDirectory && isWithin(target, inode) { throw SystemError(errno: EINVAL, operation: "rename", path: spelled) }
        source.entries[sourceName] = nil
        target.entries[targetName] = inode
        namespace.record(.rename(from: source, fromName: sourceName, to: target, toName: targetName, inode: inode))
    }

    /// Whether `directory` is `ancestor` or lies below it.
    private func isWithin(_ directory: Inode, _ ancestor: Inode) -> Bool {
        if directory === ancestor { return true }
        return ancestor.entries.values.contains { $0.isDirectory && isWithin(directory, $0) }
    }

    mutating func unlink(_ path: SimulatedPath, directory wantsDirectory: Bool, spelled: String) throws(SystemError) {
        let operation = wantsDirectory ? "rmdir" : "unlink"
        let (directory, name) = try parent(of: path, operation, spelled: spelled)
        guard let inode = directory.entries[name] else { throw SystemError(errno: ENOENT, operation: operation, path: spelled) }
        if wantsDirectory {
            guard inode.isDirectory else { throw SystemError(errno: ENOTDIR, operation: operation, path: spelled) }
            guard inode.entries.isEmpty else { throw SystemError(errno: ENOTEMPTY, operation: operation, path: spelled) }
        } else if inode.isDirectory {
            throw SystemError(errno: EISDIR, operation: operation, path: spelled)
        }
        directory.entries[name] = nil
        namespace.record(.unlink(directory: directory, name: name))
    }
}
