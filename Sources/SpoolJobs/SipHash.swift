/// SipHash-2-4 of one 64-bit word (its 8 little-endian bytes) under a 128-bit key: a keyed
/// pseudo-random function, so its outputs for distinct words look random and unrelated to anyone
/// without the key.
struct SipHash24 {
    let key: (UInt64, UInt64)

    func hash(_ word: UInt64) -> UInt64 {
        var v0 = key.0 ^ 0x736F_6D65_7073_6575
        var v1 = key.1 ^ 0x646F_7261_6E64_6F6D
        var v2 = key.0 ^ 0x6C79_6765_6E65_7261
        var v3 = key.1 ^ 0x7465_6462_7974_6573
        func round() {
            v0 &+= v1; v1 = v1.rotatedLeft(13); v1 ^= v0; v0 = v0.rotatedLeft(32)
            v2 &+= v3; v3 = v3.rotatedLeft(16); v3 ^= v2
            v0 &+= v3; v3 = v3.rotatedLeft(21); v3 ^= v0
            v2 &+= v1; v1 = v1.rotatedLeft(17); v1 ^= v2; v2 = v2.rotatedLeft(32)
        }
        func compress(_ block: UInt64) {
            v3 ^= block
            round(); round()
            v0 ^= block
        }
        // The word, then the last block: the length (8) in the top byte.
        compress(word)
        compress(UInt64(8) << 56)
        v2 ^= 0xFF
        round(); round(); round(); round()
        return v0 ^ v1 ^ v2 ^ v3
    }
}

extension UInt64 {
    func rotatedLeft(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}
