@testable import SpoolFormat
import Testing

/// XXH64, which zstd's frame checksums take the low 32 bits of, against xxHash's published values
/// and Python's `xxhash` 4.1 on inputs that reach each of its tails (32-byte stripes, 8- and
/// 4-byte words, single bytes).
@Suite struct XXHash64Tests {
    private func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { XXHash64.hash($0, seed: seed) }
    }

    @Test func knownValues() {
        #expect(hash([]) == 0xEF46_DB37_51D8_E999)
        #expect(hash(Array("a".utf8)) == 0xD24E_C4F1_A98C_6E5B)
        #expect(hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
    }

    /// `ZstdFixtures.noise(length, seed: 11)`, hashed by Python's `xxhash.xxh64`.
    @Test(arguments: [
        (4, 0, 0x8CF2_0813_929C_8698),
        (8, 0, 0x6B40_6B86_A792_FFF9),
        (31, 0, 0xCA08_587A_75F0_6735),
        (32, 0, 0x4027_C20C_177B_7BF5),
        (33, 0, 0x7456_0732_D6C0_DC41),
        (100, 0, 0x1F6B_8550_7F1C_65AD),
        (1000, 0, 0xC800_69FA_5C2A_42AC),
        (100, 0x9E37_79B1, 0xFDA0_596A_015D_8486),
    ] as [(Int, UInt64, UInt64)])
    func longerInputs(length: Int, seed: UInt64, expected: UInt64) {
        #expect(hash(ZstdFixtures.noise(length, seed: 11), seed: seed) == expected)
    }
}
