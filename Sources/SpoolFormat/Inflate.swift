/// A DEFLATE (RFC 1951) decoder, for gzip batches (`Gzip`). It follows zlib's reference
/// decoder, `contrib/puff/puff.c`: canonical Huffman codes decoded a bit at a time, which is
/// slow but short and easy to check; every read of input or output is bounds-checked, and the
/// output stops at `outputLimit` bytes, so a small hostile stream cannot make a huge one.
struct Inflater {
    private let input: UnsafeRawBufferPointer
    /// The next input byte not yet taken into `bitBuffer`.
    private(set) var position: Int
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0
    private(set) var output: [UInt8] = []
    private let outputLimit: Int

    init(_ input: UnsafeRawBufferPointer, from position: Int, outputLimit: Int) {
        self.input = input
        self.position = position
        self.outputLimit = outputLimit
    }

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
        // The stream ends at a byte boundary: the unused bits of its last byte are dropped.
        bitBuffer = 0
        bitCount = 0
    }

    private mutating func bits(_ need: Int) throws(DecompressionFailure) -> Int {
        var value = bitBuffer
        while bitCount < need {
            guard position < input.count else { throw DecompressionFailure(reason: "the stream ends early") }
            value |= UInt64(input[position]) << bitCount
            position += 1
            bitCount += 8
        }
        bitBuffer = value >> need
        bitCount -= need
        return Int(value & ((1 << need) - 1))
    }

    private mutating func emit(_ byte: UInt8) throws(DecompressionFailure) {
        guard output.count < outputLimit else { throw DecompressionFailure(reason: "inflates to more than \(outputLimit) bytes") }
        output.append(byte)
    }

    private mutating func stored() throws(DecompressionFailure) {
        bitBuffer = 0
        bitCount = 0
        guard input.count - position >= 4 else { throw DecompressionFailure(reason: "the stream ends early") }
        let length = Int(input[position]) | Int(input[position + 1]) << 8
        let complement = Int(input[position + 2]) | Int(input[position + 3]) << 8
        guard length == ~complement & 0xFFFF else { throw DecompressionFailure(reason: "a stored block's length does not match its complement") }
        position += 4
        guard input.count - position >= length else { throw DecompressionFailure(reason: "the stream ends early") }
        guard output.count + length <= outputLimit else { throw DecompressionFailure(reason: "inflates to more than \(outputLimit) bytes") }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[position..<(position + length)]))
        position += length
    }

    private mutating func decode(_ code: HuffmanCode) throws(DecompressionFailure) -> Int {
        var value = 0, first = 0, index = 0
        for length in 1...HuffmanCode.bitsMax {
            value |= try bits(1)
            let count = code.counts[length]
            if value - count < first { return code.symbols[index + value - first] }
            index += count
            first = (first + count) << 1
            value <<= 1
        }
        throw DecompressionFailure(reason: "a code that the block's codes do not have")
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                                       4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    private mutating func codes(_ lengths: HuffmanCode, _ distances: HuffmanCode) throws(DecompressionFailure) {
        while true {
            let symbol = try decode(lengths)
            if symbol < 256 {
                try emit(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            let lengthSymbol = symbol - 257
            guard lengthSymbol < Self.lengthBase.count else { throw DecompressionFailure(reason: "an invalid length code") }
            let length = Self.lengthBase[lengthSymbol] + (try bits(Self.lengthExtra[lengthSymbol]))
            let distanceSymbol = try decode(distances)
            guard distanceSymbol < Self.distanceBase.count else { throw DecompressionFailure(reason: "an invalid distance code") }
            let distance = Self.distanceBase[distanceSymbol] + (try bits(Self.distanceExtra[distanceSymbol]))
            guard distance <= output.count else { throw DecompressionFailure(reason: "a distance back past the start of the output") }
            guard output.count + length <= outputLimit else { throw DecompressionFailure(reason: "inflates to more than \(outputLimit) bytes") }
            // Byte by byte: a copy may overlap the bytes it writes (distance < length).
            for _ in 0..<length { output.append(output[output.count - distance]) }
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

/// A canonical Huffman code as puff.c's `construct` builds it: how many codes each length has,
/// and the symbols in code order.
struct HuffmanCode {
    static let bitsMax = 15
    private(set) var counts = [Int](repeating: 0, count: bitsMax + 1)
    private(set) var symbols: [Int]
    /// How many codes the lengths leave unused: 0 for a complete code, more for an incomplete
    /// one, below 0 for an over-subscribed one (whose `symbols` are not built).
    private(set) var left = 1

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
    }

    /// Whether a dynamic block may use the code: complete, or a single code of one bit.
    func isUsable(symbolCount: Int) -> Bool {
        left == 0 || (left > 0 && symbolCount - counts[0] == 1)
    }
}
