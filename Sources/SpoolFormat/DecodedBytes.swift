/// The bytes a decompressor writes, in memory of its own grown by doubling: written through a
/// pointer, a byte, a run of input or a back-reference at a time, without the checks of an
/// array's append on every byte. The decoders check their limits before they write (each says
/// what was exceeded its own way); `array()` hands the bytes over at the end.
struct DecodedBytes: ~Copyable {
    private var start: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 4_096) {
        self.capacity = max(1, capacity)
        start = .allocate(capacity: self.capacity)
    }

    deinit { start.deallocate() }

    /// The bytes written, as an array.
    func array() -> [UInt8] { Array(UnsafeBufferPointer(start: start, count: count)) }

    /// The bytes written, in place.
    func withUnsafeBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// Room for `more` bytes after the ones written.
    @inline(__always)
    private mutating func reserve(_ more: Int) {
        guard more > capacity - count else { return }
        let grown = max(capacity * 2, count + more)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        moved.update(from: start, count: count)
        start.deallocate()
        (start, capacity) = (moved, grown)
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { reserve(1) }
        start[count] = byte
        count += 1
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        if let base = bytes.baseAddress { UnsafeMutableRawPointer(start + count).copyMemory(from: base, byteCount: bytes.count) }
        count += bytes.count
    }

    /// Appends `length` bytes copied from `distance` bytes back, as LZ77's back-references
    /// (gzip's length-distance pairs, snappy's copies, lz4's matches) read them: where the copy
    /// overlaps the bytes it writes (`distance` < `length`), it repeats them. The caller has
    /// checked that `distance` is at least 1 and at most `count`.
    @inline(__always)
    mutating func copy(distance: Int, length: Int) {
        precondition(distance >= 1 && distance <= count && length >= 0, "a back-reference outside the bytes written")
        reserve(length)
        let to = start + count, from = to - distance
        count += length
        guard distance < length else {
            to.update(from: from, count: length)
            return
        }
        // A pattern of `distance` bytes repeated: copied in chunks that do not overlap their
        // source, each as long as all that is written of the pattern so far.
        var written = 0
        while written < length {
            let chunk = min(length - written, distance + written)
            (to + written).update(from: from, count: chunk)
            written += chunk
        }
    }
}
