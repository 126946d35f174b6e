import Glibc
import SpoolSystem

/// A file reached through one shared mapping, which for a writable file is larger than the file
/// so that the file can grow into it.
///
/// Disk space is allocated ahead of the writer in steps (`fallocate`), so every byte written has a
/// block behind it: a full disk surfaces as an ENOSPC from `reserve`, never as a SIGBUS from a
/// store through the mapping. Bytes go in through the mapping or with pwrite (see
/// `Segment.mappedWriteBytesMax`); both land in the same page cache the mapping reads. Not
/// thread-safe: the owning segment's log serialises access.
///
/// A file that will not be written again gives up its descriptor (`releaseDescriptor`): the
/// mapping outlives it, so reads go on, and a partition keeps open only its active segment's
/// files however many sealed segments it holds.
final class MappedFile {
    let path: String
    /// nil once released.
    private var descriptor: Int32?
    let fileSystem: any FileSystem
    /// nil only for an empty read-only file.
    private(set) var region: MappedRegion?
    /// The file's size on disk: bytes below it may be touched through the mapping.
    private(set) var allocated: Int
    let isWritable: Bool
    private let step: Int

    /// Opens (or creates) `path`. A writable file is mapped `capacity` bytes (at least its size);
    /// a read-only one exactly its size.
    init(path: String, create: Bool, writable: Bool, capacity: Int, step: Int, fileSystem: any FileSystem,
         mapWritable: Bool? = nil) throws {
        var options: OpenOptions = writable ? [.readWrite] : [.readOnly]
        if create { options.insert([.create, .truncate]) }
        let fd = try fileSystem.open(path, options, permissions: 0o644)
        do {
            let size = try fileSystem.size(fd)
            let length = writable ? max(capacity, size) : size
            self.region = length > 0 ? try MappedRegion(fd: fd, length: length, writable: mapWritable ?? writable, fileSystem: fileSystem) : nil
            self.allocated = size
        } catch {
            fileSystem.close(fd)
            throw error
        }
        self.path = path
        self.descriptor = fd
        self.fileSystem = fileSystem
        self.isWritable = writable
        self.step = max(step, 4096)
    }

    deinit { releaseDescriptor() }

    /// Closes the file's descriptor; the mapping stays. Writing, truncating or syncing afterwards
    /// throws EBADF. Idempotent.
    func releaseDescriptor() {
        guard let descriptor else { return }
        self.descriptor = nil
        fileSystem.close(descriptor)
    }

    /// Whether the descriptor is still open.
    var holdsDescriptor: Bool { descriptor != nil }

    private var fd: Int32 {
        get throws {
            guard let descriptor else { throw SystemError(errno: EBADF, operation: "use of a released descriptor", path: path) }
            return descriptor
        }
    }

    /// Bytes that can be mapped at most.
    var capacity: Int { region?.length ?? 0 }

    /// Maps the file again, `capacity` bytes, for a writable file that must grow past its mapping.
    /// Slices of the old mapping keep it alive; the caller makes sure nothing else still uses it.
    func remap(capacity newCapacity: Int) throws {
        precondition(isWritable && newCapacity > capacity, "remap to a smaller mapping")
        let writable = region?.isWritable ?? isWritable
        region = try MappedRegion(fd: try fd, length: newCapacity, writable: writable, fileSystem: fileSystem)
    }

    /// Whether `reserve(bytes)` would allocate disk blocks (a system call on the file).
    func mustAllocate(_ bytes: Int) -> Bool { bytes > allocated }

    /// Makes sure the first `bytes` bytes have disk blocks, allocating in steps. Throws the
    /// system's error (ENOSPC on a full disk) and changes nothing when it fails.
    func reserve(_ bytes: Int) throws {
        precondition(isWritable, "reserve on a read-only file")
        precondition(bytes <= capacity, "reserve past the mapping: \(bytes) > \(capacity)")
        guard bytes > allocated else { return }
        let target = min(capacity, max(bytes, (allocated / step + 1) * step))
        do {
            try fileSystem.allocate(try fd, offset: allocated, length: target - allocated)
            allocated = target
        } catch {
            // Near a full disk a whole step may not fit while `bytes` does: take just what is needed
            // (whole pages) rather than refuse a write with space to spare. If that fails too, the
            // disk is full and its error is thrown.
            let pages = min(target, (bytes + Self.pageBytes - 1) / Self.pageBytes * Self.pageBytes)
            guard pages < target else { throw error }
            try fileSystem.allocate(try fd, offset: allocated, length: pages - allocated)
            allocated = pages
        }
    }

    private static let pageBytes = 4096

    /// Writes `bytes` at `offset` with pwrite (within what `reserve` allocated).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        precondition(isWritable && offset + bytes.count <= allocated, "write past the allocated space")
        try fileSystem.writeAll(try fd, bytes, at: offset)
    }

    /// Cuts (or extends, sparsely) the file to `length` bytes.
    func truncate(to length: Int) throws {
        precondition(length <= capacity || !isWritable, "truncate past the mapping")
        try fileSystem.truncate(try fd, to: length)
        allocated = length
    }

    /// fdatasync: makes every byte stored through the mapping, and the file size, durable.
    func sync() throws { try fileSystem.dataSync(try fd) }

    func modificationTimeMs() -> Int64? { try? fileSystem.modificationTimeMs(try fd) }
}
