/// The Huffman code of a block's literals (RFC 8878 section 4.2), as a table indexed by the
/// next `maxBits` bits of a stream: each entry holds the symbol those bits start with (low byte)
/// and the length of its code (the byte above). Codes are at most 11 bits long, so the table
/// has at most 2048 entries.
struct ZstdHuffmanTable {
    static let maxBitsLimit = 11
    /// Explicit weights of a tree description: the last symbol's weight is implied.
    private static let explicitWeightsMax = 255

    let maxBits: Int
    let entries: [UInt16]

    /// Reads the Huffman tree description at the start of `bytes` (RFC 8878 section 4.2.1):
    /// the symbols' weights, FSE-coded or 4 bits each. Returns the table and how many bytes the
    /// description took.
    static func read(_ bytes: UnsafeRawBufferPointer) throws(DecompressionFailure) -> (table: ZstdHuffmanTable, size: Int) {
        guard let header = bytes.first else { throw DecompressionFailure(reason: "corrupt huffman table") }
        var weights: [UInt8] = []
        let size: Int
        if header < 128 {
            size = 1 + Int(header)
            guard bytes.count >= size else { throw DecompressionFailure(reason: "corrupt huffman table") }
            weights = try fseCodedWeights(UnsafeRawBufferPointer(rebasing: bytes[1..<size]))
        } else {
            let count = Int(header) - 127
            size = 1 + (count + 1) / 2
            guard bytes.count >= size else { throw DecompressionFailure(reason: "corrupt huffman table") }
            weights.reserveCapacity(count + 1)
            for index in 0..<count {
                let byte = bytes[1 + index / 2]
                weights.append(index % 2 == 0 ? byte >> 4 : byte & 0x0F)
            }
        }
        return (try ZstdHuffmanTable(weights: weights), size)
    }

    /// Weights coded with an FSE table of accuracy log at most 6, decoded by two states in turn
    /// until the stream is read past its start: the state whose turn it then is gives the last.
    private static func fseCodedWeights(_ bytes: UnsafeRawBufferPointer) throws(DecompressionFailure) -> [UInt8] {
        let (table, tableSize) = try ZstdFSETable.read(bytes, maxSymbol: 255, maxAccuracyLog: 6)
        guard tableSize < bytes.count else { throw DecompressionFailure(reason: "corrupt huffman table") }
        var stream = try ZstdBitReader(UnsafeRawBufferPointer(rebasing: bytes[tableSize...]))
        let entries = table.entries, mask = entries.count - 1
        var states = (stream.read(table.accuracyLog), stream.read(table.accuracyLog))
        var weights: [UInt8] = []
        weights.reserveCapacity(explicitWeightsMax + 1)
        while true {
            guard weights.count <= explicitWeightsMax - 2 else { throw DecompressionFailure(reason: "corrupt huffman table") }
            var entry = entries[states.0 & mask]
            weights.append(entry.symbol)
            states.0 = Int(entry.baseline) + stream.read(Int(entry.bitCount))
            stream.reload()
            if stream.bitsLeft < 0 {
                weights.append(entries[states.1 & mask].symbol)
                break
            }
            entry = entries[states.1 & mask]
            weights.append(entry.symbol)
            states.1 = Int(entry.baseline) + stream.read(Int(entry.bitCount))
            stream.reload()
            if stream.bitsLeft < 0 {
                weights.append(entries[states.0 & mask].symbol)
                break
            }
        }
        return weights
    }

    /// The table of the explicit `weights` (of symbols 0, 1, …), the last symbol's weight being
    /// what completes the code to a power of two.
    init(weights explicit: [UInt8]) throws(DecompressionFailure) {
        guard explicit.count <= Self.explicitWeightsMax else { throw DecompressionFailure(reason: "corrupt huffman table") }
        var total = 0
        for weight in explicit {
            guard weight <= Self.maxBitsLimit else { throw DecompressionFailure(reason: "corrupt huffman table") }
            if weight > 0 { total += 1 << (weight - 1) }
        }
        guard total > 0 else { throw DecompressionFailure(reason: "corrupt huffman table") }
        let maxBits = Int.bitWidth - total.leadingZeroBitCount
        let rest = (1 << maxBits) - total
        guard maxBits <= Self.maxBitsLimit, rest & (rest - 1) == 0 else { throw DecompressionFailure(reason: "corrupt huffman table") }
        var weights = explicit
        weights.append(UInt8(Int.bitWidth - rest.leadingZeroBitCount))
        // Codes go to the lightest weights (the longest codes) first, and within a weight in symbol order.
        var start = [Int](repeating: 0, count: Self.maxBitsLimit + 2)
        for weight in weights where weight > 0 { start[Int(weight) + 1] += 1 << (weight - 1) }
        for weight in 1...Self.maxBitsLimit { start[weight + 1] += start[weight] }
        var entries = [UInt16](repeating: 0, count: 1 << maxBits)
        for (symbol, weight) in weights.enumerated() where weight > 0 {
            let width = 1 << (weight - 1), entry = UInt16(symbol) | UInt16(maxBits + 1 - Int(weight)) << 8
            for index in start[Int(weight)]..<(start[Int(weight)] + width) { entries[index] = entry }
            start[Int(weight)] += width
        }
        self.maxBits = maxBits
        self.entries = entries
    }

    /// Decodes the stream `bytes` into every byte of `output`; the stream must be read exactly.
    func decode(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) throws(DecompressionFailure) {
        var stream = try ZstdBitReader(bytes)
        let maxBits = maxBits, mask = (1 << maxBits) - 1
        entries.withUnsafeBufferPointer { table in
            var index = 0
            let count = output.count
            // Four codes of at most 11 bits after each refill of at least 56.
            while count - index >= 4 {
                stream.reload()
                for _ in 0..<4 {
                    let entry = table[stream.peek(maxBits) & mask]
                    output[index] = UInt8(truncatingIfNeeded: entry)
                    stream.skip(Int(entry >> 8))
                    index += 1
                }
            }
            stream.reload()
            while index < count {
                let entry = table[stream.peek(maxBits) & mask]
                output[index] = UInt8(truncatingIfNeeded: entry)
                stream.skip(Int(entry >> 8))
                index += 1
            }
        }
        guard stream.bitsLeft == 0 else { throw DecompressionFailure(reason: "corrupt zstd literals") }
    }
}
