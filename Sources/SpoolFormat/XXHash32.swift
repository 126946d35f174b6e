/// xxHash's 32-bit hash (XXH32), the checksum of the LZ4 frame format (`LZ4Frame`): of a frame's
/// descriptor, of each block when the frame asks for it, and of the whole content.
enum XXHash32 {
    private static let prime1: UInt32 = 0x9E37_79B1
    private static let prime2: UInt32 = 0x85EB_CA77
    private static let prime3: UInt32 = 0xC2B2_AE3D
    private static let prime4: UInt32 = 0x27D4_EB2F
    private static let prime5: UInt32 = 0x1656_67B1

    /// The XXH32 of `bytes` with `seed`.
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        var position = 0
        var accumulator: UInt32
        if bytes.count >= 16 {
            // Four lanes, each taking every fourth 32-bit word of the 16-byte stripes.
            var lanes = (seed &+ prime1 &+ prime2, seed &+ prime2, seed, seed &- prime1)
            while bytes.count - position >= 16 {
                lanes.0 = round(lanes.0, word(bytes, at: position))
                lanes.1 = round(lanes.1, word(bytes, at: position + 4))
                lanes.2 = round(lanes.2, word(bytes, at: position + 8))
                lanes.3 = round(lanes.3, word(bytes, at: position + 12))
                position += 16
            }
            accumulator = rotate(lanes.0, 1) &+ rotate(lanes.1, 7) &+ rotate(lanes.2, 12) &+ rotate(lanes.3, 18)
        } else {
            accumulator = seed &+ prime5
        }
        accumulator &+= UInt32(truncatingIfNeeded: bytes.count)
        while bytes.count - position >= 4 {
            accumulator = rotate(accumulator &+ word(bytes, at: position) &* prime3, 17) &* prime4
            position += 4
        }
        while position < bytes.count {
            accumulator = rotate(accumulator &+ UInt32(bytes[position]) &* prime5, 11) &* prime1
            position += 1
        }
        accumulator ^= accumulator >> 15
        accumulator &*= prime2
        accumulator ^= accumulator >> 13
        accumulator &*= prime3
        accumulator ^= accumulator >> 16
        return accumulator
    }

    /// The XXH32 of `bytes` with `seed`.
    static func hash(_ bytes: ArraySlice<UInt8>, seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { raw in hash(raw, seed: seed) }
    }

    private static func round(_ lane: UInt32, _ input: UInt32) -> UInt32 {
        rotate(lane &+ input &* prime2, 13) &* prime1
    }

    private static func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 {
        value << count | value >> (32 - count)
    }

    private static func word(_ bytes: UnsafeRawBufferPointer, at position: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }
}
