/// A zstd bit stream read backwards (RFC 8878 section 4.1): the Huffman-coded literal streams,
/// the FSE-coded Huffman weights and the sequences. The writer's last bits are read first; the
/// stream's last byte holds a 1 bit above them, which marks where they start.
///
/// Bits are read from a 64-bit container loaded from the stream, refilled by `reload()`. A read
/// past the stream's start reads zeros and never touches memory outside it; `bitsLeft` then
/// goes below 0, which the callers check (an exact 0 at the end of a stream that must be read
/// whole).
struct ZstdBitReader {
    private let bytes: UnsafeRawBufferPointer
    /// Where the 8 bytes in `container` start; 0 for a stream shorter than 8 bytes.
    private var position: Int
    private var container: UInt64 = 0
    /// How many of `container`'s bits, counted from its top, are read.
    private var consumed: Int

    /// A reader of the whole of `bytes`, whose last byte is not 0.
    init(_ bytes: UnsafeRawBufferPointer) throws(DecompressionFailure) {
        guard let last = bytes.last, last != 0 else { throw DecompressionFailure(reason: "corrupt zstd bit stream") }
        self.bytes = bytes
        let marker = last.leadingZeroBitCount + 1
        if bytes.count >= 8 {
            position = bytes.count - 8
            container = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            consumed = marker
        } else {
            position = 0
            for index in 0..<bytes.count { container |= UInt64(bytes[index]) << (8 * index) }
            consumed = marker + (8 - bytes.count) * 8
        }
    }

    /// The bits not yet read: below 0 when more were read than the stream holds.
    var bitsLeft: Int { position * 8 + 64 - consumed }

    /// The next `count` (0...56 after a `reload()`) bits, as a number whose top bit is the first read.
    @inline(__always) mutating func read(_ count: Int) -> Int {
        let value = peek(count)
        consumed += count
        return value
    }

    /// The next `count` (0...56) bits, not read.
    @inline(__always) func peek(_ count: Int) -> Int {
        // A shift of 64 or more (a stream read past its start) makes 0, which is what zstd reads there.
        Int(truncatingIfNeeded: ((container << consumed) &>> 1) &>> UInt64(63 - count))
    }

    /// Marks `count` bits read, after a `peek`.
    @inline(__always) mutating func skip(_ count: Int) {
        consumed += count
    }

    /// Refills the container so that at least 56 bits can be read, or every bit that is left.
    @inline(__always) mutating func reload() {
        guard consumed <= 64 else { return }
        if position >= 8 {
            position -= consumed >> 3
            consumed &= 7
        } else if position > 0 {
            let step = min(consumed >> 3, position)
            position -= step
            consumed -= step * 8
        } else {
            return
        }
        container = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }
}
