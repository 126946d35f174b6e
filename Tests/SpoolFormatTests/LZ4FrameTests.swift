import Foundation
@testable import SpoolFormat
import Testing

/// LZ4 frames as Kafka's producers write them, read back: frames made by liblz4's frame API
/// (Python's `lz4.frame`, lz4 1.9.4, the API librdkafka uses) with each combination of the
/// frame's flags, blocks past 64 KiB linked and independent, a block stored uncompressed, frames
/// and skippable frames one after another, blocks no encoder writes, and the ways a frame can be bad.
@Suite struct LZ4FrameTests {
    /// Eight lines that repeat most of themselves, 352 bytes.
    static let text = (0..<8).map { "job \($0): spool hands the batch to partition \($0 % 3)\n" }.joined()
    /// `text` in frames of 64 KiB blocks with each combination of flags: the index's bit 3 for
    /// linked blocks, 2 for block checksums, 1 for the content checksum, 0 for the content size.
    /// The first, independent blocks and no checksum but the header's, is the frame Kafka's Java
    /// producer writes.
    static let flagFrames = [
        "BCJNGGBAgm0AAADwHWpvYiAwOiBzcG9vbCBoYW5kcyB0aGUgYmF0Y2ggdG8gcGFydGl0aW9uIDAKLAAfMSwAEhExLAAfMiwAEhEyLAAfMywAEgKEAB80LAASAoQAHzUsABIChAAfNiwAEgKEAB83LAAPUG9uIDEKAAAAAA==",
        "BCJNGGhAYAEAAAAAAAAubQAAAPAdam9iIDA6IHNwb29sIGhhbmRzIHRoZSBiYXRjaCB0byBwYXJ0aXRpb24gMAosAB8xLAASETEsAB8yLAASETIsAB8zLAASAoQAHzQsABIChAAfNSwAEgKEAB82LAASAoQAHzcsAA9Qb24gMQoAAAAA",
        "BCJNGGRAp20AAADwHWpvYiAwOiBzcG9vbCBoYW5kcyB0aGUgYmF0Y2ggdG8gcGFydGl0aW9uIDAKLAAfMSwAEhExLAAfMiwAEhEyLAAfMywAEgKEAB80LAASAoQAHzUsABIChAAfNiwAEgKEAB83LAAPUG9uIDEKAAAAAPOvfGs=",
        "BCJNGGxAYAEAAAAAAADJbQAAAPAdam9iIDA6IHNwb29sIGhhbmRzIHRoZSBiYXRjaCB0byBwYXJ0aXRpb24gMAosAB8xLAASETEsAB8yLAASETIsAB8zLAASAoQAHzQsABIChAAfNSwAEgKEAB82LAASAoQAHzcsAA9Qb24gMQoAAAAA8698aw==",
        "BCJNGHBArW0AAADwHWpvYiAwOiBzcG9vbCBoYW5kcyB0aGUgYmF0Y2ggdG8gcGFydGl0aW9uIDAKLAAfMSwAEhExLAAfMiwAEhEyLAAfMywAEgKEAB80LAASAoQAHzUsABIChAAfNiwAEgKEAB83LAAPUG9uIDEKkTouDgAAAAA=",
        "BCJNGHhAYAEAAAAAAABMbQAAAPAdam9iIDA6IHNwb29sIGhhbmRzIHRoZSBiYXRjaCB0byBwYXJ0aXRpb24gMAosAB8xLAASETEsAB8yLAASETIsAB8zLAASAoQAHzQsABIChAAfNSwAEgKEAB82LAASAoQAHzcsAA9Qb24gMQqROi4OAAAAAA==",
        "BCJNGHRAvW0AAADwHWpvYiAwOiBzcG9vbCBoYW5kcyB0aGUgYmF0Y2ggdG8gcGFydGl0aW9uIDAKLAAfMSwAEhExLAAfMiwAEhEyLAAfMywAEgKEAB80LAASAoQAHzUsABIChAAfNiwAEgKEAB83LAAPUG9uIDEKkTouDgAAAADzr3xr",
        "BCJNGHxAYAEAAAAAAACdbQAAAPAdam9iIDA6IHNwb29sIGhhbmRzIHRoZSBiYXRjaCB0byBwYXJ0aXRpb24gMAosAB8xLAASETEsAB8yLAASETIsAB8zLAASAoQAHzQsABIChAAfNSwAEgKEAB82LAASAoQAHzcsAA9Qb24gMQqROi4OAAAAAPOvfGs=",
        "BCJNGEBAwG0AAADwHWpvYiAwOiBzcG9vbCBoYW5kcyB0aGUgYmF0Y2ggdG8gcGFydGl0aW9uIDAKLAAfMSwAEhExLAAfMiwAEhEyLAAfMywAEgKEAB80LAASAoQAHzUsABIChAAfNiwAEgKEAB83LAAPUG9uIDEKAAAAAA==",
        "BCJNGEhAYAEAAAAAAACwbQAAAPAdam9iIDA6IHNwb29sIGhhbmRzIHRoZSBiYXRjaCB0byBwYXJ0aXRpb24gMAosAB8xLAASETEsAB8yLAASETIsAB8zLAASAoQAHzQsABIChAAfNSwAEgKEAB82LAASAoQAHzcsAA9Qb24gMQoAAAAA",
        "BCJNGERAXm0AAADwHWpvYiAwOiBzcG9vbCBoYW5kcyB0aGUgYmF0Y2ggdG8gcGFydGl0aW9uIDAKLAAfMSwAEhExLAAfMiwAEhEyLAAfMywAEgKEAB80LAASAoQAHzUsABIChAAfNiwAEgKEAB83LAAPUG9uIDEKAAAAAPOvfGs=",
        "BCJNGExAYAEAAAAAAACkbQAAAPAdam9iIDA6IHNwb29sIGhhbmRzIHRoZSBiYXRjaCB0byBwYXJ0aXRpb24gMAosAB8xLAASETEsAB8yLAASETIsAB8zLAASAoQAHzQsABIChAAfNSwAEgKEAB82LAASAoQAHzcsAA9Qb24gMQoAAAAA8698aw==",
        "BCJNGFBAwG0AAADwHWpvYiAwOiBzcG9vbCBoYW5kcyB0aGUgYmF0Y2ggdG8gcGFydGl0aW9uIDAKLAAfMSwAEhExLAAfMiwAEhEyLAAfMywAEgKEAB80LAASAoQAHzUsABIChAAfNiwAEgKEAB83LAAPUG9uIDEKkTouDgAAAAA=",
        "BCJNGFhAYAEAAAAAAAAAbQAAAPAdam9iIDA6IHNwb29sIGhhbmRzIHRoZSBiYXRjaCB0byBwYXJ0aXRpb24gMAosAB8xLAASETEsAB8yLAASETIsAB8zLAASAoQAHzQsABIChAAfNSwAEgKEAB82LAASAoQAHzcsAA9Qb24gMQqROi4OAAAAAA==",
        "BCJNGFRArm0AAADwHWpvYiAwOiBzcG9vbCBoYW5kcyB0aGUgYmF0Y2ggdG8gcGFydGl0aW9uIDAKLAAfMSwAEhExLAAfMiwAEhEyLAAfMywAEgKEAB80LAASAoQAHzUsABIChAAfNiwAEgKEAB83LAAPUG9uIDEKkTouDgAAAADzr3xr",
        "BCJNGFxAYAEAAAAAAAAJbQAAAPAdam9iIDA6IHNwb29sIGhhbmRzIHRoZSBiYXRjaCB0byBwYXJ0aXRpb24gMAosAB8xLAASETEsAB8yLAASETIsAB8zLAASAoQAHzQsABIChAAfNSwAEgKEAB82LAASAoQAHzcsAA9Qb24gMQqROi4OAAAAAPOvfGs=",
    ].map(decoded)
    /// 2,500 lines of 28 bytes, 70,000 bytes: more than one 64 KiB block.
    static let bigText = (0..<2_500).map { "record \($0 % 10) of the spool topic\n" }.joined()
    /// `bigText` in linked blocks (the second's match reaches into the first), with block
    /// checksums, the content size and the content checksum.
    static let bigLinked = decoded("""
        BCJNGFxAcBEBAAAAAADjVgEAAPMNcmVjb3JkIDAgb2YgdGhlIHNwb29sIHRvcGljChwAHzEcAAgfMhwACB8zHAAIHzQcAAgf
        NRwACB82HAAIHzccAAgfOBwACB85HAAIDxgB////////////////////////////////////////////////////////////
        ////////////////////////////////////////////////////////////////////////////////////////////////
        ////////////////////////////////////////////////////////////////////////////////////////////////
        ////////////////////////////////////////////////////////////////////////////////////////yFAgdGhl
        IJoHpScbAAAAD/D///////////////////////9pUG9waWMKU6XEXgAAAACKbM6A
        """)
    /// `bigText` in independent blocks, no checksum but the header's.
    static let bigIndependent = decoded("""
        BCJNGGBAglYBAADzDXJlY29yZCAwIG9mIHRoZSBzcG9vbCB0b3BpYwocAB8xHAAIHzIcAAgfMxwACB80HAAIHzUcAAgfNhwA
        CB83HAAIHzgcAAgfORwACA8YAf//////////////////////////////////////////////////////////////////////
        ////////////////////////////////////////////////////////////////////////////////////////////////
        ////////////////////////////////////////////////////////////////////////////////////////////////
        /////////////////////////////////////////////////////////////////////////////8hQIHRoZSBoAAAA/w1z
        cG9vbCB0b3BpYwpyZWNvcmQgMSBvZiB0aGUgHAAAHzIcAAgfMxwACB80HAAIHzUcAAgfNhwACB83HAAIHzgcAAgfORwACB8w
        HAAIDxgB/////////////////////z1Qb3BpYwoAAAAA
        """)
    /// `noise(200)`, which does not compress: one block stored uncompressed.
    static let stored = decoded("""
        BCJNGGBAgsgAAIDGfoFrS/vi+1T2vd98HOGHAb8x3lZyD0dnZodZqog8WepWE3vShaHYPFRVLzeuZVvaAnmYzOMado5f2ZmP
        Hz827kN4TQ36vqba5IaO3CltTv9W4XAg+4+xWAWQxQncU82qO0iZUtNSnQaf6rXCBhOYSbIBHqwyiDGcUkaVcTaPV/Y5HRb6
        iHT1mHwXXEG7bXGOD3BZxwEbLzM9kcAdpQ0NqzONfl6PPuZodKY6scOTEahkx9vK4GDh878JAGei4yWgITGH1WLFqAAAAAA=
        """)

    private static func decoded(_ base64: String) -> [UInt8] {
        Array(Data(base64Encoded: base64, options: .ignoreUnknownCharacters)!)
    }

    /// Bytes with no repeats from a linear congruential generator.
    static func noise(_ count: Int, seed: UInt32 = 1) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 1_103_515_245 &+ 12_345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
    }

    private func bytes(_ compressed: [UInt8], limit: Int = 1 << 20) throws -> [UInt8] {
        try compressed.withUnsafeBytes { raw in try LZ4Frame.decompress(raw, outputLimit: limit) }
    }

    private func text(_ compressed: [UInt8], limit: Int = 1 << 20) throws -> String {
        String(decoding: try bytes(compressed, limit: limit), as: UTF8.self)
    }

    private static let magic: [UInt8] = [0x04, 0x22, 0x4D, 0x18]

    /// A frame header: the magic, FLG, BD, `fields` (content size, dictionary id) and the
    /// header checksum over all but the magic.
    private static func header(flags: UInt8, descriptor: UInt8 = 0x40, fields: [UInt8] = []) -> [UInt8] {
        let described = [flags, descriptor] + fields
        let checksum = described.withUnsafeBytes { raw in XXHash32.hash(raw) } >> 8
        return magic + described + [UInt8(truncatingIfNeeded: checksum)]
    }

    /// A frame of `blocks`, each compressed, without checksums.
    private static func frame(flags: UInt8 = 0x60, blocks: [[UInt8]]) -> [UInt8] {
        header(flags: flags) + blocks.flatMap { littleEndian(UInt32($0.count)) + $0 } + [0, 0, 0, 0]
    }

    /// A frame's blocks and what follows them, after a header of 7 bytes (no optional field).
    private static func body(_ frame: [UInt8]) -> [UInt8] { Array(frame[7...]) }

    private static func littleEndian<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian, Array.init)
    }

    private static func skippable(_ magic: UInt32, _ data: [UInt8]) -> [UInt8] {
        littleEndian(magic) + littleEndian(UInt32(data.count)) + data
    }

    @Test func everyCombinationOfFlagsDecodes() throws {
        for (index, frame) in Self.flagFrames.enumerated() {
            let flags: UInt8 = 0x40 | (index & 8 == 0 ? 0x20 : 0) | (index & 4 != 0 ? 0x10 : 0) | (index & 2 != 0 ? 0x04 : 0) | (index & 1 != 0 ? 0x08 : 0)
            #expect(frame[4] == flags && frame[5] == 0x40, "frame \(index)")
            #expect(try text(frame) == Self.text, "frame \(index)")
        }
    }

    @Test func blocksPastSixtyFourKiBLinkedAndIndependent() throws {
        #expect(try text(Self.bigLinked) == Self.bigText)
        #expect(try text(Self.bigIndependent) == Self.bigText)
        // Marked independent, the linked frame's second block reaches back out of itself.
        let independent = Self.header(flags: Self.bigLinked[4] | 0x20, fields: Array(Self.bigLinked[6..<14])) + Self.bigLinked[15...]
        #expect(throws: DecompressionFailure(reason: "an lz4 match back past the start of its block")) { try text(independent) }
    }

    @Test func aBlockStoredUncompressed() throws {
        #expect(Array(Self.stored[7..<11]) == [200, 0, 0, 0x80], "200 bytes, the high bit: stored")
        #expect(try bytes(Self.stored) == Self.noise(200))
    }

    @Test func framesAndSkippableFramesFollowOneAnother() throws {
        let frames = Self.flagFrames[0] + Self.skippable(0x184D_2A50, [1, 2, 3]) + Self.bigLinked + Self.skippable(0x184D_2A5F, [])
        #expect(try text(frames) == Self.text + Self.bigText)
        #expect(try bytes(Self.skippable(0x184D_2A57, [9])) == [])
        #expect(throws: DecompressionFailure(reason: "not in lz4 frame format")) { try text(Self.flagFrames[0] + [0, 1, 2, 3]) }
        #expect(throws: DecompressionFailure(reason: "the lz4 frame is cut short")) { try text(Self.flagFrames[0] + [0, 1]) }
        #expect(throws: DecompressionFailure(reason: "the lz4 frame is cut short")) { try text(Array(Self.skippable(0x184D_2A50, [1, 2, 3]).dropLast())) }
        #expect(throws: DecompressionFailure(reason: "not in lz4 frame format"), "the legacy format") { try text([0x02, 0x21, 0x4C, 0x18, 0, 0, 0, 0]) }
    }

    @Test func aCutFrameIsRefusedAtEveryLength() throws {
        for frame in [Self.flagFrames[15], Self.flagFrames[0], Self.bigLinked, Self.stored] {
            for length in 0..<frame.count {
                #expect(throws: DecompressionFailure.self, "cut at \(length)") { try bytes(Array(frame[..<length])) }
            }
        }
    }

    @Test func checksumsAreChecked() throws {
        var header = Self.flagFrames[0]
        header[6] ^= 1
        #expect(throws: DecompressionFailure(reason: "lz4 header checksum mismatch")) { try text(header) }
        // Kafka 0.8 wrote the header checksum over the magic too; batches of format 2 never carry it.
        var kafka08 = Self.flagFrames[0]
        kafka08[6] = UInt8(truncatingIfNeeded: kafka08[..<6].withUnsafeBytes { raw in XXHash32.hash(raw) } >> 8)
        #expect(kafka08[6] != Self.flagFrames[0][6])
        #expect(throws: DecompressionFailure(reason: "lz4 header checksum mismatch")) { try text(kafka08) }

        var blockChecksum = Self.flagFrames[4], blockData = Self.flagFrames[4]
        blockChecksum[blockChecksum.count - 8] ^= 1
        blockData[20] ^= 1
        #expect(throws: DecompressionFailure(reason: "lz4 block checksum mismatch")) { try text(blockChecksum) }
        #expect(throws: DecompressionFailure(reason: "lz4 block checksum mismatch")) { try text(blockData) }
        var contentChecksum = Self.flagFrames[2], contentData = Self.flagFrames[2]
        contentChecksum[contentChecksum.count - 1] ^= 1
        contentData[20] ^= 1
        #expect(throws: DecompressionFailure(reason: "lz4 content checksum mismatch")) { try text(contentChecksum) }
        #expect(throws: DecompressionFailure(reason: "lz4 content checksum mismatch"), "a literal changed") { try text(contentData) }
    }

    @Test func theHeaderIsChecked() throws {
        let body = Self.body(Self.flagFrames[0])
        #expect(try text(Self.header(flags: 0x60) + body) == Self.text)
        #expect(throws: DecompressionFailure(reason: "an unsupported lz4 frame version")) { try text(Self.header(flags: 0xA0) + body) }
        #expect(throws: DecompressionFailure(reason: "reserved lz4 frame bits are set")) { try text(Self.header(flags: 0x62) + body) }
        #expect(throws: DecompressionFailure(reason: "reserved lz4 frame bits are set")) { try text(Self.header(flags: 0x60, descriptor: 0xC0) + body) }
        #expect(throws: DecompressionFailure(reason: "reserved lz4 frame bits are set")) { try text(Self.header(flags: 0x60, descriptor: 0x41) + body) }
        #expect(throws: DecompressionFailure(reason: "an invalid lz4 block maximum size")) { try text(Self.header(flags: 0x60, descriptor: 0x30) + body) }
        #expect(throws: DecompressionFailure(reason: "lz4 frames with a dictionary id are not supported")) {
            try text(Self.header(flags: 0x61, fields: [1, 0, 0, 0]) + body)
        }
        #expect(try text(Self.header(flags: 0x68, fields: Self.littleEndian(UInt64(352))) + body) == Self.text)
        for size: UInt64 in [351, 353] {
            #expect(throws: DecompressionFailure(reason: "the lz4 frame's content size does not match its content"), "\(size)") {
                try text(Self.header(flags: 0x68, fields: Self.littleEndian(size)) + body)
            }
        }
    }

    @Test func matchesAreChecked() throws {
        #expect(try text(Self.frame(blocks: [[0x10, 0x61, 0x01, 0x00, 0x00]])) == "aaaaa", "a match that overlaps what it writes")
        #expect(throws: DecompressionFailure(reason: "an lz4 match with offset 0")) { try text(Self.frame(blocks: [[0x10, 0x61, 0x00, 0x00, 0x00]])) }
        #expect(throws: DecompressionFailure(reason: "an lz4 match back past the start of its block")) { try text(Self.frame(blocks: [[0x10, 0x61, 0x02, 0x00, 0x00]])) }
        #expect(throws: DecompressionFailure(reason: "an lz4 block is cut short"), "no last literals") { try text(Self.frame(blocks: [[0x10, 0x61, 0x01, 0x00]])) }

        let abcd: [UInt8] = [0x40, 0x61, 0x62, 0x63, 0x64], copy: [UInt8] = [0x00, 0x04, 0x00, 0x00]
        #expect(try text(Self.frame(flags: 0x40, blocks: [abcd, copy])) == "abcdabcd", "linked: into the block before")
        #expect(throws: DecompressionFailure(reason: "an lz4 match back past the start of its block")) { try text(Self.frame(flags: 0x60, blocks: [abcd, copy])) }
        #expect(throws: DecompressionFailure(reason: "an lz4 match back past the start of its frame")) {
            try text(Self.frame(flags: 0x40, blocks: [abcd]) + Self.frame(flags: 0x40, blocks: [copy]))
        }
    }

    @Test func blocksStayWithinTheFramesMaximum() throws {
        #expect(throws: DecompressionFailure(reason: "an lz4 block larger than its frame's maximum")) {
            try text(Self.header(flags: 0x60) + Self.littleEndian(UInt32(0x8001_0001)))
        }
        // A match of 15 + 4 + 255 * 257 bytes after one literal: 65,555 bytes, more than 64 KiB.
        let long: [UInt8] = [0x1F, 0x61, 0x01, 0x00] + [UInt8](repeating: 0xFF, count: 257) + [0x00, 0x00]
        #expect(throws: DecompressionFailure(reason: "an lz4 block larger than its frame's maximum")) { try text(Self.frame(blocks: [long])) }
    }

    @Test func theOutputStopsAtItsLimit() throws {
        #expect(try text(Self.bigIndependent, limit: 70_000) == Self.bigText)
        for frame in [Self.bigIndependent, Self.bigLinked] {
            #expect(throws: DecompressionFailure(reason: "decompresses to more than 69999 bytes")) { try text(frame, limit: 69_999) }
        }
        #expect(throws: DecompressionFailure(reason: "decompresses to more than 199 bytes")) { try bytes(Self.stored, limit: 199) }
        // A declared content size is held to the limit before any block is read.
        let huge = Self.header(flags: 0x68, fields: Self.littleEndian(UInt64(1) << 40)) + [0, 0, 0, 0]
        #expect(throws: DecompressionFailure(reason: "decompresses to more than 1048576 bytes")) { try bytes(huge) }
    }
}
