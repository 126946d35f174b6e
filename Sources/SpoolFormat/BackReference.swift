extension Array where Element == UInt8 {
    /// Appends `length` bytes copied from `distance` bytes back, as LZ77's back-references
    /// (snappy's copies, lz4's matches) read: where the copy overlaps the bytes it writes
    /// (`distance` < `length`), it repeats them. The caller has checked that `distance` is at
    /// least 1 and at most `count`. Grows the array by doubling, so many short copies cost
    /// amortized constant time each.
    mutating func appendBackReference(distance: Int, length: Int) {
        precondition(distance >= 1 && distance <= count && length >= 0, "a back-reference outside the bytes written")
        let start = count
        if capacity - start < length { reserveCapacity(Swift.max(start + length, capacity * 2)) }
        append(contentsOf: repeatElement(0, count: length))
        withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            BackReference.copy(to: base + start, distance: distance, length: length)
        }
    }
}

enum BackReference {
    /// Writes `length` bytes at `to`, each the byte `distance` before it. A copy that overlaps
    /// what it writes is a pattern of `distance` bytes repeated: it goes in chunks that do not
    /// overlap their source, each as long as all that is written of the pattern so far.
    @inline(__always)
    static func copy(to: UnsafeMutablePointer<UInt8>, distance: Int, length: Int) {
        let from = to - distance
        guard distance < length else {
            to.update(from: from, count: length)
            return
        }
        var written = 0
        while written < length {
            // The source [from, from + n) ends before the destination starts: n ≤ distance + written.
            let chunk = Swift.min(length - written, distance + written)
            (to + written).update(from: from, count: chunk)
            written += chunk
        }
    }
}
