/// XXH64 (xxHash's 64-bit hash), as zstd checks a frame's content: a frame with the checksum
/// flag ends with the low 32 bits of XXH64 of its output, seed 0.
enum XXHash64 {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    /// The hash of `bytes` with `seed`.
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let count = bytes.count
        var position = 0
        var hash: UInt64
        if count >= 32 {
            var lane1 = seed &+ prime1 &+ prime2, lane2 = seed &+ prime2, lane3 = seed, lane4 = seed &- prime1
            while count - position >= 32 {
                lane1 = round(lane1, load64(bytes, position))
                lane2 = round(lane2, load64(bytes, position + 8))
                lane3 = round(lane3, load64(bytes, position + 16))
                lane4 = round(lane4, load64(bytes, position + 24))
                position += 32
            }
            hash = lane1.rotated(1) &+ lane2.rotated(7) &+ lane3.rotated(12) &+ lane4.rotated(18)
            for lane in [lane1, lane2, lane3, lane4] { hash = (hash ^ round(0, lane)) &* prime1 &+ prime4 }
        } else {
            hash = seed &+ prime5
        }
        hash &+= UInt64(count)
        while count - position >= 8 {
            hash ^= round(0, load64(bytes, position))
            hash = hash.rotated(27) &* prime1 &+ prime4
            position += 8
        }
        if count - position >= 4 {
            hash ^= UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))) &* prime1
            hash = hash.rotated(23) &* prime2 &+ prime3
            position += 4
        }
        while position < count {
            hash ^= UInt64(bytes[position]) &* prime5
            hash = hash.rotated(11) &* prime1
            position += 1
        }
        hash ^= hash >> 33
        hash &*= prime2
        hash ^= hash >> 29
        hash &*= prime3
        hash ^= hash >> 32
        return hash
    }

    @inline(__always) private static func round(_ accumulator: UInt64, _ input: UInt64) -> UInt64 {
        (accumulator &+ input &* prime2).rotated(31) &* prime1
    }

    @inline(__always) private static func load64(_ bytes: UnsafeRawBufferPointer, _ position: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }
}

extension UInt64 {
    /// Rotated left by `count` bits (0 < `count` < 64).
    @inline(__always) fileprivate func rotated(_ count: Int) -> UInt64 {
        (self &<< UInt64(count)) | (self &>> UInt64(64 - count))
    }
}
