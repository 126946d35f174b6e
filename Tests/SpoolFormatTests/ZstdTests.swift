@testable import SpoolFormat
import Testing

/// zstd as Kafka's producers write it, read back: frames from the reference implementation
/// (`ZstdFixtures`) with each kind of block, literals and sequence table, frames one after
/// another, and the ways a frame can be bad.
@Suite struct ZstdTests {
    private func decompress(_ compressed: [UInt8], limit: Int = 1 << 22) throws -> [UInt8] {
        try compressed.withUnsafeBytes { raw in try Zstd.decompress(raw, outputLimit: limit) }
    }

    @Test func huffmanLiteralsAndFSESequences() throws {
        #expect(try decompress(ZstdFixtures.wordsLevel3) == ZstdFixtures.words(700, seed: 1))
    }

    @Test(arguments: [1, 3, 19])
    func severalBlocksWithMatchesIntoEarlierOnes(level: Int) throws {
        let compressed = [1: ZstdFixtures.paragraphsLevel1, 3: ZstdFixtures.paragraphsLevel3, 19: ZstdFixtures.paragraphsLevel19][level] ?? []
        #expect(try decompress(compressed) == ZstdFixtures.paragraphs(480, seed: 9))
    }

    @Test func streamedFramesWithoutContentSize() throws {
        #expect(try decompress(ZstdFixtures.wordsStreamed) == ZstdFixtures.words(700, seed: 1))
        #expect(try decompress(ZstdFixtures.flushed) == ZstdFixtures.paragraphs(60, seed: 9), "repeat table modes, treeless literals")
    }

    @Test func rawAndRLEBlocks() throws {
        #expect(try decompress(ZstdFixtures.runs) == [UInt8](repeating: UInt8(ascii: "a"), count: 400_000))
        #expect(try decompress(ZstdFixtures.noiseFrame) == ZstdFixtures.noise(300, seed: 5))
    }

    @Test func directHuffmanWeightsAndLiteralsWithoutSequences() throws {
        #expect(try decompress(ZstdFixtures.nibblesFrame) == ZstdFixtures.nibbles(1500, seed: 3))
        #expect(try decompress(ZstdFixtures.lettersFrame) == ZstdFixtures.letters(1500, seed: 4))
    }

    @Test func framesFollowOneAnotherAndSkippableFramesAreSteppedOver() throws {
        let skippable: [UInt8] = [0x5E, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3]
        let cliText = Array("first frame, from the zstd command line tool\n".utf8)
        #expect(try decompress(ZstdFixtures.cliFrame + skippable + ZstdFixtures.wordsStreamed) == cliText + ZstdFixtures.words(700, seed: 1))
        #expect(try decompress(skippable + ZstdFixtures.cliFrame + skippable) == cliText)
        #expect(throws: DecompressionFailure(reason: "not in zstd format")) { try decompress(ZstdFixtures.cliFrame + [0, 1, 2, 3]) }
        #expect(throws: DecompressionFailure(reason: "the zstd frame is cut short")) { try decompress(Array(skippable.dropLast())) }
    }

    /// "hello" in a raw block, in a frame whose header has a dictionary id of one byte.
    private func helloFrame(dictionaryID: UInt8) -> [UInt8] {
        [0x28, 0xB5, 0x2F, 0xFD, 0x21, dictionaryID, 5, 0x29, 0, 0] + Array("hello".utf8)
    }

    @Test func aFrameThatNeedsADictionaryIsRefused() throws {
        #expect(try decompress(helloFrame(dictionaryID: 0)) == Array("hello".utf8))
        #expect(throws: DecompressionFailure(reason: "the zstd frame needs dictionary 7, and dictionaries are not supported")) {
            try decompress(helloFrame(dictionaryID: 7))
        }
    }

    @Test func aCutFrameIsRefusedAtEveryLength() {
        for fixture in [ZstdFixtures.wordsLevel3, ZstdFixtures.flushed, ZstdFixtures.nibblesFrame] {
            for length in 0..<fixture.count {
                #expect(throws: DecompressionFailure.self, "cut at \(length)") { try decompress(Array(fixture[..<length])) }
            }
        }
    }

    /// A changed byte is caught by the checks of the frame, its tables, its streams or its
    /// checksum, or else decodes to something; it never traps.
    @Test func aChangedByteAnywhereIsRefusedOrDecoded() {
        let fixture = ZstdFixtures.wordsLevel3
        var refused = 0
        for position in fixture.indices {
            for change: UInt8 in [0x01, 0xFF] {
                var changed = fixture
                changed[position] ^= change
                if (try? decompress(changed)) == nil { refused += 1 }
            }
        }
        #expect(refused > fixture.count * 2 * 9 / 10, "the checksum catches most")
    }

    @Test func aChecksumOrContentSizeThatDoesNotMatchIsRefused() {
        var badChecksum = ZstdFixtures.wordsLevel3
        badChecksum[badChecksum.count - 1] ^= 1
        #expect(throws: DecompressionFailure(reason: "zstd checksum mismatch")) { try decompress(badChecksum) }
        // The header: magic, descriptor 0x64 (2-byte content size, single segment, checksum), the size less 256.
        var badSize = ZstdFixtures.wordsLevel3
        #expect(Array(badSize[4..<7]) == [0x64, 0x5D, 0x10], "4,445 bytes")
        badSize[5] += 1
        #expect(throws: DecompressionFailure(reason: "zstd frame content size mismatch")) { try decompress(badSize) }
    }

    @Test func theOutputStopsAtItsLimit() throws {
        #expect(try decompress(ZstdFixtures.runs, limit: 400_000).count == 400_000)
        #expect(throws: DecompressionFailure(reason: "decompresses to more than 399999 bytes"), "the content size says so") {
            try decompress(ZstdFixtures.runs, limit: 399_999)
        }
        let flushedSize = ZstdFixtures.paragraphs(60, seed: 9).count
        #expect(try decompress(ZstdFixtures.flushed, limit: flushedSize).count == flushedSize)
        for limit in [0, 1000, flushedSize - 1] {
            #expect(throws: DecompressionFailure(reason: "decompresses to more than \(limit) bytes"), "no content size: found decoding") {
                try decompress(ZstdFixtures.flushed, limit: limit)
            }
        }
        #expect(throws: DecompressionFailure(reason: "decompresses to more than 4 bytes")) { try decompress(helloFrame(dictionaryID: 0), limit: 4) }
        #expect(throws: DecompressionFailure.self, "a limit below 0 is refused, not trapped on") { try decompress(helloFrame(dictionaryID: 0), limit: -1) }
    }

    @Test func badMagicReservedBitsAndBlockTypesAreRefused() {
        #expect(throws: DecompressionFailure(reason: "the zstd frame is cut short")) { try decompress([]) }
        #expect(throws: DecompressionFailure(reason: "not in zstd format")) { try decompress(Array("hello zstd".utf8)) }
        var reservedBit = helloFrame(dictionaryID: 0)
        reservedBit[4] |= 0x08
        #expect(throws: DecompressionFailure(reason: "a reserved zstd frame header bit is set")) { try decompress(reservedBit) }
        var reservedType = helloFrame(dictionaryID: 0)
        reservedType[7] |= 0x06
        #expect(throws: DecompressionFailure(reason: "a reserved zstd block type")) { try decompress(reservedType) }
        var tooLarge = helloFrame(dictionaryID: 0)
        tooLarge[7] = 0x31  // a raw block of 6 bytes, in a frame whose window (its content size) is 5
        #expect(throws: DecompressionFailure(reason: "a zstd block larger than its maximum size")) { try decompress(tooLarge) }
    }

    @Test func theDefaultDistributionsAddUp() {
        #expect(ZstdSequenceTable.predefinedLiteralLengths.entries.count == 64)
        #expect(ZstdSequenceTable.predefinedMatchLengths.entries.count == 64)
        #expect(ZstdSequenceTable.predefinedOffsets.entries.count == 32)
    }

    @Test func fseTablesThatDoNotAddUpAreRefused() {
        #expect(ZstdFSETable(counts: [16, 15], accuracyLog: 5) == nil)
        #expect(ZstdFSETable(counts: [16, 16, -2], accuracyLog: 5) == nil)
        #expect(ZstdFSETable(counts: [16, 15, -1], accuracyLog: 5) != nil)
        // Accuracy log 5 + 15 = 20, above the sequence tables' 9.
        #expect(throws: DecompressionFailure(reason: "corrupt fse table")) {
            try [UInt8]([0x0F, 0xFF, 0xFF, 0xFF]).withUnsafeBytes { raw in
                _ = try ZstdFSETable.read(raw, maxSymbol: 35, maxAccuracyLog: 9)
            }
        }
        // Accuracy log 5, a count of 0 (5 bits: 1), then flags of 3 more zero counts until they pass symbol 35.
        #expect(throws: DecompressionFailure(reason: "corrupt fse table")) {
            try [UInt8]([0x10, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).withUnsafeBytes { raw in
                _ = try ZstdFSETable.read(raw, maxSymbol: 35, maxAccuracyLog: 9)
            }
        }
    }

    /// RFC 8878's example (section 4.2.1.3): weights 4, 3, 2, 0, 1 and the implied 1 make codes
    /// "1", "01", "001", "0000" and "0001" for symbols 0, 1, 2, 4 and 5.
    @Test func huffmanCodesFromWeights() throws {
        let table = try ZstdHuffmanTable(weights: [4, 3, 2, 0, 1])
        #expect(table.maxBits == 4)
        let expected: [(symbol: UInt16, length: UInt16)] = [(4, 4), (5, 4), (2, 3), (2, 3)] + Array(repeating: (1, 2), count: 4) + Array(repeating: (0, 1), count: 8)
        #expect(table.entries == expected.map { $0.symbol | $0.length << 8 })
        #expect(throws: DecompressionFailure(reason: "corrupt huffman table")) { try ZstdHuffmanTable(weights: [0, 0]) }
        #expect(throws: DecompressionFailure(reason: "corrupt huffman table"), "5 points, which 3 more do not make a power of two") {
            try ZstdHuffmanTable(weights: [2, 1, 1, 1])
        }
        #expect(throws: DecompressionFailure(reason: "corrupt huffman table"), "codes over 11 bits") { try ZstdHuffmanTable(weights: [12]) }
    }
}
