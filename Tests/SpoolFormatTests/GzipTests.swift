@testable import SpoolFormat
import Testing

/// gzip as Kafka's producers write it, read back: streams made by zlib (Python's `zlib`, wbits 31)
/// with each kind of DEFLATE block, members one after another, and the ways a stream can be bad.
@Suite struct GzipTests {
    /// "record 0 of 0\n" … "record 19 of 70\n" (`i * i % 97`), at level 9: one dynamic-Huffman block.
    static let dynamic: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x45, 0xce, 0xb9, 0x0d, 0x00, 0x21, 0x0c, 0x44, 0xd1, 0x7c,
        0xab, 0xa0, 0x04, 0x8c, 0x39, 0xeb, 0xd9, 0x23, 0x45, 0xa2, 0xff, 0x60, 0xe5, 0x41, 0x1e, 0xc2, 0x27, 0x83, 0xfd, 0xd7,
        0x7b, 0xcf, 0xf5, 0x84, 0x18, 0xe6, 0x17, 0xe2, 0xb5, 0xb6, 0xc4, 0x24, 0xae, 0x64, 0xca, 0x2e, 0x35, 0x0d, 0x57, 0xc6,
        0xcb, 0xea, 0x2c, 0xc6, 0x54, 0x9c, 0xd5, 0xa8, 0x9c, 0x36, 0x2c, 0xe2, 0xdf, 0x6e, 0xac, 0x5c, 0x3c, 0x8c, 0x9d, 0x57,
        0x05, 0x49, 0x4a, 0xa2, 0x29, 0xf1, 0xb5, 0xec, 0xaa, 0x46, 0xa3, 0xab, 0x25, 0x1a, 0x65, 0x87, 0x28, 0xd3, 0xb3, 0x1d,
        0x69, 0xf5, 0xcc, 0xd1, 0x36, 0x58, 0x2e, 0x88, 0xd3, 0x73, 0x1e, 0x75, 0x2d, 0x5e, 0x3f, 0xcd, 0x3f, 0x7c, 0x47, 0x30,
        0x01, 0x00, 0x00,
    ]
    static let dynamicText = (0..<20).map { "record \($0) of \($0 * $0 % 97)\n" }.joined()
    /// "hello, hello, hello gzip" with the fixed codes: a copy that overlaps what it writes.
    static let fixed: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0xc8, 0x40, 0xa2,
        0x14, 0xd2, 0xab, 0x32, 0x0b, 0x00, 0x89, 0x3d, 0x35, 0xf7, 0x18, 0x00, 0x00, 0x00,
    ]
    /// "stored bytes" at level 0: a stored block.
    static let stored: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x03, 0x01, 0x0c, 0x00, 0xf3, 0xff, 0x73, 0x74, 0x6f, 0x72, 0x65,
        0x64, 0x20, 0x62, 0x79, 0x74, 0x65, 0x73, 0x78, 0x77, 0xa6, 0x0f, 0x0c, 0x00, 0x00, 0x00,
    ]

    private func text(_ compressed: [UInt8], limit: Int = 1 << 20) throws -> String {
        String(decoding: try compressed.withUnsafeBytes { raw in try Gzip.decompress(raw, outputLimit: limit) }, as: UTF8.self)
    }

    @Test func everyKindOfBlockInflates() throws {
        #expect(try text(Self.dynamic) == Self.dynamicText)
        #expect(try text(Self.fixed) == "hello, hello, hello gzip")
        #expect(try text(Self.stored) == "stored bytes")
    }

    @Test func membersFollowOneAnotherAndBytesAfterThemAreLeft() throws {
        #expect(try text(Self.fixed + Self.stored) == "hello, hello, hello gzipstored bytes")
        #expect(try text(Self.stored + [0, 1, 2]) == "stored bytes", "not a member: left alone, as Java's GZIPInputStream does")
    }

    @Test func aHeaderWithANameIsSteppedOver() throws {
        var named = Self.stored
        named[3] = 0x08  // FNAME
        named.insert(contentsOf: Array("batch.bin".utf8) + [0], at: 10)
        #expect(try text(named) == "stored bytes")
    }

    @Test func aCutOrCorruptStreamIsRefusedAtEveryLength() throws {
        for length in 0..<Self.dynamic.count {
            #expect(throws: DecompressionFailure.self, "cut at \(length)") { try text(Array(Self.dynamic[..<length])) }
        }
        var badCRC = Self.dynamic
        badCRC[badCRC.count - 8] ^= 1
        #expect(throws: DecompressionFailure(reason: "corrupt gzip trailer")) { try text(badCRC) }
        var badBlock = Self.fixed
        badBlock[10] |= 0x06  // block type 3
        #expect(throws: DecompressionFailure(reason: "invalid block type")) { try text(badBlock) }
    }

    @Test func theOutputStopsAtItsLimit() throws {
        #expect(try text(Self.dynamic, limit: Self.dynamicText.utf8.count) == Self.dynamicText)
        #expect(throws: DecompressionFailure(reason: "inflates to more than 100 bytes")) { try text(Self.dynamic, limit: 100) }
        #expect(throws: DecompressionFailure(reason: "inflates to more than 5 bytes")) { try text(Self.stored, limit: 5) }
    }
}
