import SpoolSystem

/// An entry of a sparse index file: fixed size, big-endian, sorted by `key`.
protocol IndexEntry: Equatable {
    static var size: Int { get }
    /// What entries are sorted and searched by.
    var key: Int64 { get }
    init(reading bytes: UnsafeRawBufferPointer)
    func write(to bytes: UnsafeMutableRawBufferPointer)
}

/// A file of fixed-size entries sorted by key, reached through a mapping (so a 10 GB log's indexes
/// live in the page cache, not the heap). The active segment's index grows by appends; a sealed
/// one is read-only. Not thread-safe: the owning log serialises access.
final class SparseIndex<Entry: IndexEntry> {
    let file: MappedFile
    private(set) var count: Int

    /// Wraps an index file whose first `count` entries are valid.
    init(file: MappedFile, count: Int) {
        precondition(count * Entry.size <= max(file.allocated, 0), "index count past the file")
        self.file = file
        self.count = count
    }

    /// Entries that fit in the mapping.
    var capacity: Int { file.capacity / Entry.size }
    var isFull: Bool { count >= capacity }
    var sizeInBytes: Int { count * Entry.size }

    func entry(at index: Int) -> Entry {
        precondition(index >= 0 && index < count, "index entry \(index) out of 0..<\(count)")
        let start = index * Entry.size
        guard let region = file.region else { preconditionFailure("index entries without a mapping") }
        return region.withUnsafeBytes(start..<(start + Entry.size)) { Entry(reading: $0) }
    }

    var last: Entry? { count > 0 ? entry(at: count - 1) : nil }

    /// Whether `reserveOne` would allocate disk blocks.
    var mustAllocateForOne: Bool { file.mustAllocate((count + 1) * Entry.size) }

    /// Allocates room for one more entry (throws ENOSPC when the disk is full).
    func reserveOne() throws {
        precondition(!isFull, "append to a full index")
        try file.reserve((count + 1) * Entry.size)
    }

    /// Appends an entry; `reserveOne()` must have succeeded first.
    func append(_ entry: Entry) {
        precondition(count == 0 || entry.key >= self.entry(at: count - 1).key, "index keys must not go back")
        let start = count * Entry.size
        guard let region = file.region else { preconditionFailure("append to an unmapped index") }
        region.withUnsafeMutableBytes(start..<(start + Entry.size)) { entry.write(to: $0) }
        count += 1
    }

    /// Forgets every entry (before a rebuild).
    func reset() { count = 0 }

    /// The last entry whose key is ≤ `target` (or < `target` when `strictly`), by binary search.
    func lastEntry(atMost target: Int64, strictly: Bool = false) -> Entry? {
        var low = 0
        var high = count  // the answer is in [low - 1, high)
        while low < high {
            let middle = (low + high) / 2
            let key = entry(at: middle).key
            if key < target || (!strictly && key == target) { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? entry(at: low - 1) : nil
    }

    /// Cuts the file to the valid entries (on seal and close).
    func trimFile() throws { try file.truncate(to: sizeInBytes) }

    /// Whether the keys are in order and `isPlausible` holds for the last entry. Checks the ends
    /// only, as Kafka's sanity check does, so that opening a large log stays fast.
    func looksSane(_ isPlausible: (Entry) -> Bool) -> Bool {
        guard count > 0 else { return true }
        let first = entry(at: 0)
        let last = entry(at: count - 1)
        return first.key <= last.key && isPlausible(first) && isPlausible(last)
    }
}

/// Offset index entry: offset relative to the segment's base → byte position of the batch.
struct OffsetEntry: IndexEntry {
    static let size = 8
    var relativeOffset: UInt32
    var position: UInt32
    var key: Int64 { Int64(relativeOffset) }

    init(relativeOffset: UInt32, position: UInt32) {
        self.relativeOffset = relativeOffset
        self.position = position
    }

    init(reading bytes: UnsafeRawBufferPointer) {
        relativeOffset = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        position = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    }

    func write(to bytes: UnsafeMutableRawBufferPointer) {
        bytes.storeBytes(of: relativeOffset.bigEndian, toByteOffset: 0, as: UInt32.self)
        bytes.storeBytes(of: position.bigEndian, toByteOffset: 4, as: UInt32.self)
    }
}

/// Time index entry: the largest timestamp seen so far in the segment → the base offset of the
/// batch that carried it (relative to the segment's base).
struct TimeEntry: IndexEntry {
    static let size = 12
    var timestamp: Int64
    var relativeOffset: UInt32
    var key: Int64 { timestamp }

    init(timestamp: Int64, relativeOffset: UInt32) {
        self.timestamp = timestamp
        self.relativeOffset = relativeOffset
    }

    init(reading bytes: UnsafeRawBufferPointer) {
        timestamp = Int64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: Int64.self))
        relativeOffset = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
    }

    func write(to bytes: UnsafeMutableRawBufferPointer) {
        bytes.storeBytes(of: timestamp.bigEndian, toByteOffset: 0, as: Int64.self)
        bytes.storeBytes(of: relativeOffset.bigEndian, toByteOffset: 8, as: UInt32.self)
    }
}

typealias OffsetIndex = SparseIndex<OffsetEntry>
typealias TimeIndex = SparseIndex<TimeEntry>

extension TimeIndex {
    static var entrySize: Int { TimeEntry.size }
}
