/// A DEFLATE (RFC 1951) decoder, for gzip batches (`Gzip`). Codes are checked as zlib's
/// reference decoder, `contrib/puff/puff.c`, checks them (an over-subscribed or incomplete code
/// is refused, but for a single code of one bit), and decoded as zlib decodes them: through a
/// table of the codes up to `HuffmanCode.tableBits` long, looked up with bits taken from a
/// 64-bit buffer refilled eight bytes at a time, and puff's canonical walk for the longer (rare)
/// ones. Every read of input or output is bounds-checked, and the output stops at `outputLimit`
/// bytes, so a small hostile stream cannot make a huge one.
struct Inflater: ~Copyable {
    private let input: UnsafeRawBufferPointer
    /// The next input byte not yet taken into `bitBuffer`.
    private(set) var position: Int
    /// Input bits not yet used, the next one lowest; `bitCount` of them.
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0
    private var out = DecodedBytes()
    private let outputLimit: Int
    /// The bytes inflated so far, and how many.
    var output: [UInt8] { out.array() }
    var count: Int { out.count }

    init(_ input: UnsafeRawBufferPointer, from position: Int, outputLimit: Int) {
        self.input = input
        self.position = position
        self.outputLimit = max(0, outputLimit)
    }

    /// The CRC-32 of the bytes inflated from `start` on: a gzip member's, to check against its trailer.
    func checksum(from start: Int) -> UInt32 {
        out.withUnsafeBytes { bytes in CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[start...])) }
    }

    /// Goes on at `position` (another gzip member's stream), after the stream `run` inflated;
    /// what that stream inflated to stays, and the next one's bytes follow it.
    mutating func move(to position: Int) { self.position = position }

    /// Inflates every block up to the last one; `position` is then the first byte after the stream.
    mutating func run() throws(DecompressionFailure) {
        var last = false
        while !last {
            last = try bits(1) == 1
            switch try bits(2) {
            case 0: try stored()
            case 1: try codes(Self.fixed.lengths, Self.fixed.distances)
            case 2: try dynamic()
            default: throw DecompressionFailure(reason: "invalid block type")
            }
        }
        // The stream ends at a byte boundary: the unused bits of its last byte are dropped, and
        // the whole bytes taken into the buffer ahead of need are given back.
        returnWholeBytes()
    }

    // MARK: Bits

    /// Fills the buffer to at least 56 bits, or with all the input there is.
    @inline(__always)
    private mutating func refill() {
        if input.count - position >= 8 {
            bitBuffer |= UInt64(littleEndian: input.loadUnaligned(fromByteOffset: position, as: UInt64.self)) << bitCount
            position += (63 - bitCount) >> 3
            bitCount |= 56
            return
        }
        while bitCount <= 56, position < input.count {
            bitBuffer |= UInt64(input[position]) << bitCount
            position += 1
            bitCount += 8
        }
    }

    /// Drops the bits of a partly used byte and gives back the whole bytes in the buffer.
    private mutating func returnWholeBytes() {
        position -= bitCount >> 3
        bitBuffer = 0
        bitCount = 0
    }

    /// The next `need` bits (at most 32), taken.
    @inline(__always)
    private mutating func bits(_ need: Int) throws(DecompressionFailure) -> Int {
        if bitCount < need {
            refill()
            guard bitCount >= need else { throw DecompressionFailure(reason: "the stream ends early") }
        }
        let value = Int(truncatingIfNeeded: bitBuffer & ((1 << UInt64(need)) &- 1))
        bitBuffer >>= UInt64(need)
        bitCount -= need
        return value
    }

    /// The next symbol of `code`, taken.
    @inline(__always)
    private mutating func decode(_ code: HuffmanCode) throws(DecompressionFailure) -> Int {
        if bitCount < HuffmanCode.bitsMax { refill() }
        // Bits past the end of the input read as zeros here; a code that needs them fails below.
        let entry = code.table[Int(truncatingIfNeeded: bitBuffer) & (HuffmanCode.tableSize - 1)]
        let length: Int, symbol: Int
        if entry != 0 {
            (length, symbol) = (Int(entry & 0xF), Int(entry >> 4))
        } else {
            guard let (slowLength, slowSymbol) = code.decodeLong(bitBuffer) else {
                throw DecompressionFailure(reason: bitCount < HuffmanCode.bitsMax ? "the stream ends early" : "a code that the block's codes do not have")
            }
            (length, symbol) = (slowLength, slowSymbol)
        }
        guard length <= bitCount else { throw DecompressionFailure(reason: "the stream ends early") }
        bitBuffer >>= UInt64(length)
        bitCount -= length
        return symbol
    }

    private func tooMuch() -> DecompressionFailure { DecompressionFailure(reason: "inflates to more than \(outputLimit) bytes") }

    // MARK: Blocks

    private mutating func stored() throws(DecompressionFailure) {
        returnWholeBytes()
        guard input.count - position >= 4 else { throw DecompressionFailure(reason: "the stream ends early") }
        let length = Int(input[position]) | Int(input[position + 1]) << 8
        let complement = Int(input[position + 2]) | Int(input[position + 3]) << 8
        guard length == ~complement & 0xFFFF else { throw DecompressionFailure(reason: "a stored block's length does not match its complement") }
        position += 4
        guard input.count - position >= length else { throw DecompressionFailure(reason: "the stream ends early") }
        guard length <= outputLimit - out.count else { throw tooMuch() }
        out.append(UnsafeRawBufferPointer(rebasing: input[position..<(position + length)]))
        position += length
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                                       4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    private mutating func codes(_ lengths: HuffmanCode, _ distances: HuffmanCode) throws(DecompressionFailure) {
        let (lengthBase, lengthExtra, distanceBase, distanceExtra) = (Self.lengthBase, Self.lengthExtra, Self.distanceBase, Self.distanceExtra)
        while true {
            let symbol = try decode(lengths)
            if symbol < 256 {
                guard out.count < outputLimit else { throw tooMuch() }
                out.append(UInt8(truncatingIfNeeded: symbol))
                continue
            }
            if symbol == 256 { return }
            let lengthSymbol = symbol - 257
            guard lengthSymbol < lengthBase.count else { throw DecompressionFailure(reason: "an invalid length code") }
            let length = lengthBase[lengthSymbol] + (try bits(lengthExtra[lengthSymbol]))
            let distanceSymbol = try decode(distances)
            guard distanceSymbol < distanceBase.count else { throw DecompressionFailure(reason: "an invalid distance code") }
            let distance = distanceBase[distanceSymbol] + (try bits(distanceExtra[distanceSymbol]))
            guard distance <= out.count else { throw DecompressionFailure(reason: "a distance back past the start of the output") }
            guard length <= outputLimit - out.count else { throw tooMuch() }
            out.copy(distance: distance, length: length)
        }
    }

    /// The fixed codes of block type 1 (RFC 1951 section 3.2.6).
    private static let fixed: (lengths: HuffmanCode, distances: HuffmanCode) = {
        var lengths = [Int](repeating: 8, count: 288)
        for symbol in 144..<256 { lengths[symbol] = 9 }
        for symbol in 256..<280 { lengths[symbol] = 7 }
        return (HuffmanCode(lengths), HuffmanCode([Int](repeating: 5, count: 30)))
    }()

    /// The order in which a dynamic block lists its code-length code's lengths.
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private mutating func dynamic() throws(DecompressionFailure) {
        let lengthCount = try bits(5) + 257, distanceCount = try bits(5) + 1, codeLengthCount = try bits(4) + 4
        guard lengthCount <= 286, distanceCount <= 30 else { throw DecompressionFailure(reason: "too many length or distance codes") }
        var codeLengths = [Int](repeating: 0, count: 19)
        for index in 0..<codeLengthCount { codeLengths[Self.codeLengthOrder[index]] = try bits(3) }
        let codeLengthCode = HuffmanCode(codeLengths)
        guard codeLengthCode.left == 0 else { throw DecompressionFailure(reason: "an incomplete code-length code") }
        var lengths: [Int] = []
        lengths.reserveCapacity(lengthCount + distanceCount)
        while lengths.count < lengthCount + distanceCount {
            let symbol = try decode(codeLengthCode)
            if symbol < 16 {
                lengths.append(symbol)
                continue
            }
            var repeated = 0, times: Int
            switch symbol {
            case 16:
                guard let previous = lengths.last else { throw DecompressionFailure(reason: "a repeat with no length before it") }
                repeated = previous
                times = 3 + (try bits(2))
            case 17: times = 3 + (try bits(3))
            default: times = 11 + (try bits(7))
            }
            guard lengths.count + times <= lengthCount + distanceCount else { throw DecompressionFailure(reason: "too many code lengths") }
            lengths.append(contentsOf: repeatElement(repeated, count: times))
        }
        guard lengths[256] != 0 else { throw DecompressionFailure(reason: "no end-of-block code") }
        let literalCode = HuffmanCode(Array(lengths[..<lengthCount]))
        let distanceCode = HuffmanCode(Array(lengths[lengthCount...]))
        // An incomplete code is allowed only when it is a single code of one bit.
        guard literalCode.isUsable(symbolCount: lengthCount), distanceCode.isUsable(symbolCount: distanceCount) else {
            throw DecompressionFailure(reason: "an over-subscribed or incomplete code")
        }
        try codes(literalCode, distanceCode)
    }
}

/// A canonical Huffman code: as puff.c's `construct` builds it (how many codes each length has,
/// and the symbols in code order), and a table of the codes up to `tableBits` long, indexed by
/// the next `tableBits` input bits.
struct HuffmanCode {
    static let bitsMax = 15
    static let tableBits = 10
    static var tableSize: Int { 1 << tableBits }
    private(set) var counts = [Int](repeating: 0, count: bitsMax + 1)
    private(set) var symbols: [Int]
    /// How many codes the lengths leave unused: 0 for a complete code, more for an incomplete
    /// one, below 0 for an over-subscribed one (whose `symbols` and `table` are not built).
    private(set) var left = 1
    /// For each value of the next `tableBits` input bits, the symbol whose code they start with
    /// (shifted left 4) and the code's length (the low 4 bits); 0 where the code is longer than
    /// `tableBits`, or where no code starts (an incomplete code).
    private(set) var table = [UInt16](repeating: 0, count: HuffmanCode.tableSize)

    /// The code of `lengths`: one a symbol, 0 for a symbol without a code. Every length is at
    /// most 15, as a block's 3- and 4-bit fields and 0-15 code-length symbols make them.
    init(_ lengths: [Int]) {
        symbols = [Int](repeating: 0, count: lengths.count)
        for length in lengths { counts[length] += 1 }
        if counts[0] == lengths.count { left = 0; return }
        for length in 1...Self.bitsMax {
            left = (left << 1) - counts[length]
            if left < 0 { return }
        }
        var offsets = [Int](repeating: 0, count: Self.bitsMax + 1)
        for length in 1..<Self.bitsMax { offsets[length + 1] = offsets[length] + counts[length] }
        for (symbol, length) in lengths.enumerated() where length != 0 {
            symbols[offsets[length]] = symbol
            offsets[length] += 1
        }
        // Canonical codes (RFC 1951 section 3.2.2), sent first bit first: reversed for the table.
        var next = [Int](repeating: 0, count: Self.bitsMax + 2)
        for length in 1...Self.bitsMax { next[length + 1] = (next[length] + counts[length]) << 1 }
        for (symbol, length) in lengths.enumerated() where length != 0 {
            let code = next[length]
            next[length] += 1
            guard length <= Self.tableBits else { continue }
            var reversed = 0
            for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
            let entry = UInt16(symbol << 4 | length)
            var index = reversed
            while index < Self.tableSize {
                table[index] = entry
                index += 1 << length
            }
        }
    }

    /// The length and symbol of a code longer than `tableBits` that `bits` (next bit lowest)
    /// start with, found as puff.c's `decode` finds it; nil when they start no code.
    func decodeLong(_ bits: UInt64) -> (length: Int, symbol: Int)? {
        var value = 0, first = 0, index = 0
        var rest = bits
        for length in 1...Self.bitsMax {
            value |= Int(truncatingIfNeeded: rest & 1)
            rest >>= 1
            let count = counts[length]
            if value - count < first { return (length, symbols[index + value - first]) }
            index += count
            first = (first + count) << 1
            value <<= 1
        }
        return nil
    }

    /// Whether a dynamic block may use the code: complete, or a single code of one bit.
    func isUsable(symbolCount: Int) -> Bool {
        left == 0 || (left > 0 && symbolCount - counts[0] == 1)
    }
}

