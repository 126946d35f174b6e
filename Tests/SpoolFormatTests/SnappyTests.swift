@testable import SpoolFormat
import Testing

/// Snappy as Kafka's producers write it, read back: raw blocks made by Google's libsnappy (1.1.9,
/// through its C API), snappy-java's framing around such blocks as `SnappyOutputStream` writes
/// it, copy elements no encoder writes, and the ways the input can be bad.
@Suite struct SnappyTests {
    /// Eight lines that repeat most of themselves, 352 bytes.
    static let text = (0..<8).map { "job \($0): spool hands the batch to partition \($0 % 3)\n" }.joined()
    /// `text` as libsnappy compresses it: literals, copies with 1- and 2-byte offsets.
    static let raw: [UInt8] = [
        0xe0, 0x02, 0xc0, 0x6a, 0x6f, 0x62, 0x20, 0x30, 0x3a, 0x20, 0x73, 0x70, 0x6f, 0x6f, 0x6c, 0x20, 0x68, 0x61, 0x6e, 0x64,
        0x73, 0x20, 0x74, 0x68, 0x65, 0x20, 0x62, 0x61, 0x74, 0x63, 0x68, 0x20, 0x74, 0x6f, 0x20, 0x70, 0x61, 0x72, 0x74, 0x69,
        0x74, 0x69, 0x6f, 0x6e, 0x20, 0x30, 0x0a, 0x6a, 0x6f, 0x62, 0x20, 0x31, 0x92, 0x2c, 0x00, 0x00, 0x31, 0x05, 0x2c, 0x00,
        0x32, 0x92, 0x2c, 0x00, 0x00, 0x32, 0x05, 0x2c, 0x00, 0x33, 0x92, 0x2c, 0x00, 0x00, 0x30, 0x05, 0x2c, 0x00, 0x34, 0x92,
        0x2c, 0x00, 0x09, 0x84, 0x00, 0x35, 0x92, 0x2c, 0x00, 0x09, 0x84, 0x00, 0x36, 0x92, 0x2c, 0x00, 0x09, 0x84, 0x00, 0x37,
        0x92, 0x2c, 0x00, 0x04, 0x31, 0x0a,
    ]
    /// `text` in snappy-java's framing (version 1, compatible version 1) in blocks of 128 bytes,
    /// three blocks, each compressed by libsnappy.
    static let framed: [UInt8] = [
        0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x40,
        0x80, 0x01, 0xc0, 0x6a, 0x6f, 0x62, 0x20, 0x30, 0x3a, 0x20, 0x73, 0x70, 0x6f, 0x6f, 0x6c, 0x20, 0x68, 0x61, 0x6e, 0x64,
        0x73, 0x20, 0x74, 0x68, 0x65, 0x20, 0x62, 0x61, 0x74, 0x63, 0x68, 0x20, 0x74, 0x6f, 0x20, 0x70, 0x61, 0x72, 0x74, 0x69,
        0x74, 0x69, 0x6f, 0x6e, 0x20, 0x30, 0x0a, 0x6a, 0x6f, 0x62, 0x20, 0x31, 0x92, 0x2c, 0x00, 0x00, 0x31, 0x05, 0x2c, 0x00,
        0x32, 0x8a, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x42, 0x80, 0x01, 0xb8, 0x6e, 0x20, 0x32, 0x0a, 0x6a, 0x6f, 0x62, 0x20, 0x33,
        0x3a, 0x20, 0x73, 0x70, 0x6f, 0x6f, 0x6c, 0x20, 0x68, 0x61, 0x6e, 0x64, 0x73, 0x20, 0x74, 0x68, 0x65, 0x20, 0x62, 0x61,
        0x74, 0x63, 0x68, 0x20, 0x74, 0x6f, 0x20, 0x70, 0x61, 0x72, 0x74, 0x69, 0x74, 0x69, 0x6f, 0x6e, 0x20, 0x30, 0x05, 0x2c,
        0x00, 0x34, 0x92, 0x2c, 0x00, 0x00, 0x31, 0x05, 0x2c, 0x00, 0x35, 0x7a, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x3d, 0x60, 0xb0,
        0x69, 0x74, 0x69, 0x6f, 0x6e, 0x20, 0x32, 0x0a, 0x6a, 0x6f, 0x62, 0x20, 0x36, 0x3a, 0x20, 0x73, 0x70, 0x6f, 0x6f, 0x6c,
        0x20, 0x68, 0x61, 0x6e, 0x64, 0x73, 0x20, 0x74, 0x68, 0x65, 0x20, 0x62, 0x61, 0x74, 0x63, 0x68, 0x20, 0x74, 0x6f, 0x20,
        0x70, 0x61, 0x72, 0x74, 0x69, 0x05, 0x2c, 0x00, 0x30, 0x05, 0x2c, 0x00, 0x37, 0x92, 0x2c, 0x00, 0x04, 0x31, 0x0a,
    ]
    /// Where `framed`'s blocks end.
    static let blockEnds = [84, 154, 219]

    /// Bytes with no repeats from a linear congruential generator.
    static func noise(_ count: Int, seed: UInt32 = 1) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 1_103_515_245 &+ 12_345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
    }

    private func text(_ compressed: [UInt8], limit: Int = 1 << 20) throws -> String {
        String(decoding: try bytes(compressed, limit: limit), as: UTF8.self)
    }

    private func bytes(_ compressed: [UInt8], limit: Int = 1 << 20) throws -> [UInt8] {
        try compressed.withUnsafeBytes { raw in try Snappy.decompress(raw, outputLimit: limit) }
    }

    private static let magic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    private static let header = magic + [0, 0, 0, 1, 0, 0, 0, 1]

    /// A snappy-java block: its big-endian length, then the raw block.
    private func javaBlock(_ block: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(block.count).bigEndian, Array.init) + block
    }

    @Test func aRawBlockAsLibrdkafkaWritesIt() throws {
        #expect(try text(Self.raw) == Self.text)
    }

    @Test func aLiteralWithItsLengthInTheNextByte() throws {
        // libsnappy writes 200 bytes without repeats as one literal: the length 200 (varint
        // 0xC8 0x01), the tag of 60 (a 1-byte length follows), 199, and the bytes.
        #expect(try bytes([0xC8, 0x01, 0xF0, 0xC7] + Self.noise(200)) == Self.noise(200))
    }

    @Test func javaFramingWithSeveralBlocksAndStreamsOneAfterAnother() throws {
        #expect(try text(Self.framed) == Self.text)
        #expect(try text(Self.framed + Self.framed) == Self.text + Self.text, "a concatenated stream starts with its header")
    }

    @Test func copiesOverlapAndReachOnlyIntoTheirOwnBlock() throws {
        #expect(try text([5, 0x00, 0x61, 0x01, 0x01]) == "aaaaa", "a copy-1 of 4 bytes, offset 1")
        #expect(try text([7, 0x04, 0x61, 0x62, 0x12, 0x02, 0x00]) == "abababa", "a copy-2 of 5 bytes, offset 2")
        let first = javaBlock([4, 0x0C, 0x61, 0x62, 0x63, 0x64])
        #expect(try text(Self.header + first + first) == "abcdabcd")
        let copyingTheFirst = javaBlock([4, 0x01, 0x04])
        #expect(throws: DecompressionFailure(reason: "a snappy copy back past the start of its block")) {
            try text(Self.header + first + copyingTheFirst)
        }
    }

    /// No encoder writes a copy with a 4-byte offset (libsnappy compresses 64 KiB at a time);
    /// this block, checked with libsnappy's decoder, copies from 70,000 bytes back.
    @Test func aCopyWithAFourByteOffsetOverSixtyFourKiB() throws {
        let literal = Self.noise(70_000, seed: 7)
        let block: [UInt8] = [0xB0, 0xA3, 0x04] + [62 << 2, 0x6F, 0x11, 0x01] + literal + [63 << 2 | 3, 0x70, 0x11, 0x01, 0x00]
        #expect(try bytes(block) == literal + literal[..<64])
    }

    @Test func aCutBlockIsRefusedAtEveryLength() throws {
        for length in 0..<Self.raw.count {
            #expect(throws: DecompressionFailure.self, "cut at \(length)") { try text(Array(Self.raw[..<length])) }
        }
    }

    /// The framing has no end mark: cut between blocks, it holds the blocks before the cut.
    @Test func cutFramingIsRefusedUnlessCutBetweenBlocks() throws {
        for length in 0..<Self.framed.count {
            let cut = Array(Self.framed[..<length])
            if let block = Self.blockEnds.firstIndex(of: length) {
                #expect(try text(cut) == String(Self.text.prefix(128 * (block + 1))))
            } else {
                #expect(throws: DecompressionFailure.self, "cut at \(length)") { try text(cut) }
            }
        }
        #expect(throws: DecompressionFailure(reason: "the snappy-java header is cut short")) { try text(Array(Self.header[..<12])) }
        #expect(throws: DecompressionFailure(reason: "the snappy-java framing holds no blocks")) { try text(Self.header) }
        #expect(throws: DecompressionFailure(reason: "a snappy-java block length is cut short")) { try text(Self.header + [0, 0]) }
        #expect(throws: DecompressionFailure(reason: "a snappy-java block is cut short")) { try text(Self.header + [0, 0, 0, 100, 1, 2, 3]) }
    }

    @Test func badOffsetsAreRefused() throws {
        #expect(throws: DecompressionFailure(reason: "a snappy copy with offset 0")) { try text([5, 0x00, 0x61, 0x01, 0x00]) }
        #expect(throws: DecompressionFailure(reason: "a snappy copy with offset 0")) { try text([5, 0x00, 0x61, 0x0F, 0, 0, 0, 0]) }
        #expect(throws: DecompressionFailure(reason: "a snappy copy back past the start of its block")) { try text([5, 0x00, 0x61, 0x01, 0x02]) }
        #expect(throws: DecompressionFailure(reason: "a snappy copy back past the start of its block")) { try text([5, 0x00, 0x61, 0x0E, 0x00, 0x01]) }
    }

    @Test func theOutputMustBeTheDeclaredLength() throws {
        var longer = Self.raw, shorter = Self.raw
        longer[0] += 1  // 353
        shorter[0] -= 1  // 351
        #expect(throws: DecompressionFailure(reason: "the snappy block ends before its declared length")) { try text(longer) }
        #expect(throws: DecompressionFailure(reason: "the snappy block runs past its declared length")) { try text(shorter) }
        #expect(throws: DecompressionFailure(reason: "the snappy block runs past its declared length")) { try text([3, 0x0C, 0x61, 0x62, 0x63, 0x64]) }
        #expect(throws: DecompressionFailure(reason: "a malformed snappy length")) { try text([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) }
        #expect(throws: DecompressionFailure(reason: "a malformed snappy length")) { try text([0x80, 0x80, 0x80, 0x80, 0x10]) }
        #expect(throws: DecompressionFailure(reason: "the snappy block is cut short")) { try text([5, 0xFC, 0xFF, 0xFF, 0xFF, 0xFF, 0x61]) }
    }

    @Test func theOutputStopsAtItsLimit() throws {
        #expect(try text(Self.raw, limit: 352) == Self.text)
        #expect(throws: DecompressionFailure(reason: "decompresses to more than 351 bytes")) { try text(Self.raw, limit: 351) }
        #expect(throws: DecompressionFailure(reason: "decompresses to more than 300 bytes")) { try text(Self.framed, limit: 300) }
        // The declared length is held to the limit before anything is decoded.
        #expect(throws: DecompressionFailure(reason: "decompresses to more than 1048576 bytes")) { try text([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) }
    }
}
