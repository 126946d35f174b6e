/// Zstandard (RFC 8878) as Kafka's zstd codec writes a batch's records: zstd-jni's
/// `ZstdOutputStream` in Java producers, `ZSTD_compress` or the streaming API in librdkafka.
/// That is one or more frames, the content size and the checksum each there or not, and
/// skippable frames, which are stepped over. Frames that need a dictionary are refused. The
/// output of all frames is one array, at most `outputLimit` bytes, and every read of the input
/// is bounds-checked, so a small hostile input can neither make a huge output nor read past it.
enum Zstd {
    private static let frameMagic: UInt32 = 0xFD2F_B528
    /// Skippable frames have the magic numbers 0x184D2A50 to 0x184D2A5F.
    private static let skippableMagic: UInt32 = 0x184D_2A50

    /// The bytes `compressed` decompresses to, at most `outputLimit` of them.
    static func decompress(_ compressed: UnsafeRawBufferPointer, outputLimit: Int) throws(DecompressionFailure) -> [UInt8] {
        var output: [UInt8] = []
        var blocks = ZstdBlockDecoder()
        var position = 0
        repeat {
            guard compressed.count - position >= 4 else { throw DecompressionFailure(reason: "the zstd frame is cut short") }
            let magic = littleEndian32(compressed, at: position)
            if magic & 0xFFFF_FFF0 == skippableMagic {
                guard compressed.count - position >= 8 else { throw DecompressionFailure(reason: "the zstd frame is cut short") }
                let size = Int(littleEndian32(compressed, at: position + 4))
                guard compressed.count - position - 8 >= size else { throw DecompressionFailure(reason: "the zstd frame is cut short") }
                position += 8 + size
                continue
            }
            guard magic == frameMagic else { throw DecompressionFailure(reason: "not in zstd format") }
            position = try decodeFrame(compressed, at: position + 4, into: &output, blocks: &blocks, outputLimit: outputLimit)
        } while position < compressed.count
        return output
    }

    /// Decodes the frame whose header starts at `start` (after the magic number) onto `output`;
    /// returns where the frame ends.
    private static func decodeFrame(_ input: UnsafeRawBufferPointer, at start: Int, into output: inout [UInt8], blocks: inout ZstdBlockDecoder,
                                    outputLimit: Int) throws(DecompressionFailure) -> Int {
        let header = try ZstdFrameHeader(input, at: start)
        if let contentSize = header.contentSize, contentSize > UInt64(max(0, outputLimit - output.count)) {
            throw DecompressionFailure(reason: "decompresses to more than \(outputLimit) bytes")
        }
        let frameStart = output.count
        let blockSizeMax = header.blockSizeMax
        blocks.startFrame()
        var position = start + header.size
        var last = false
        while !last {
            guard input.count - position >= 3 else { throw DecompressionFailure(reason: "the zstd frame is cut short") }
            let blockHeader = Int(input[position]) | Int(input[position + 1]) << 8 | Int(input[position + 2]) << 16
            position += 3
            last = blockHeader & 1 != 0
            let size = blockHeader >> 3
            guard size <= blockSizeMax else { throw DecompressionFailure(reason: "a zstd block larger than its maximum size") }
            switch (blockHeader >> 1) & 3 {
            case 0:  // Raw: `size` bytes as they are.
                guard input.count - position >= size else { throw DecompressionFailure(reason: "the zstd frame is cut short") }
                guard size <= outputLimit - output.count else { throw DecompressionFailure(reason: "decompresses to more than \(outputLimit) bytes") }
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[position..<(position + size)]))
                position += size
            case 1:  // RLE: one byte, `size` times.
                guard position < input.count else { throw DecompressionFailure(reason: "the zstd frame is cut short") }
                guard size <= outputLimit - output.count else { throw DecompressionFailure(reason: "decompresses to more than \(outputLimit) bytes") }
                output.append(contentsOf: repeatElement(input[position], count: size))
                position += 1
            case 2:
                guard input.count - position >= size else { throw DecompressionFailure(reason: "the zstd frame is cut short") }
                try blocks.decodeCompressedBlock(UnsafeRawBufferPointer(rebasing: input[position..<(position + size)]), into: &output,
                                                 frameStart: frameStart, blockSizeMax: blockSizeMax, outputLimit: outputLimit)
                position += size
            default:
                throw DecompressionFailure(reason: "a reserved zstd block type")
            }
        }
        if let contentSize = header.contentSize, UInt64(output.count - frameStart) != contentSize {
            throw DecompressionFailure(reason: "zstd frame content size mismatch")
        }
        if header.hasChecksum {
            guard input.count - position >= 4 else { throw DecompressionFailure(reason: "the zstd frame is cut short") }
            let hash = output.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[frameStart...])) }
            guard UInt32(truncatingIfNeeded: hash) == littleEndian32(input, at: position) else {
                throw DecompressionFailure(reason: "zstd checksum mismatch")
            }
            position += 4
        }
        return position
    }

    private static func littleEndian32(_ bytes: UnsafeRawBufferPointer, at position: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }
}

/// A zstd frame header (RFC 8878 section 3.1.1.1), after the magic number.
struct ZstdFrameHeader {
    /// The header's size in bytes.
    let size: Int
    /// The frame's output size, when the header gives it.
    let contentSize: UInt64?
    /// How far back a match may reach (RFC 8878 section 3.1.1.1.2).
    let windowSize: UInt64
    /// Whether the frame ends with the checksum of its content.
    let hasChecksum: Bool

    /// The most a block holds, compressed or not: the window size, at most 128 KiB.
    var blockSizeMax: Int { Int(min(windowSize, 128 << 10)) }

    init(_ input: UnsafeRawBufferPointer, at start: Int) throws(DecompressionFailure) {
        guard start < input.count else { throw DecompressionFailure(reason: "the zstd frame is cut short") }
        let descriptor = input[start]
        let contentSizeFlag = Int(descriptor >> 6), singleSegment = descriptor & 0x20 != 0
        let dictionaryIDFlag = Int(descriptor & 3)
        guard descriptor & 0x08 == 0 else { throw DecompressionFailure(reason: "a reserved zstd frame header bit is set") }
        hasChecksum = descriptor & 0x04 != 0
        let dictionaryIDSize = [0, 1, 2, 4][dictionaryIDFlag]
        let contentSizeSize = [singleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag]
        size = 1 + (singleSegment ? 0 : 1) + dictionaryIDSize + contentSizeSize
        guard input.count - start >= size else { throw DecompressionFailure(reason: "the zstd frame is cut short") }
        var position = start + 1
        var windowSize: UInt64 = 0
        if !singleSegment {
            let descriptor = input[position]
            let windowLog = 10 + UInt64(descriptor >> 3), base: UInt64 = 1 << windowLog
            windowSize = base + (base >> 3) * UInt64(descriptor & 7)
            position += 1
        }
        let dictionaryID = Self.littleEndian(input, at: position, count: dictionaryIDSize)
        guard dictionaryID == 0 else {
            throw DecompressionFailure(reason: "the zstd frame needs dictionary \(dictionaryID), and dictionaries are not supported")
        }
        position += dictionaryIDSize
        if contentSizeSize > 0 {
            let contentSize = Self.littleEndian(input, at: position, count: contentSizeSize) + (contentSizeSize == 2 ? 256 : 0)
            self.contentSize = contentSize
            if singleSegment { windowSize = contentSize }
        } else {
            contentSize = nil
        }
        self.windowSize = windowSize
    }

    private static func littleEndian(_ bytes: UnsafeRawBufferPointer, at position: Int, count: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<count { value |= UInt64(bytes[position + index]) << (8 * index) }
        return value
    }
}
