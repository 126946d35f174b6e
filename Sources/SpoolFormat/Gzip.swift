/// gzip (RFC 1952) as Kafka's gzip codec writes a batch's records (`GZIPOutputStream`) and reads
/// them (`GZIPInputStream`): members of a header, a DEFLATE stream and a trailer holding the
/// CRC-32 and the length of what the member inflates to, both checked. As Java's reader does,
/// bytes after a member that do not start another are left alone.
enum Gzip {
    /// The bytes `compressed` inflates to, at most `outputLimit` of them.
    static func decompress(_ compressed: UnsafeRawBufferPointer, outputLimit: Int) throws(DecompressionFailure) -> [UInt8] {
        var output: [UInt8] = []
        var position = try memberStart(compressed, at: 0)
        while true {
            var inflater = Inflater(compressed, from: position, outputLimit: outputLimit - output.count)
            try inflater.run()
            position = inflater.position
            guard compressed.count - position >= 8 else { throw DecompressionFailure(reason: "the gzip trailer is cut short") }
            let crc = littleEndian32(compressed, at: position), size = littleEndian32(compressed, at: position + 4)
            guard crc == CRC32.checksum(inflater.output), size == UInt32(truncatingIfNeeded: inflater.output.count) else {
                throw DecompressionFailure(reason: "corrupt gzip trailer")
            }
            output.append(contentsOf: inflater.output)
            position += 8
            guard let next = try? memberStart(compressed, at: position) else { return output }
            position = next
        }
    }

    /// Where the DEFLATE stream of the member whose header starts at `start` begins.
    private static func memberStart(_ bytes: UnsafeRawBufferPointer, at start: Int) throws(DecompressionFailure) -> Int {
        let fixedHeaderSize = 10
        guard bytes.count - start >= fixedHeaderSize, bytes[start] == 0x1F, bytes[start + 1] == 0x8B else { throw DecompressionFailure(reason: "not in gzip format") }
        guard bytes[start + 2] == 8 else { throw DecompressionFailure(reason: "unsupported compression method \(bytes[start + 2])") }
        let flags = bytes[start + 3]
        var position = start + fixedHeaderSize
        if flags & 0x04 != 0 {  // FEXTRA: a little-endian length, then that many bytes.
            guard bytes.count - position >= 2 else { throw DecompressionFailure(reason: "the gzip header is cut short") }
            position += 2 + (Int(bytes[position]) | Int(bytes[position + 1]) << 8)
        }
        for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT: zero-terminated.
            while position < bytes.count, bytes[position] != 0 { position += 1 }
            position += 1
        }
        if flags & 0x02 != 0 { position += 2 }  // FHCRC
        guard position <= bytes.count else { throw DecompressionFailure(reason: "the gzip header is cut short") }
        return position
    }

    private static func littleEndian32(_ bytes: UnsafeRawBufferPointer, at position: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }
}

/// CRC-32 (ISO-HDLC, the one zlib and gzip use), not the CRC-32C of record batches.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        return crc
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }
}
