/// Snappy as Kafka's producers write a batch's records, in either of the two shapes they use:
/// Java's producer writes snappy-java's framing (`SnappyOutputStream`: a 16-byte header, then
/// blocks each after its big-endian length, and maybe further streams after it), librdkafka
/// writes one raw snappy block. As librdkafka's reader does, input that starts with the
/// snappy-java magic is framed and any other input is one raw block.
enum Snappy {
    /// The bytes `compressed` decompresses to, at most `outputLimit` of them.
    static func decompress(_ compressed: UnsafeRawBufferPointer, outputLimit: Int) throws(DecompressionFailure) -> [UInt8] {
        var output = DecodedBytes()
        if startsWithMagic(compressed, at: 0) {
            try unframe(compressed, into: &output, outputLimit: outputLimit)
        } else {
            try decodeBlock(compressed, into: &output, outputLimit: outputLimit)
        }
        return output.array()
    }

    /// snappy-java's stream header: this magic, then a big-endian version and compatible
    /// version, which, as librdkafka does, are not checked.
    private static let magic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    private static let headerSize = 16

    private static func startsWithMagic(_ bytes: UnsafeRawBufferPointer, at position: Int) -> Bool {
        bytes.count - position >= magic.count && magic.indices.allSatisfy { bytes[position + $0] == magic[$0] }
    }

    /// The blocks of snappy-java's framing, into `output`. Where a block's length is due, a
    /// header starts a concatenated stream, as `SnappyInputStream` reads it. The framing has no
    /// end mark: it ends with the input, which must not end inside a length or a block, and it
    /// must hold a block (librdkafka refuses an empty one).
    private static func unframe(_ input: UnsafeRawBufferPointer, into output: inout DecodedBytes, outputLimit: Int) throws(DecompressionFailure) {
        var position = 0
        var blocks = 0
        while position < input.count {
            if startsWithMagic(input, at: position) {
                guard input.count - position >= headerSize else { throw DecompressionFailure(reason: "the snappy-java header is cut short") }
                position += headerSize
                continue
            }
            guard input.count - position >= 4 else { throw DecompressionFailure(reason: "a snappy-java block length is cut short") }
            let length = Int(UInt32(bigEndian: input.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
            position += 4
            guard length <= input.count - position else { throw DecompressionFailure(reason: "a snappy-java block is cut short") }
            try decodeBlock(UnsafeRawBufferPointer(rebasing: input[position..<(position + length)]), into: &output, outputLimit: outputLimit)
            position += length
            blocks += 1
        }
        guard blocks > 0 else { throw DecompressionFailure(reason: "the snappy-java framing holds no blocks") }
    }

    /// One raw snappy block (the format of google/snappy's `format_description.txt`) appended
    /// to `output`: its uncompressed length as a varint, then elements, each a literal or a copy
    /// of earlier bytes of the same block. The declared length is held to `outputLimit` before
    /// anything is decoded, and the elements must write exactly that many bytes.
    private static func decodeBlock(_ input: UnsafeRawBufferPointer, into output: inout DecodedBytes, outputLimit: Int) throws(DecompressionFailure) {
        var position = 0
        let declared = try uncompressedLength(input, &position)
        let start = output.count
        guard declared <= outputLimit - start else { throw DecompressionFailure(reason: "decompresses to more than \(outputLimit) bytes") }
        let end = start + declared
        while position < input.count {
            let tag = input[position]
            position += 1
            let length: Int, offset: Int
            switch tag & 0x03 {
            case 0:
                try literal(tag, input, &position, into: &output, end: end)
                continue
            case 1:  // 3 bits of length - 4, 11 bits of offset
                let extra = try take(1, input, &position)
                length = 4 + Int(tag >> 2 & 0x07)
                offset = Int(tag >> 5) << 8 | extra
            case 2:
                length = 1 + Int(tag >> 2)
                offset = try take(2, input, &position)
            default:
                length = 1 + Int(tag >> 2)
                offset = try take(4, input, &position)
            }
            guard offset != 0 else { throw DecompressionFailure(reason: "a snappy copy with offset 0") }
            guard offset <= output.count - start else { throw DecompressionFailure(reason: "a snappy copy back past the start of its block") }
            guard length <= end - output.count else { throw DecompressionFailure(reason: "the snappy block runs past its declared length") }
            output.copy(distance: offset, length: length)
        }
        guard output.count == end else { throw DecompressionFailure(reason: "the snappy block ends before its declared length") }
    }

    /// The block's uncompressed length: a little-endian base-128 varint of at most 32 bits.
    private static func uncompressedLength(_ input: UnsafeRawBufferPointer, _ position: inout Int) throws(DecompressionFailure) -> Int {
        var length = 0
        for shift in stride(from: 0, to: 35, by: 7) {
            guard position < input.count else { throw DecompressionFailure(reason: "the snappy block is cut short") }
            let byte = input[position]
            position += 1
            length |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                guard length <= Int(UInt32.max) else { break }
                return length
            }
        }
        throw DecompressionFailure(reason: "a malformed snappy length")
    }

    /// A literal element: its length - 1 in the tag's upper 6 bits, or, for 60 to 63, in the
    /// 1 to 4 little-endian bytes after it; then the bytes themselves.
    private static func literal(_ tag: UInt8, _ input: UnsafeRawBufferPointer, _ position: inout Int, into output: inout DecodedBytes, end: Int) throws(DecompressionFailure) {
        var length = Int(tag >> 2)
        if length >= 60 { length = try take(length - 59, input, &position) }
        length += 1
        guard length <= input.count - position else { throw DecompressionFailure(reason: "the snappy block is cut short") }
        guard length <= end - output.count else { throw DecompressionFailure(reason: "the snappy block runs past its declared length") }
        output.append(UnsafeRawBufferPointer(rebasing: input[position..<(position + length)]))
        position += length
    }

    /// The little-endian integer in the `count` bytes at `position`, which then moves past them.
    private static func take(_ count: Int, _ input: UnsafeRawBufferPointer, _ position: inout Int) throws(DecompressionFailure) -> Int {
        guard input.count - position >= count else { throw DecompressionFailure(reason: "the snappy block is cut short") }
        var value = 0
        for index in 0..<count { value |= Int(input[position + index]) << (8 * index) }
        position += count
        return value
    }
}
