import CSpool
import Glibc

/// The real system calls.
public struct LiveFileSystem: FileSystem {
    public init() {}

    public func open(_ path: String, _ options: OpenOptions, permissions: UInt32) throws -> Int32 {
        var flags: Int32 = O_CLOEXEC
        flags |= options.contains(.readWrite) ? O_RDWR : O_RDONLY
        if options.contains(.create) { flags |= O_CREAT }
        if options.contains(.exclusive) { flags |= O_EXCL }
        if options.contains(.truncate) { flags |= O_TRUNC }
        if options.contains(.directory) { flags |= O_DIRECTORY }
        if options.contains(.append) { flags |= O_APPEND }
        return try retryingOnInterrupt("open", path: path) { Glibc.open(path, flags, mode_t(permissions)) }
    }

    public func close(_ fd: Int32) {
        // close(2) must not be retried on EINTR on Linux: the descriptor is already released.
        _ = Glibc.close(fd)
    }

    public func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws -> Int {
        try retryingOnInterrupt("pwrite") { Glibc.pwrite(fd, bytes.baseAddress, bytes.count, off_t(offset)) }
    }

    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int {
        try retryingOnInterrupt("write") { Glibc.write(fd, bytes.baseAddress, bytes.count) }
    }

    public func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        try retryingOnInterrupt("pread") { Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    public func allocate(_ fd: Int32, offset: Int, length: Int) throws {
        _ = try retryingOnInterrupt("fallocate") { spool_fallocate(fd, Int64(offset), Int64(length)) }
    }

    public func truncate(_ fd: Int32, to length: Int) throws {
        _ = try retryingOnInterrupt("ftruncate") { ftruncate(fd, off_t(length)) }
    }

    public func dataSync(_ fd: Int32) throws {
        _ = try retryingOnInterrupt("fdatasync") { fdatasync(fd) }
    }

    public func sync(_ fd: Int32) throws {
        _ = try retryingOnInterrupt("fsync") { fsync(fd) }
    }

    public func size(_ fd: Int32) throws -> Int {
        var info = stat()
        _ = try retryingOnInterrupt("fstat") { fstat(fd, &info) }
        return Int(info.st_size)
    }

    public func modificationTimeMs(_ fd: Int32) throws -> Int64 {
        var info = stat()
        _ = try retryingOnInterrupt("fstat") { fstat(fd, &info) }
        return Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
    }

    public func map(_ fd: Int32, length: Int, writable: Bool) throws -> UnsafeMutableRawPointer {
        let protection = writable ? (PROT_READ | PROT_WRITE) : PROT_READ
        guard let address = mmap(nil, length, protection, MAP_SHARED, fd, 0), address != MAP_FAILED else {
            throw SystemError(errno: Glibc.errno, operation: "mmap")
        }
        return address
    }

    public func unmap(_ address: UnsafeMutableRawPointer, length: Int) {
        let result = munmap(address, length)
        precondition(result == 0, "munmap of a mapping Spool owns failed: errno \(Glibc.errno)")
    }

    public func releasePages(_ address: UnsafeMutableRawPointer, length: Int) {
        let start = (Int(bitPattern: address) + Self.pageBytes - 1) / Self.pageBytes * Self.pageBytes
        let end = (Int(bitPattern: address) + length) / Self.pageBytes * Self.pageBytes
        guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
        // Only EINVAL (a bug: not a mapping Spool owns) or EAGAIN can come back; the pages then
        // simply stay mapped, so the result is not checked.
        _ = madvise(aligned, end - start, MADV_DONTNEED)
    }

    public func adviseAccess(_ address: UnsafeMutableRawPointer, length: Int, _ pattern: AccessPattern) {
        let start = Int(bitPattern: address) / Self.pageBytes * Self.pageBytes
        guard length > 0, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
        // Advice: when it is refused, reads behave as before.
        _ = madvise(aligned, Int(bitPattern: address) + length - start, pattern == .random ? MADV_RANDOM : MADV_NORMAL)
    }

    private static let pageBytes = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)

    public func rename(_ from: String, to: String) throws {
        _ = try retryingOnInterrupt("rename", path: from) { Glibc.rename(from, to) }
    }

    public func remove(_ path: String) throws {
        _ = try retryingOnInterrupt("unlink", path: path) { unlink(path) }
    }

    public func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) == 0 { return }
        let code = Glibc.errno
        if code == EEXIST { return }
        throw SystemError(errno: code, operation: "mkdir", path: path)
    }

    public func removeDirectory(_ path: String) throws {
        _ = try retryingOnInterrupt("rmdir", path: path) { rmdir(path) }
    }

    /// Where a `dirent`'s name starts.
    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

    public func contents(ofDirectory path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw SystemError(errno: Glibc.errno, operation: "opendir", path: path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            // Read in place: `entry.pointee.d_name` copies the whole 256-byte field, and a
            // record is only as long as its name, so the copy read past the end of the last one
            // in readdir's buffer (found by the router fuzzer under AddressSanitizer).
            let name = String(cString: (UnsafeRawPointer(entry) + Self.nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public func lock(_ fd: Int32, wait: Bool) throws -> Bool {
        while true {
            if flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) == 0 { return true }
            let code = Glibc.errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK && !wait { return false }
            throw SystemError(errno: code, operation: "flock")
        }
    }

    public func unlock(_ fd: Int32) {
        // Only EBADF or EINTR can come back; closing the descriptor releases the lock anyway.
        _ = flock(fd, LOCK_UN)
    }

    public func identity(_ fd: Int32) throws -> FileIdentity {
        var info = stat()
        _ = try retryingOnInterrupt("fstat") { fstat(fd, &info) }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    public func identity(atPath path: String) throws -> FileIdentity {
        var info = stat()
        _ = try retryingOnInterrupt("stat", path: path) { stat(path, &info) }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}
