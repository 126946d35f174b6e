/// One sequence of a compressed block: `literalLength` literals copied, then `matchLength`
/// bytes copied from `offset` bytes back in the frame's output.
struct ZstdSequence {
    var literalLength: Int
    var matchLength: Int
    var offset: Int
}

/// The three fields of a sequence, each coded by its own FSE table of codes (RFC 8878 section
/// 3.1.1.3.2.1): a code stands for a base value and a number of extra bits added to it.
enum ZstdSequenceField {
    case literalLength, offset, matchLength

    var maxSymbol: Int {
        switch self {
        case .literalLength: 35
        case .offset: 31
        case .matchLength: 52
        }
    }

    var maxAccuracyLog: Int {
        switch self {
        case .literalLength, .matchLength: 9
        case .offset: 8
        }
    }

    private static let literalLengthBases: [UInt32] = Array(0...15) + [16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048,
                                                                      4096, 8192, 16384, 32768, 65536]
    private static let literalLengthBits: [UInt8] = Array(repeating: 0, count: 16) + [1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12,
                                                                                      13, 14, 15, 16]
    private static let matchLengthBases: [UInt32] = Array(3...34) + [35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027,
                                                                    2051, 4099, 8195, 16387, 32771, 65539]
    private static let matchLengthBits: [UInt8] = Array(repeating: 0, count: 32) + [1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11,
                                                                                    12, 13, 14, 15, 16]

    /// The base value and the extra bits of `code` (at most `maxSymbol`).
    func value(of code: Int) -> (base: UInt32, extraBits: UInt8) {
        switch self {
        case .literalLength: (Self.literalLengthBases[code], Self.literalLengthBits[code])
        case .matchLength: (Self.matchLengthBases[code], Self.matchLengthBits[code])
        case .offset: (UInt32(1) << code, UInt8(code))
        }
    }

    /// The spec's default distribution, used by the predefined mode.
    var predefined: ZstdSequenceTable {
        switch self {
        case .literalLength: ZstdSequenceTable.predefinedLiteralLengths
        case .offset: ZstdSequenceTable.predefinedOffsets
        case .matchLength: ZstdSequenceTable.predefinedMatchLengths
        }
    }
}

/// An FSE table of one sequence field whose entries also hold their code's base value and
/// extra bits, so that decoding a sequence needs no other lookup.
struct ZstdSequenceTable {
    struct Entry {
        var baseValue: UInt32
        var baseline: UInt16
        var stateBits: UInt8
        var extraBits: UInt8
    }

    let accuracyLog: Int
    let entries: [Entry]

    init(_ table: ZstdFSETable, field: ZstdSequenceField) {
        accuracyLog = table.accuracyLog
        entries = table.entries.map { entry in
            let (base, extraBits) = field.value(of: Int(entry.symbol))
            return Entry(baseValue: base, baseline: entry.baseline, stateBits: entry.bitCount, extraBits: extraBits)
        }
    }

    /// Built from constants that add up, as the tests check.
    private static func predefined(_ counts: [Int16], accuracyLog: Int, field: ZstdSequenceField) -> ZstdSequenceTable {
        ZstdSequenceTable(ZstdFSETable(counts: counts, accuracyLog: accuracyLog) ?? ZstdFSETable(repeating: 0), field: field)
    }

    static let predefinedLiteralLengths = predefined(
        [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1],
        accuracyLog: 6, field: .literalLength)
    static let predefinedMatchLengths = predefined(
        [1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
         1, 1, 1, -1, -1, -1, -1, -1, -1, -1],
        accuracyLog: 6, field: .matchLength)
    static let predefinedOffsets = predefined(
        [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1],
        accuracyLog: 5, field: .offset)
}

/// The sequences section of a compressed block (RFC 8878 section 3.1.1.3.2) and its execution.
extension ZstdBlockDecoder {
    /// Decodes the sequences section `section` into `sequences`, their offsets resolved.
    mutating func decodeSequences(_ section: UnsafeRawBufferPointer) throws(DecompressionFailure) {
        sequences.removeAll(keepingCapacity: true)
        guard let first = section.first else { throw DecompressionFailure(reason: "corrupt zstd sequences") }
        let count: Int
        var position: Int
        switch first {
        case 0:
            guard section.count == 1 else { throw DecompressionFailure(reason: "corrupt zstd sequences") }
            return
        case 1..<128:
            count = Int(first)
            position = 1
        case 128..<255:
            guard section.count >= 2 else { throw DecompressionFailure(reason: "corrupt zstd sequences") }
            count = (Int(first) - 128) << 8 + Int(section[1])
            position = 2
        default:
            guard section.count >= 3 else { throw DecompressionFailure(reason: "corrupt zstd sequences") }
            count = Int(section[1]) + Int(section[2]) << 8 + 0x7F00
            position = 3
        }
        guard section.count > position else { throw DecompressionFailure(reason: "corrupt zstd sequences") }
        let modes = Int(section[position])
        position += 1
        guard modes & 3 == 0 else { throw DecompressionFailure(reason: "corrupt zstd sequences") }
        let literalLengths = try table(.literalLength, mode: modes >> 6, previous: literalLengthTable, section, &position)
        let offsets = try table(.offset, mode: (modes >> 4) & 3, previous: offsetTable, section, &position)
        let matchLengths = try table(.matchLength, mode: (modes >> 2) & 3, previous: matchLengthTable, section, &position)
        literalLengthTable = literalLengths
        offsetTable = offsets
        matchLengthTable = matchLengths
        var stream = try ZstdBitReader(UnsafeRawBufferPointer(rebasing: section[position...]))
        sequences.reserveCapacity(count)
        var literalTotal = 0
        try literalLengths.entries.withUnsafeBufferPointer { (literalLengthEntries) throws(DecompressionFailure) in
            try offsets.entries.withUnsafeBufferPointer { (offsetEntries) throws(DecompressionFailure) in
                try matchLengths.entries.withUnsafeBufferPointer { (matchLengthEntries) throws(DecompressionFailure) in
                    let literalLengthMask = literalLengthEntries.count - 1, offsetMask = offsetEntries.count - 1
                    let matchLengthMask = matchLengthEntries.count - 1
                    var literalLengthState = stream.read(literalLengths.accuracyLog)
                    var offsetState = stream.read(offsets.accuracyLog)
                    var matchLengthState = stream.read(matchLengths.accuracyLog)
                    var (repeat1, repeat2, repeat3) = repeatOffsets
                    for index in 0..<count {
                        let literalLength = literalLengthEntries[literalLengthState & literalLengthMask]
                        let offset = offsetEntries[offsetState & offsetMask]
                        let matchLength = matchLengthEntries[matchLengthState & matchLengthMask]
                        // The fields' extra bits: the offset's (up to 31), then the match length's and the literal length's (up to 16 each).
                        stream.reload()
                        let offsetValue = Int(offset.baseValue) + stream.read(Int(offset.extraBits))
                        stream.reload()
                        var sequence = ZstdSequence(literalLength: Int(literalLength.baseValue), matchLength: Int(matchLength.baseValue), offset: 0)
                        sequence.matchLength += stream.read(Int(matchLength.extraBits))
                        sequence.literalLength += stream.read(Int(literalLength.extraBits))
                        if offsetValue > 3 {
                            sequence.offset = offsetValue - 3
                            (repeat1, repeat2, repeat3) = (sequence.offset, repeat1, repeat2)
                        } else {
                            // 1, 2, 3 name a repeat offset; after no literals, the next one (3 then meaning the first less one).
                            switch offsetValue - (sequence.literalLength == 0 ? 0 : 1) {
                            case 0: sequence.offset = repeat1
                            case 1: (sequence.offset, repeat1, repeat2) = (repeat2, repeat2, repeat1)
                            case 2: (sequence.offset, repeat1, repeat2, repeat3) = (repeat3, repeat3, repeat1, repeat2)
                            default: (sequence.offset, repeat1, repeat2, repeat3) = (repeat1 - 1, repeat1 - 1, repeat1, repeat2)
                            }
                        }
                        literalTotal += sequence.literalLength
                        sequences.append(sequence)
                        if index != count - 1 {
                            stream.reload()
                            literalLengthState = Int(literalLength.baseline) + stream.read(Int(literalLength.stateBits))
                            matchLengthState = Int(matchLength.baseline) + stream.read(Int(matchLength.stateBits))
                            offsetState = Int(offset.baseline) + stream.read(Int(offset.stateBits))
                        }
                        guard stream.bitsLeft >= 0 else { throw DecompressionFailure(reason: "corrupt zstd sequences") }
                    }
                    repeatOffsets = (repeat1, repeat2, repeat3)
                }
            }
        }
        guard stream.bitsLeft == 0, literalTotal <= literals.count else { throw DecompressionFailure(reason: "corrupt zstd sequences") }
    }

    /// The table of `field` in `mode` (predefined, RLE, FSE-coded or repeat), reading what the
    /// mode needs from `section` at `position`.
    private func table(_ field: ZstdSequenceField, mode: Int, previous: ZstdSequenceTable?, _ section: UnsafeRawBufferPointer,
                       _ position: inout Int) throws(DecompressionFailure) -> ZstdSequenceTable {
        switch mode {
        case 0:
            return field.predefined
        case 1:
            guard position < section.count else { throw DecompressionFailure(reason: "corrupt zstd sequences") }
            let symbol = section[position]
            position += 1
            guard symbol <= field.maxSymbol else { throw DecompressionFailure(reason: "corrupt zstd sequences") }
            return ZstdSequenceTable(ZstdFSETable(repeating: symbol), field: field)
        case 2:
            let (table, size) = try ZstdFSETable.read(UnsafeRawBufferPointer(rebasing: section[position...]), maxSymbol: field.maxSymbol,
                                                      maxAccuracyLog: field.maxAccuracyLog)
            position += size
            return ZstdSequenceTable(table, field: field)
        default:
            guard let previous else { throw DecompressionFailure(reason: "corrupt zstd sequences") }
            return previous
        }
    }

    /// Copies the block's literals and matches onto `output`: at most `blockSizeMax` bytes, and
    /// `output` at most `outputLimit`. A match reaches back at most to `frameStart`.
    mutating func execute(into output: inout [UInt8], frameStart: Int, blockSizeMax: Int, outputLimit: Int) throws(DecompressionFailure) {
        var size = literals.count
        for sequence in sequences { size += sequence.matchLength }
        guard size <= blockSizeMax else { throw DecompressionFailure(reason: "a zstd block larger than its maximum size") }
        guard size <= outputLimit - output.count else { throw DecompressionFailure(reason: "decompresses to more than \(outputLimit) bytes") }
        guard size > 0 else { return }
        var end = output.count
        output.append(contentsOf: repeatElement(0, count: size))
        let sequences = sequences
        try literals.withUnsafeBufferPointer { (literals) throws(DecompressionFailure) in
            try output.withUnsafeMutableBufferPointer { (output) throws(DecompressionFailure) in
                // `output` is not empty (`size` > 0); each copy stays in it since `size` counts every byte copied.
                guard let base = output.baseAddress else { return }
                var literal = 0
                for sequence in sequences {
                    if sequence.literalLength > 0, let from = literals.baseAddress {
                        (base + end).update(from: from + literal, count: sequence.literalLength)
                        literal += sequence.literalLength
                        end += sequence.literalLength
                    }
                    let offset = sequence.offset, length = sequence.matchLength
                    guard offset > 0, offset <= end - frameStart else { throw DecompressionFailure(reason: "a zstd match offset before the frame start") }
                    if offset == 1 {
                        (base + end).update(repeating: base[end - 1], count: length)
                    } else {
                        // In pieces of at most `offset` bytes, so that no piece overlaps the bytes it copies.
                        var copied = 0
                        while copied < length {
                            let piece = min(offset, length - copied)
                            (base + end + copied).update(from: base + end + copied - offset, count: piece)
                            copied += piece
                        }
                    }
                    end += length
                }
                if literal < literals.count, let from = literals.baseAddress {
                    (base + end).update(from: from + literal, count: literals.count - literal)
                }
            }
        }
    }
}
