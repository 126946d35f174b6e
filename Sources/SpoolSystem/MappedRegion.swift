/// A shared file mapping that is unmapped exactly once, when the last reference goes away.
///
/// Reads hand out slices that keep their region alive, so a segment deleted by retention or
/// closed by a roll never pulls memory out from under a reader. The region is read through
/// `withUnsafeBytes` with bounds checked against `length`; writes go through `write(_:at:)`, which
/// only the owner of the log calls, under the log's lock.
public final class MappedRegion: @unchecked Sendable {
    // Safe to share: the address and length never change, munmap runs in deinit when no slice can
    // still point here, and concurrent writers are excluded by the owning log's lock. Readers only
    // read bytes below the high watermark, which no writer touches again.
    private let address: UnsafeMutableRawPointer
    /// Bytes mapped (may run past the end of the file for the active segment, whose file grows
    /// into the mapping; only bytes below the file size may be touched).
    public let length: Int
    public let isWritable: Bool
    private let fileSystem: any FileSystem

    public init(fd: Int32, length: Int, writable: Bool, fileSystem: any FileSystem) throws {
        precondition(length > 0, "cannot map zero bytes")
        self.address = try fileSystem.map(fd, length: length, writable: writable)
        self.length = length
        self.isWritable = writable
        self.fileSystem = fileSystem
    }

    deinit { fileSystem.unmap(address, length: length) }

    /// Read access to `range` of the mapping.
    @inline(__always)
    public func withUnsafeBytes<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= length, "read outside the mapping")
        return try body(UnsafeRawBufferPointer(start: address + range.lowerBound, count: range.count))
    }

    /// Write access to `range` of the mapping.
    @inline(__always)
    public func withUnsafeMutableBytes<R>(_ range: Range<Int>, _ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        precondition(isWritable, "write to a read-only mapping")
        precondition(range.lowerBound >= 0 && range.upperBound <= length, "write outside the mapping")
        return try body(UnsafeMutableRawBufferPointer(start: address + range.lowerBound, count: range.count))
    }

    /// Stops counting the whole pages within `range` in the process's resident memory (see
    /// `FileSystem.releasePages`); their bytes stay readable, at the cost of a minor fault.
    public func releasePages(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= length, "release outside the mapping")
        guard !range.isEmpty else { return }
        fileSystem.releasePages(address + range.lowerBound, length: range.count)
    }

    /// Tells the kernel how `range` will be read (see `FileSystem.adviseAccess`).
    public func adviseAccess(_ range: Range<Int>, _ pattern: AccessPattern) {
        precondition(range.lowerBound >= 0 && range.upperBound <= length, "advice outside the mapping")
        guard !range.isEmpty else { return }
        fileSystem.adviseAccess(address + range.lowerBound, length: range.count, pattern)
    }

    /// Copies `bytes` into the mapping at `offset`.
    @inline(__always)
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        withUnsafeMutableBytes(offset..<(offset + bytes.count)) { $0.copyMemory(from: bytes) }
    }
}
