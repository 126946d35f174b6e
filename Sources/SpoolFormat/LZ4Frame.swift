/// The LZ4 frame format (lz4's `doc/lz4_Frame_format.md`) as Kafka's lz4 codec carries a
/// batch's records: Java's producer writes one frame of independent blocks with only the header
/// checksum (`KafkaLZ4BlockOutputStream`), librdkafka writes one with liblz4's frame API, which
/// may add the content size and checksum. Every flag is read and every checksum present is
/// checked. The header checksum must be the format's, not the one Kafka 0.8 wrote over the magic
/// too, which only batches of message format 0 carry. Frames may follow one another, as the lz4
/// tool reads them (Kafka's own readers take the first frame alone), and skippable frames are
/// stepped over; the input must end where a frame ends.
enum LZ4Frame {
    /// The bytes `compressed` decompresses to, at most `outputLimit` of them.
    static func decompress(_ compressed: UnsafeRawBufferPointer, outputLimit: Int) throws(DecompressionFailure) -> [UInt8] {
        var output = DecodedBytes()
        var position = 0
        repeat {
            guard compressed.count - position >= 4 else { throw cutShort }
            let magic = littleEndian32(compressed, at: position)
            position += 4
            if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                // A skippable frame: its little-endian size, then that many bytes of user data.
                guard compressed.count - position >= 4 else { throw cutShort }
                let size = Int(littleEndian32(compressed, at: position))
                guard size <= compressed.count - position - 4 else { throw cutShort }
                position += 4 + size
                continue
            }
            guard magic == 0x184D_2204 else { throw DecompressionFailure(reason: "not in lz4 frame format") }
            position = try frame(compressed, at: position, into: &output, outputLimit: outputLimit)
        } while position < compressed.count
        return output.array()
    }

    private static let cutShort = DecompressionFailure(reason: "the lz4 frame is cut short")

    private static func tooLarge(_ outputLimit: Int) -> DecompressionFailure {
        DecompressionFailure(reason: "decompresses to more than \(outputLimit) bytes")
    }

    /// The frame whose descriptor starts at `start` (after its magic), appended to `output`;
    /// returns where the frame ends.
    private static func frame(_ input: UnsafeRawBufferPointer, at start: Int, into output: inout DecodedBytes, outputLimit: Int) throws(DecompressionFailure) -> Int {
        guard input.count - start >= 2 else { throw cutShort }
        let flags = input[start], descriptor = input[start + 1]
        guard flags >> 6 == 1 else { throw DecompressionFailure(reason: "an unsupported lz4 frame version") }
        guard flags & 0x02 == 0, descriptor & 0x8F == 0 else { throw DecompressionFailure(reason: "reserved lz4 frame bits are set") }
        let independent = flags & 0x20 != 0, blockChecksums = flags & 0x10 != 0
        let hasContentSize = flags & 0x08 != 0, hasContentChecksum = flags & 0x04 != 0, hasDictionary = flags & 0x01 != 0
        // Block maximum sizes 4 to 7: 64 KiB, 256 KiB, 1 MiB, 4 MiB.
        let sizeCode = Int(descriptor >> 4)
        guard sizeCode >= 4 else { throw DecompressionFailure(reason: "an invalid lz4 block maximum size") }
        let blockSizeMax = 1 << (2 * sizeCode + 8)

        let checksumAt = start + 2 + (hasContentSize ? 8 : 0) + (hasDictionary ? 4 : 0)
        guard checksumAt < input.count else { throw cutShort }
        let headerChecksum = XXHash32.hash(UnsafeRawBufferPointer(rebasing: input[start..<checksumAt])) >> 8 & 0xFF
        guard headerChecksum == input[checksumAt] else { throw DecompressionFailure(reason: "lz4 header checksum mismatch") }
        guard !hasDictionary else { throw DecompressionFailure(reason: "lz4 frames with a dictionary id are not supported") }
        // liblz4 takes a content size of 0 as unknown and writes none then.
        let contentSize = hasContentSize ? littleEndian64(input, at: start + 2) : 0
        guard contentSize <= UInt64(max(0, outputLimit - output.count)) else { throw tooLarge(outputLimit) }

        var position = checksumAt + 1
        let frameStart = output.count
        while true {
            guard input.count - position >= 4 else { throw cutShort }
            let blockHeader = littleEndian32(input, at: position)
            position += 4
            if blockHeader == 0 { break }  // the end mark
            let size = Int(blockHeader & 0x7FFF_FFFF)
            guard size <= blockSizeMax else { throw DecompressionFailure(reason: "an lz4 block larger than its frame's maximum") }
            guard input.count - position >= size + (blockChecksums ? 4 : 0) else { throw cutShort }
            let block = UnsafeRawBufferPointer(rebasing: input[position..<(position + size)])
            position += size
            if blockChecksums {
                guard XXHash32.hash(block) == littleEndian32(input, at: position) else { throw DecompressionFailure(reason: "lz4 block checksum mismatch") }
                position += 4
            }
            let blockStart = output.count
            // A block decodes to at most the frame's maximum, and the output to at most its limit.
            let end = min(outputLimit, blockStart + blockSizeMax)
            let overflow = end == outputLimit ? tooLarge(outputLimit) : DecompressionFailure(reason: "an lz4 block larger than its frame's maximum")
            if blockHeader & 0x8000_0000 != 0 {
                guard size <= end - blockStart else { throw overflow }
                output.append(block)
            } else {
                // Independent blocks' matches stay in the block; linked ones may reach back into
                // the frame's earlier blocks, which are before it in `output`.
                let window = independent
                    ? (start: blockStart, reason: "an lz4 match back past the start of its block")
                    : (start: frameStart, reason: "an lz4 match back past the start of its frame")
                try decodeBlock(block, into: &output, window: window, end: end, overflow: overflow)
            }
        }
        if hasContentChecksum {
            guard input.count - position >= 4 else { throw cutShort }
            let checksum = output.withUnsafeBytes { bytes in XXHash32.hash(UnsafeRawBufferPointer(rebasing: bytes[frameStart...])) }
            guard checksum == littleEndian32(input, at: position) else { throw DecompressionFailure(reason: "lz4 content checksum mismatch") }
            position += 4
        }
        guard contentSize == 0 || contentSize == UInt64(output.count - frameStart) else {
            throw DecompressionFailure(reason: "the lz4 frame's content size does not match its content")
        }
        return position
    }

    /// One compressed block (lz4's `doc/lz4_Block_format.md`) appended to `output`: sequences of
    /// a token, literals, and a match of earlier output; the last sequence is literals alone.
    /// Matches reach back no further than `window.start`, and the output stops at `end`.
    private static func decodeBlock(
        _ block: UnsafeRawBufferPointer, into output: inout DecodedBytes, window: (start: Int, reason: String), end: Int, overflow: DecompressionFailure
    ) throws(DecompressionFailure) {
        var position = 0
        while true {
            guard position < block.count else { throw DecompressionFailure(reason: "an lz4 block is cut short") }
            let token = block[position]
            position += 1
            let literals = try length(Int(token >> 4), block, &position)
            guard literals <= block.count - position else { throw DecompressionFailure(reason: "an lz4 block is cut short") }
            guard literals <= end - output.count else { throw overflow }
            output.append(UnsafeRawBufferPointer(rebasing: block[position..<(position + literals)]))
            position += literals
            if position == block.count { return }

            guard block.count - position >= 2 else { throw DecompressionFailure(reason: "an lz4 block is cut short") }
            let offset = Int(block[position]) | Int(block[position + 1]) << 8
            position += 2
            guard offset != 0 else { throw DecompressionFailure(reason: "an lz4 match with offset 0") }
            guard offset <= output.count - window.start else { throw DecompressionFailure(reason: window.reason) }
            let matchLength = try length(Int(token & 0x0F), block, &position) + 4
            guard matchLength <= end - output.count else { throw overflow }
            output.copy(distance: offset, length: matchLength)
        }
    }

    /// A literal or match length: the token's 4 bits, and when they are 15, the bytes after it
    /// added on up to and including the first that is not 255.
    private static func length(_ nibble: Int, _ block: UnsafeRawBufferPointer, _ position: inout Int) throws(DecompressionFailure) -> Int {
        guard nibble == 15 else { return nibble }
        var length = nibble
        while true {
            guard position < block.count else { throw DecompressionFailure(reason: "an lz4 block is cut short") }
            let byte = block[position]
            position += 1
            length += Int(byte)
            if byte != 255 { return length }
        }
    }

    private static func littleEndian32(_ bytes: UnsafeRawBufferPointer, at position: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    private static func littleEndian64(_ bytes: UnsafeRawBufferPointer, at position: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }
}
