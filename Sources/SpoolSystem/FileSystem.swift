/// Options for opening a file.
public struct OpenOptions: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let readOnly = OpenOptions([])
    public static let readWrite = OpenOptions(rawValue: 1 << 0)
    public static let create = OpenOptions(rawValue: 1 << 1)
    public static let exclusive = OpenOptions(rawValue: 1 << 2)
    public static let truncate = OpenOptions(rawValue: 1 << 3)
    public static let directory = OpenOptions(rawValue: 1 << 4)
    /// Every `write` goes to the end of the file (O_APPEND), atomically with respect to other
    /// processes appending to the same file.
    public static let append = OpenOptions(rawValue: 1 << 5)
}

/// Which file an open descriptor or a path refers to: two names of one file, or a name before and
/// after another process renamed a new file over it, compare by identity.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}

/// How a mapped range will be read (see `FileSystem.adviseAccess`).
public enum AccessPattern: Sendable {
    /// The kernel's default: a fault reads the pages around it too (up to the device's readahead,
    /// 8 MiB on some virtual disks), which suits sequential reads.
    case normal
    /// Scattered reads of a few bytes each, such as walking batch headers: a fault reads its page alone.
    case random
}

/// Every system call Spool's storage makes, behind one protocol.
///
/// Nothing in SpoolLog calls Glibc directly: it goes through a `FileSystem`, so tests can wrap
/// `LiveFileSystem` and inject ENOSPC, EIO or EINTR into any call. Implementations throw
/// `SystemError`; EINTR is retried inside.
public protocol FileSystem: Sendable {
    func open(_ path: String, _ options: OpenOptions, permissions: UInt32) throws -> Int32
    func close(_ fd: Int32)
    /// Writes at `offset`; may write fewer bytes than given (see `writeAll`).
    func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws -> Int
    /// Writes at the file position (at the end for a file opened with `.append`); may write fewer
    /// bytes than given.
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int
    /// Reads at `offset`; returns 0 at end of file.
    func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int
    /// Allocates disk blocks for [offset, offset + length), extending the file if needed. Fails
    /// with ENOSPC when the disk cannot hold them, which is how a full disk surfaces before any
    /// write through a mapping could fault.
    func allocate(_ fd: Int32, offset: Int, length: Int) throws
    func truncate(_ fd: Int32, to length: Int) throws
    func dataSync(_ fd: Int32) throws
    func sync(_ fd: Int32) throws
    func size(_ fd: Int32) throws -> Int
    /// Last modification time in milliseconds since the Unix epoch.
    func modificationTimeMs(_ fd: Int32) throws -> Int64
    func map(_ fd: Int32, length: Int, writable: Bool) throws -> UnsafeMutableRawPointer
    func unmap(_ address: UnsafeMutableRawPointer, length: Int)
    /// Drops this process's mapping of the whole pages within `length` bytes at `address` of a
    /// shared file mapping (madvise MADV_DONTNEED). The data stays in the file and the page cache;
    /// the next access maps the page again. Advice only: it cannot fail in a way that matters.
    func releasePages(_ address: UnsafeMutableRawPointer, length: Int)
    /// Tells the kernel how `length` bytes at `address` of a mapping will be read, which decides
    /// how much a page fault reads ahead (madvise MADV_NORMAL or MADV_RANDOM). Advice only.
    func adviseAccess(_ address: UnsafeMutableRawPointer, length: Int, _ pattern: AccessPattern)
    func rename(_ from: String, to: String) throws
    func remove(_ path: String) throws
    func makeDirectory(_ path: String) throws
    func removeDirectory(_ path: String) throws
    /// Names in a directory, without "." and "..".
    func contents(ofDirectory path: String) throws -> [String]
    func exists(_ path: String) -> Bool
    /// Takes the exclusive advisory lock of the open file (flock LOCK_EX), shared with other
    /// processes. With `wait` false, returns false at once when another open file holds it;
    /// with `wait` true, blocks until it is free and returns true.
    func lock(_ fd: Int32, wait: Bool) throws -> Bool
    /// Releases the lock `lock` took (closing the descriptor releases it too).
    func unlock(_ fd: Int32)
    /// The identity of the open file.
    func identity(_ fd: Int32) throws -> FileIdentity
    /// The identity of the file `path` names now.
    func identity(atPath path: String) throws -> FileIdentity
}

extension FileSystem {
    /// Writes all of `bytes` at `offset`, continuing after short writes.
    public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var written = 0
        while written < bytes.count {
            let count = try pwrite(fd, UnsafeRawBufferPointer(rebasing: bytes[written...]), at: offset + written)
            precondition(count > 0, "pwrite wrote nothing without an error")
            written += count
        }
    }

    /// fsyncs a directory, making the names created, renamed or removed in it durable.
    public func syncDirectory(_ path: String) throws {
        let fd = try open(path, [.directory], permissions: 0)
        defer { close(fd) }
        try sync(fd)
    }

    /// Replaces `path` with `bytes` atomically and durably: write a temporary file, fsync it, rename
    /// it over `path`, fsync the directory. A crash leaves either the old or the new contents.
    ///
    /// - Parameter temporary: the temporary file, in `path`'s directory; `path` + `.tmp` unless
    ///   given (a caller whose names may be near the 255-byte limit gives a shorter one).
    public func writeAtomically(_ path: String, _ bytes: [UInt8], temporary: String? = nil) throws {
        let temporary = temporary ?? path + ".tmp"
        let fd = try open(temporary, [.readWrite, .create, .truncate], permissions: 0o644)
        do {
            try bytes.withUnsafeBytes { try writeAll(fd, $0, at: 0) }
            try dataSync(fd)
            close(fd)
        } catch {
            close(fd)
            try? remove(temporary)
            throw error
        }
        do { try rename(temporary, to: path) } catch {
            try? remove(temporary)
            throw error
        }
        try syncDirectory(parentDirectory(of: path))
    }

    /// The whole contents of a small file.
    public func readFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
        let fd = try open(path, [.readOnly], permissions: 0)
        defer { close(fd) }
        let count = try size(fd)
        guard count <= limit else { throw SystemError(errno: 27 /* EFBIG */, operation: "read", path: path) }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < count {
                let n = try pread(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: done)
                if n == 0 { break }
                done += n
            }
        }
        return Array(bytes[..<done])
    }
}

/// The directory part of a path ("." when there is none).
public func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
}
