/// gzip (RFC 1952) as Kafka's gzip codec writes a batch's records (`GZIPOutputStream`) and reads
/// them (`GZIPInputStream`): members of a header, a DEFLATE stream and a trailer holding the
/// CRC-32 and the length of what the member inflates to, both checked. As Java's reader does,
/// bytes after a member that do not start another are left alone.
enum Gzip {
    /// The bytes `compressed` inflates to, at most `outputLimit` of them.
    static func decompress(_ compressed: UnsafeRawBufferPointer, outputLimit: Int) throws(DecompressionFailure) -> [UInt8] {
        // One inflater for every member: they inflate into one output, each member's trailer
        // checked against its part of it.
        var inflater = Inflater(compressed, from: try memberStart(compressed, at: 0), outputLimit: outputLimit)
        while true {
            let memberStart = inflater.count
            try inflater.run()
            let position = inflater.position
            guard compressed.count - position >= 8 else { throw DecompressionFailure(reason: "the gzip trailer is cut short") }
            let crc = littleEndian32(compressed, at: position), size = littleEndian32(compressed, at: position + 4)
            guard crc == inflater.checksum(from: memberStart), size == UInt32(truncatingIfNeeded: inflater.count - memberStart) else {
                throw DecompressionFailure(reason: "corrupt gzip trailer")
            }
            guard let next = try? Self.memberStart(compressed, at: position + 8) else { return inflater.output }
            inflater.move(to: next)
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

/// CRC-32 (ISO-HDLC, the one zlib and gzip use), not the CRC-32C of record batches: eight bytes
/// a step through eight tables ("slicing-by-8"), the rest a byte at a time.
enum CRC32 {
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
            tables[index] = crc
        }
        for index in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = tables[Int(previous & 0xFF)] ^ (previous >> 8)
            }
        }
        return tables
    }()

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xFFFF_FFFF
            var at = 0
            while bytes.count - at >= 8 {
                let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) ^ UInt64(crc)
                crc = table[7 * 256 + Int(word & 0xFF)] ^ table[6 * 256 + Int((word >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((word >> 16) & 0xFF)] ^ table[4 * 256 + Int((word >> 24) & 0xFF)]
                    ^ table[3 * 256 + Int((word >> 32) & 0xFF)] ^ table[2 * 256 + Int((word >> 40) & 0xFF)]
                    ^ table[1 * 256 + Int((word >> 48) & 0xFF)] ^ table[Int(word >> 56)]
                at += 8
            }
            while at < bytes.count {
                crc = table[Int((crc ^ UInt32(bytes[at])) & 0xFF)] ^ (crc >> 8)
                at += 1
            }
            return ~crc
        }
    }
}
