/// A finite state entropy decoding table (RFC 8878 section 4.1): one entry a state, which gives
/// the symbol the state decodes to and how to find the next state (`baseline` plus the next
/// `bitCount` bits of the stream). The states are `0..<(1 << accuracyLog)`, and every next state
/// an entry leads to is one of them.
struct ZstdFSETable {
    struct Entry {
        var symbol: UInt8
        var bitCount: UInt8
        var baseline: UInt16
    }

    let accuracyLog: Int
    let entries: [Entry]

    /// The table of one state that always decodes `symbol` and reads no bits (the RLE mode).
    init(repeating symbol: UInt8) {
        accuracyLog = 0
        entries = [Entry(symbol: symbol, bitCount: 0, baseline: 0)]
    }

    /// The table of the normalized counts `counts` (one a symbol; -1 for a "less than one"
    /// probability), or nil when they do not add up to `1 << accuracyLog`.
    init?(counts: [Int16], accuracyLog: Int) {
        guard (0...15).contains(accuracyLog), counts.count <= 256 else { return nil }
        let size = 1 << accuracyLog
        var sum = 0
        for count in counts {
            guard count >= -1 else { return nil }
            sum += count == -1 ? 1 : Int(count)
        }
        guard sum == size else { return nil }
        var symbols = [UInt8](repeating: 0, count: size)
        var next = [Int](repeating: 0, count: counts.count)
        // "Less than one" symbols take the last states, one each.
        var highest = size - 1
        for (symbol, count) in counts.enumerated() {
            if count == -1 {
                symbols[highest] = UInt8(symbol)
                highest -= 1
                next[symbol] = 1
            } else {
                next[symbol] = Int(count)
            }
        }
        // The others are spread over the rest with the spec's step, which visits each state once.
        let mask = size - 1, step = (size >> 1) + (size >> 3) + 3
        var position = 0
        for (symbol, count) in counts.enumerated() where count > 0 {
            for _ in 0..<Int(count) {
                symbols[position] = UInt8(symbol)
                repeat { position = (position + step) & mask } while position > highest
            }
        }
        guard position == 0 else { return nil }
        var entries: [Entry] = []
        entries.reserveCapacity(size)
        for symbol in symbols {
            let state = next[Int(symbol)]
            next[Int(symbol)] += 1
            let bitCount = accuracyLog - (Int.bitWidth - 1 - state.leadingZeroBitCount)
            entries.append(Entry(symbol: symbol, bitCount: UInt8(bitCount), baseline: UInt16((state << bitCount) - size)))
        }
        self.accuracyLog = accuracyLog
        self.entries = entries
    }

    /// Reads the table description at the start of `bytes` (RFC 8878 section 4.1.1): the
    /// accuracy log, at most `maxAccuracyLog`, and the normalized counts of symbols up to at most
    /// `maxSymbol`. Returns the table and how many bytes the description took.
    static func read(_ bytes: UnsafeRawBufferPointer, maxSymbol: Int, maxAccuracyLog: Int) throws(DecompressionFailure) -> (table: ZstdFSETable, size: Int) {
        var bits = ForwardBits(bytes)
        let accuracyLog = bits.read(4) + 5
        guard accuracyLog <= maxAccuracyLog else { throw DecompressionFailure(reason: "corrupt fse table") }
        var counts: [Int16] = []
        // `remaining` is one more than the probability points not given out yet.
        var remaining = (1 << accuracyLog) + 1
        var threshold = 1 << accuracyLog
        var bitCount = accuracyLog + 1
        var previousWasZero = false
        while remaining > 1 {
            if previousWasZero {
                // 2-bit flags: that many more symbols of probability 0, a 3 meaning another flag follows.
                var flag = 3
                while flag == 3 {
                    flag = bits.read(2)
                    counts.append(contentsOf: repeatElement(0, count: flag))
                    guard counts.count <= maxSymbol + 1 else { throw DecompressionFailure(reason: "corrupt fse table") }
                }
            }
            guard counts.count <= maxSymbol else { throw DecompressionFailure(reason: "corrupt fse table") }
            // Values below `lowLimit` take a bit less than the others.
            let lowLimit = 2 * threshold - 1 - remaining
            var value = bits.peek(bitCount)
            if value & (threshold - 1) < lowLimit {
                value &= threshold - 1
                bits.skip(bitCount - 1)
            } else {
                value &= 2 * threshold - 1
                if value >= threshold { value -= lowLimit }
                bits.skip(bitCount)
            }
            let count = value - 1
            remaining -= abs(count)
            guard remaining >= 1 else { throw DecompressionFailure(reason: "corrupt fse table") }
            counts.append(Int16(count))
            previousWasZero = count == 0
            while remaining < threshold {
                bitCount -= 1
                threshold >>= 1
            }
        }
        let size = (bits.position + 7) / 8
        guard size <= bytes.count else { throw DecompressionFailure(reason: "corrupt fse table") }
        guard let table = ZstdFSETable(counts: counts, accuracyLog: accuracyLog) else { throw DecompressionFailure(reason: "corrupt fse table") }
        return (table, size)
    }
}

/// Bits read forwards, from each byte's low bit up, as table descriptions are written. Bits
/// past the end read as 0; the reader's caller checks `position` against the bytes it has.
private struct ForwardBits {
    let bytes: UnsafeRawBufferPointer
    /// How many bits are read.
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The next `count` (at most 25) bits, not read.
    func peek(_ count: Int) -> Int {
        var value = 0
        var byte = position >> 3
        var shift = -(position & 7)
        while shift < count {
            if byte < bytes.count { value |= shift >= 0 ? Int(bytes[byte]) << shift : Int(bytes[byte]) >> -shift }
            byte += 1
            shift += 8
        }
        return value & ((1 << count) - 1)
    }

    mutating func skip(_ count: Int) {
        position += count
    }

    mutating func read(_ count: Int) -> Int {
        defer { position += count }
        return peek(count)
    }
}
