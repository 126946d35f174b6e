/// What a zstd frame's compressed blocks carry from one block to the next (RFC 8878 section
/// 3.1.1.3): the last Huffman table (for treeless literals), the last table of each sequence
/// field (for the repeat mode) and the three repeat offsets. `startFrame()` clears them; the
/// literal and sequence buffers are kept for the next block so they are not reallocated.
struct ZstdBlockDecoder {
    var huffman: ZstdHuffmanTable?
    var literalLengthTable: ZstdSequenceTable?
    var offsetTable: ZstdSequenceTable?
    var matchLengthTable: ZstdSequenceTable?
    var repeatOffsets = (1, 4, 8)
    /// The block's literals, decoded.
    var literals: [UInt8] = []
    /// The block's sequences, decoded, their offsets resolved.
    var sequences: [ZstdSequence] = []

    mutating func startFrame() {
        huffman = nil
        literalLengthTable = nil
        offsetTable = nil
        matchLengthTable = nil
        repeatOffsets = (1, 4, 8)
    }

    /// Decodes the compressed block `block` onto `output`, whose bytes from `frameStart` on are
    /// the frame's so far: at most `blockSizeMax` bytes, and `output` at most `outputLimit`.
    mutating func decodeCompressedBlock(_ block: UnsafeRawBufferPointer, into output: inout [UInt8], frameStart: Int,
                                        blockSizeMax: Int, outputLimit: Int) throws(DecompressionFailure) {
        let literalsSize = try decodeLiterals(block, blockSizeMax: blockSizeMax)
        try decodeSequences(UnsafeRawBufferPointer(rebasing: block[literalsSize...]))
        try execute(into: &output, frameStart: frameStart, blockSizeMax: blockSizeMax, outputLimit: outputLimit)
    }
}
