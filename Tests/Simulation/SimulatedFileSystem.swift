import Glibc
import SpoolSystem
import Synchronization

/// An in-memory `FileSystem` that can lose power: every file keeps what reads see apart from what
/// is durable, directory entries become durable only when their directory is fsynced, and
/// `powerCut` (or a cut armed at a seeded operation count) returns the `CrashImage` a real disk
/// could hold afterwards. A new `SimulatedFileSystem(image:)` restarts from it. In the spirit of
/// FoundationDB's simulation and TigerBeetle's VOPR; docs/reliability.md says what it models.
///
/// Thread-safe: one lock over the whole simulated disk. Bytes stored through a mapping bypass
/// it, as they bypass the kernel; they count as unsynced until an fdatasync of their file finds
/// them (by comparing pages).
public final class SimulatedFileSystem: FileSystem {
    /// The device number every `FileIdentity` carries.
    public static let device: UInt64 = 0x5350_4F4F

    let world: GuardedWorld
    let clock: @Sendable () -> Int64

    /// An empty disk holding only the root directory.
    /// - Parameters:
    ///   - fileBytesMax: the largest a file (and a mapping of it) may grow; reserved per file as
    ///     address space, not memory.
    ///   - clock: what modification times read.
    public init(fileBytesMax: Int = 1 << 30, clock: @escaping @Sendable () -> Int64) {
        self.clock = clock
        world = GuardedWorld(World(fileBytesMax: fileBytesMax, now: clock()))
    }

    /// A disk holding exactly `image`, all of it durable.
    public convenience init(image: CrashImage, fileBytesMax: Int = 1 << 30, clock: @escaping @Sendable () -> Int64) {
        self.init(fileBytesMax: fileBytesMax, clock: clock)
        world.withLock { $0.restore(image) }
    }

    // MARK: - Power cuts

    /// Cuts the power now: the crash image (random choices drawn from `random`). The disk goes on
    /// working afterwards as if nothing happened; the image is what a restart would find.
    public func powerCut(_ random: inout SimulationRandom) -> CrashImage {
        world.withLock { $0.crashImage(&random) }
    }

    /// Arms a power cut just before the `operation`th call that changes the disk from now on
    /// (counting opens, writes, allocations, truncations, syncs and directory changes; 1 is the
    /// next one). From then on the disk is frozen for the image: later calls go on in a dead
    /// world that `cutImage` no longer sees, as a process goes on for a moment after its power
    /// supply died.
    public func armPowerCut(atOperation operation: Int, seed: UInt64) {
        precondition(operation >= 1, "a cut is armed for a future operation")
        world.withLock { world in
            world.armedCut = World.ArmedCut(operation: world.operations + operation, random: SimulationRandom(seed: seed))
            world.cutImage = nil
        }
    }

    /// The image taken by the armed cut, once it has happened.
    public var cutImage: CrashImage? { world.withLock { $0.cutImage } }

    /// Whether the armed cut has happened: an acknowledgement seen while this is false was given
    /// before the cut.
    public var hasCut: Bool { world.withLock { $0.cutImage != nil } }

    /// Calls that changed the disk so far.
    public var operationCount: Int { world.withLock { $0.operations } }

    // MARK: - FileSystem

    public func open(_ path: String, _ options: OpenOptions, permissions: UInt32) throws -> Int32 {
        try world.withLock { world throws(SystemError) -> Int32 in
            if options.contains(.create) || options.contains(.truncate) { world.step() }
            return try world.open(SimulatedPath(path), options, now: clock(), spelled: path)
        }
    }

    public func close(_ fd: Int32) {
        world.withLock { world in
            guard let file = world.files.removeValue(forKey: fd) else { return }
            if file.inode.lockHolder == fd { file.inode.lockHolder = nil }
        }
    }

    public func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws -> Int {
        try world.withLock { world throws(SystemError) -> Int in
            world.step()
            let file = try world.file(fd, "pwrite", writing: true)
            return try world.store(bytes, in: file.inode, at: offset, now: clock())
        }
    }

    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int {
        try world.withLock { world throws(SystemError) -> Int in
            world.step()
            let file = try world.file(fd, "write", writing: true)
            let offset = file.options.contains(.append) ? file.inode.size : file.position
            let written = try world.store(bytes, in: file.inode, at: offset, now: clock())
            world.files[fd]?.position = offset + written
            return written
        }
    }

    public func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        try world.withLock { world throws(SystemError) -> Int in
            let inode = try world.file(fd, "pread", writing: false).inode
            guard offset >= 0 else { throw SystemError(errno: EINVAL, operation: "pread") }
            guard let visible = inode.visible, offset < inode.size else { return 0 }
            let count = min(buffer.count, inode.size - offset)
            if count > 0, let target = buffer.baseAddress { memcpy(target, visible.base + offset, count) }
            return count
        }
    }

    public func allocate(_ fd: Int32, offset: Int, length: Int) throws {
        try world.withLock { world throws(SystemError) in
            world.step()
            let inode = try world.file(fd, "fallocate", writing: true).inode
            guard offset >= 0, length > 0 else { throw SystemError(errno: EINVAL, operation: "fallocate") }
            guard offset + length <= world.fileBytesMax else { throw SystemError(errno: ENOSPC, operation: "fallocate") }
            if offset + length > inode.size {
                inode.resize(to: offset + length)
                inode.modificationTimeMs = clock()
            }
        }
    }

    public func truncate(_ fd: Int32, to length: Int) throws {
        try world.withLock { world throws(SystemError) in
            world.step()
            let inode = try world.file(fd, "ftruncate", writing: true).inode
            guard length >= 0 else { throw SystemError(errno: EINVAL, operation: "ftruncate") }
            guard length <= world.fileBytesMax else { throw SystemError(errno: EFBIG, operation: "ftruncate") }
            inode.resize(to: length)
            inode.modificationTimeMs = clock()
        }
    }

    public func dataSync(_ fd: Int32) throws {
        try world.withLock { world throws(SystemError) in
            world.step()
            try world.sync(try world.file(fd, "fdatasync", writing: false).inode, now: clock())
        }
    }

    public func sync(_ fd: Int32) throws {
        try world.withLock { world throws(SystemError) in
            world.step()
            try world.sync(try world.file(fd, "fsync", writing: false).inode, now: clock())
        }
    }

    public func size(_ fd: Int32) throws -> Int {
        try world.withLock { world throws(SystemError) -> Int in try world.file(fd, "fstat", writing: false).inode.size }
    }

    public func modificationTimeMs(_ fd: Int32) throws -> Int64 {
        try world.withLock { world throws(SystemError) -> Int64 in try world.file(fd, "fstat", writing: false).inode.modificationTimeMs }
    }

    public func map(_ fd: Int32, length: Int, writable: Bool) throws -> UnsafeMutableRawPointer {
        try world.withLock { world throws(SystemError) -> UnsafeMutableRawPointer in
            let file = try world.file(fd, "mmap", writing: false)
            guard let visible = file.inode.visible else { throw SystemError(errno: ENODEV, operation: "mmap") }
            guard length > 0 else { throw SystemError(errno: EINVAL, operation: "mmap") }
            guard length <= visible.capacity else { throw SystemError(errno: ENOMEM, operation: "mmap") }
            guard !writable || file.options.contains(.readWrite) else { throw SystemError(errno: EACCES, operation: "mmap") }
            // Every mapping of a file starts at its first byte, so two mappings of one file share
            // an address; they are counted so that each unmap has a mapping to release.
            world.mappings[UInt(bitPattern: visible.base), default: World.Mapping(inode: file.inode, count: 0)].count += 1
            return visible.base
        }
    }

    public func unmap(_ address: UnsafeMutableRawPointer, length: Int) {
        world.withLock { world in
            let key = UInt(bitPattern: address)
            guard let mapping = world.mappings[key] else { preconditionFailure("unmap of an address that is not mapped") }
            precondition(length <= mapping.inode.visible?.capacity ?? 0, "unmap longer than the mapping")
            if mapping.count == 1 { world.mappings[key] = nil } else { world.mappings[key]?.count -= 1 }
        }
    }

    /// Advice only: the simulated pages stay where they are.
    public func releasePages(_ address: UnsafeMutableRawPointer, length: Int) {}

    /// Advice only.
    public func adviseAccess(_ address: UnsafeMutableRawPointer, length: Int, _ pattern: AccessPattern) {}

    public func rename(_ from: String, to: String) throws {
        try world.withLock { world throws(SystemError) in
            world.step()
            try world.rename(SimulatedPath(from), SimulatedPath(to), spelled: from)
        }
    }

    public func remove(_ path: String) throws {
        try world.withLock { world throws(SystemError) in
            world.step()
            try world.unlink(SimulatedPath(path), directory: false, spelled: path)
        }
    }

    public func makeDirectory(_ path: String) throws {
        try world.withLock { world throws(SystemError) in
            let location = SimulatedPath(path)
            let (parent, name) = try world.parent(of: location, "mkdir", spelled: path)
            // An existing directory is success, as for LiveFileSystem.
            if let existing = parent.entries[name] {
                if existing.isDirectory { return }
                throw SystemError(errno: EEXIST, operation: "mkdir", path: path)
            }
            world.step()
            let directory = world.makeInode(directory: true, now: clock())
            parent.entries[name] = directory
            world.namespace.record(.link(directory: parent, name: name, inode: directory))
        }
    }

    public func removeDirectory(_ path: String) throws {
        try world.withLock { world throws(SystemError) in
            world.step()
            try world.unlink(SimulatedPath(path), directory: true, spelled: path)
        }
    }

    public func contents(ofDirectory path: String) throws -> [String] {
        try world.withLock { world throws(SystemError) -> [String] in
            let inode = try world.resolve(SimulatedPath(path), "opendir", spelled: path)
            guard inode.isDirectory else { throw SystemError(errno: ENOTDIR, operation: "opendir", path: path) }
            return inode.entries.keys.sorted()
        }
    }

    public func exists(_ path: String) -> Bool {
        world.withLock { world in (try? world.resolve(SimulatedPath(path), "access", spelled: path)) != nil }
    }

    /// flock: one holder per file, by open descriptor. This process is the only one on the
    /// simulated disk, so a lock another of its descriptors holds is released only by that
    /// descriptor: waiting for it would wait forever, and is answered EDEADLK instead.
    public func lock(_ fd: Int32, wait: Bool) throws -> Bool {
        try world.withLock { world throws(SystemError) -> Bool in
            let inode = try world.file(fd, "flock", writing: false).inode
            if inode.lockHolder == nil || inode.lockHolder == fd {
                inode.lockHolder = fd
                return true
            }
            if wait { throw SystemError(errno: EDEADLK, operation: "flock") }
            return false
        }
    }

    public func unlock(_ fd: Int32) {
        world.withLock { world in
            guard let inode = world.files[fd]?.inode, inode.lockHolder == fd else { return }
            inode.lockHolder = nil
        }
    }

    public func identity(_ fd: Int32) throws -> FileIdentity {
        try world.withLock { world throws(SystemError) -> FileIdentity in
            FileIdentity(device: Self.device, inode: try world.file(fd, "fstat", writing: false).inode.number)
        }
    }

    public func identity(atPath path: String) throws -> FileIdentity {
        try world.withLock { world throws(SystemError) -> FileIdentity in
            FileIdentity(device: Self.device, inode: try world.resolve(SimulatedPath(path), "stat", spelled: path).number)
        }
    }
}
