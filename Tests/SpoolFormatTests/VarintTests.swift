import SpoolFormat
import Testing

@Suite struct VarintTests {
    private func encode(_ value: Int64) -> [UInt8] {
        var bytes: [UInt8] = []
        Varint.write(value, to: &bytes)
        return bytes
    }

    private func decode(_ bytes: [UInt8]) throws -> Int64 {
        try bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            let value = try reader.readVarint()
            #expect(reader.remaining == 0)
            return value
        }
    }

    static let examples: [(Int64, [UInt8])] = [
        (0, [0x00]), (-1, [0x01]), (1, [0x02]), (-2, [0x03]), (63, [0x7E]), (-64, [0x7F]),
        (64, [0x80, 0x01]), (300, [0xD8, 0x04]),
    ]

    @Test func documentedExamples() throws {
        for (value, bytes) in Self.examples {
            #expect(encode(value) == bytes, "\(value)")
            #expect(try decode(bytes) == value)
            #expect(Varint.encodedSize(value) == bytes.count)
        }
    }

    @Test func extremesRoundTrip() throws {
        for value: Int64 in [.min, .max, Int64(Int32.min), Int64(Int32.max), -300, 1 << 40] {
            let bytes = encode(value)
            #expect(bytes.count <= Varint.maxBytes64)
            #expect(try decode(bytes) == value)
        }
    }

    @Test func tooLongVarintIsRejected() {
        let bytes = [UInt8](repeating: 0x80, count: 11)
        #expect(throws: FormatError.varintTooLong) { try decode(bytes) }
    }

    @Test func varint32RejectsValuesThatDoNotFit() {
        let bytes = encode(Int64(Int32.max) + 1)
        #expect(throws: FormatError.self) {
            try bytes.withUnsafeBytes { raw in
                var reader = ByteReader(raw)
                _ = try reader.readVarint32()
            }
        }
    }

    @Test func truncatedVarintIsRejected() {
        #expect(throws: FormatError.truncated(needed: 2, available: 1)) { try decode([0x80]) }
    }
}
