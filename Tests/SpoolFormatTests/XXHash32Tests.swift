@testable import SpoolFormat
import Testing

/// XXH32 against the values of Python's `xxhash` (the reference C library): the known vectors,
/// seeds, and every length from 0 to 39, which take each path through the stripes and the tail.
@Suite struct XXHash32Tests {
    private func hash(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { raw in XXHash32.hash(raw, seed: seed) }
    }

    @Test(arguments: [
        ("", UInt32(0), UInt32(0x02CC_5D05)),
        ("a", 0, 0x550D_7456),
        ("abc", 0, 0x32D1_53FF),
        ("Nobody inspects the spammish repetition", 0, 0xE229_3B2F),
        ("", 1, 0x0B2C_B792),
        ("Nobody inspects the spammish repetition", 0x9E37_79B1, 0xC9E8_9E68),
    ])
    func knownVectors(text: String, seed: UInt32, expected: UInt32) {
        #expect(hash(Array(text.utf8), seed: seed) == expected)
    }

    /// xxh32 of the bytes 0, 1, … n - 1, for n from 0 to 39.
    static let countingUp: [UInt32] = [
        0x02CC_5D05, 0xCF65_B03E, 0xC671_E7B8, 0x663E_9A55, 0x8069_1E66, 0x9EA1_B7C4, 0x8741_31DF, 0xA743_36DC,
        0xA3AD_90B9, 0x3F5E_B53F, 0x6CCC_A2A6, 0xB718_1399, 0x6067_34AB, 0xE31D_9D5A, 0xB404_96FA, 0x57C0_1ECE,
        0xB728_37F4, 0x7C77_ADC2, 0x9410_1D96, 0x1BD0_703F, 0x828B_819C, 0xC6BA_B491, 0xD67A_1CD1, 0xC846_1E09,
        0x4C5B_8323, 0x0843_1EF5, 0x37F1_07D9, 0xCBEA_6BCF, 0x7958_6156, 0x1436_F6FD, 0xBA9D_F801, 0xEF24_F709,
        0x8307_41C1, 0xF1E6_A545, 0xDADD_B915, 0x644C_3CED, 0x5811_8A69, 0x7786_32D9, 0xE60E_6DD2, 0xDDD4_6630,
    ]

    @Test func everyLengthUpToTwoStripesAndATail() {
        for (count, expected) in Self.countingUp.enumerated() {
            #expect(hash((0..<count).map { UInt8($0) }) == expected, "\(count) bytes")
        }
    }

    @Test func aSliceHashesAsItsBytes() {
        let bytes = Array("Nobody inspects the spammish repetition".utf8)
        #expect(XXHash32.hash(([0xFF] + bytes + [0xFF])[1...bytes.count]) == 0xE229_3B2F)
    }
}
