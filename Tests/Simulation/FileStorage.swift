import Glibc

/// The bytes of one simulated file: a private anonymous mapping reserved once at its largest size,
/// so that a pointer into it stays valid for the life of the file (what `FileSystem.map` must hand
/// out) and pages that were never written cost no memory.
///
/// Not thread-safe: `SimulatedFileSystem`'s lock serialises every access but stores through a
/// mapping, which the code under test orders itself, as it must with a real mapping.
final class FileStorage {
    /// Bytes a simulated file may hold at most (reserved, not committed: `MAP_NORESERVE`).
    let capacity: Int
    let base: UnsafeMutableRawPointer

    static let pageBytes = 4096

    init(capacity: Int) {
        precondition(capacity > 0 && capacity % Self.pageBytes == 0, "capacity must be whole pages")
        let address = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        // Reserving address space only fails when the process has run out of it: nothing a
        // simulation can go on from.
        guard let address, address != MAP_FAILED else { preconditionFailure("cannot reserve \(capacity) bytes for a simulated file") }
        self.capacity = capacity
        self.base = address
    }

    deinit { munmap(base, capacity) }

    /// Zeroes `range`, giving whole pages back to the system.
    func zero(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= capacity, "zero outside the file")
        guard !range.isEmpty else { return }
        let firstWholePage = (range.lowerBound + Self.pageBytes - 1) / Self.pageBytes * Self.pageBytes
        let lastWholePage = range.upperBound / Self.pageBytes * Self.pageBytes
        guard firstWholePage < lastWholePage else {
            memset(base + range.lowerBound, 0, range.count)
            return
        }
        memset(base + range.lowerBound, 0, firstWholePage - range.lowerBound)
        // A private anonymous page dropped with MADV_DONTNEED reads back as zeros.
        _ = madvise(base + firstWholePage, lastWholePage - firstWholePage, MADV_DONTNEED)
        memset(base + lastWholePage, 0, range.upperBound - lastWholePage)
    }

    func copy(from other: FileStorage, _ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= min(capacity, other.capacity), "copy outside the file")
        memcpy(base + range.lowerBound, other.base + range.lowerBound, range.count)
    }

    func equals(_ other: FileStorage, _ range: Range<Int>) -> Bool {
        precondition(range.lowerBound >= 0 && range.upperBound <= min(capacity, other.capacity), "compare outside the file")
        return memcmp(base + range.lowerBound, other.base + range.lowerBound, range.count) == 0
    }

    func bytes(_ range: Range<Int>) -> [UInt8] {
        precondition(range.lowerBound >= 0 && range.upperBound <= capacity, "read outside the file")
        return Array(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    func isZero(_ range: Range<Int>) -> Bool {
        precondition(range.lowerBound >= 0 && range.upperBound <= capacity, "read outside the file")
        guard !range.isEmpty else { return true }
        // All zero exactly when the first byte is zero and every byte equals the one before it.
        let start = base + range.lowerBound
        return start.load(as: UInt8.self) == 0 && memcmp(start, start + 1, range.count - 1) == 0
    }
}
