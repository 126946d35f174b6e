/// The literals section of a compressed block (RFC 8878 section 3.1.1.3.1): the bytes that the
/// block's sequences copy before their matches, stored raw, as one byte repeated, or Huffman
/// coded in one stream or four, with a new table or the previous block's (treeless).
extension ZstdBlockDecoder {
    /// Decodes the literals section at the start of `block` into `literals`; returns its size.
    mutating func decodeLiterals(_ block: UnsafeRawBufferPointer, blockSizeMax: Int) throws(DecompressionFailure) -> Int {
        guard let first = block.first else { throw DecompressionFailure(reason: "corrupt zstd literals") }
        let type = first & 3, sizeFormat = Int(first >> 2) & 3
        literals.removeAll(keepingCapacity: true)
        if type < 2 {
            // Raw or RLE: a 5-, 12- or 20-bit regenerated size in 1, 2 or 3 bytes.
            let headerSize = sizeFormat & 1 == 0 ? 1 : sizeFormat == 1 ? 2 : 3
            guard block.count >= headerSize else { throw DecompressionFailure(reason: "corrupt zstd literals") }
            let header = littleEndian(block, count: headerSize)
            let size = sizeFormat & 1 == 0 ? header >> 3 : header >> 4
            guard size <= blockSizeMax else { throw DecompressionFailure(reason: "corrupt zstd literals") }
            if type == 0 {
                guard block.count - headerSize >= size else { throw DecompressionFailure(reason: "corrupt zstd literals") }
                literals.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[headerSize..<(headerSize + size)]))
                return headerSize + size
            }
            guard block.count > headerSize else { throw DecompressionFailure(reason: "corrupt zstd literals") }
            literals.append(contentsOf: repeatElement(block[headerSize], count: size))
            return headerSize + 1
        }
        // Huffman coded: regenerated and compressed sizes of 10, 10, 14 or 18 bits each.
        let headerSize = [3, 3, 4, 5][sizeFormat], sizeBits = [10, 10, 14, 18][sizeFormat]
        let streamCount = sizeFormat == 0 ? 1 : 4
        guard block.count >= headerSize else { throw DecompressionFailure(reason: "corrupt zstd literals") }
        let header = littleEndian(block, count: headerSize)
        let regeneratedSize = (header >> 4) & ((1 << sizeBits) - 1)
        let compressedSize = header >> (4 + sizeBits)
        guard regeneratedSize <= blockSizeMax else { throw DecompressionFailure(reason: "corrupt zstd literals") }
        guard block.count - headerSize >= compressedSize else { throw DecompressionFailure(reason: "corrupt zstd literals") }
        var streams = UnsafeRawBufferPointer(rebasing: block[headerSize..<(headerSize + compressedSize)])
        if type == 2 {
            let (table, size) = try ZstdHuffmanTable.read(streams)
            huffman = table
            streams = UnsafeRawBufferPointer(rebasing: streams[size...])
        }
        guard let huffman else { throw DecompressionFailure(reason: "treeless zstd literals without a previous huffman table") }
        literals.append(contentsOf: repeatElement(0, count: regeneratedSize))
        try literals.withUnsafeMutableBufferPointer { (output) throws(DecompressionFailure) in
            if streamCount == 1 {
                try huffman.decode(streams, into: output)
                return
            }
            // A jump table of the first three streams' sizes; the fourth is the rest.
            guard streams.count >= 6 else { throw DecompressionFailure(reason: "corrupt zstd literals") }
            var sizes = (0..<3).map { Int(streams[2 * $0]) | Int(streams[2 * $0 + 1]) << 8 }
            sizes.append(streams.count - 6 - sizes.reduce(0, +))
            let segment = (regeneratedSize + 3) / 4
            guard sizes[3] >= 0, regeneratedSize >= 3 * segment else { throw DecompressionFailure(reason: "corrupt zstd literals") }
            var start = 6
            for (index, size) in sizes.enumerated() {
                let outputStart = index * segment, outputEnd = index == 3 ? regeneratedSize : outputStart + segment
                try huffman.decode(UnsafeRawBufferPointer(rebasing: streams[start..<(start + size)]),
                                   into: UnsafeMutableBufferPointer(rebasing: output[outputStart..<outputEnd]))
                start += size
            }
        }
        return headerSize + compressedSize
    }

    /// The little-endian number in the first `count` (at most 8) bytes of `bytes`.
    private func littleEndian(_ bytes: UnsafeRawBufferPointer, count: Int) -> Int {
        var value = 0
        for index in 0..<count { value |= Int(bytes[index]) << (8 * index) }
        return value
    }
}
