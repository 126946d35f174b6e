import SpoolFormat
import Testing

/// Header keys decode to text: ASCII by a direct path, anything else validated as UTF-8, and a
/// batch whose header key is not UTF-8 is refused as malformed.
@Suite struct HeaderKeyTextTests {
    static func roundTrip(_ keys: [[UInt8]]) throws -> [String] {
        let headers = keys.map { RecordHeader(key: String(decoding: $0, as: UTF8.self), value: [1]) }
        let batch = RecordBatch(producing: [ProducerRecord(key: [1], value: [2], headers: headers, timestamp: 1)]).encoded()
        return try RecordBatch(decoding: batch).records[0].headers.map(\.key)
    }

    @Test func asciiAndOtherUTF8KeysComeBackAsSent() throws {
        let keys = ["spool-job-id", "", "traceparent", "clé", "キー", "emoji 🎉"]
        #expect(try Self.roundTrip(keys.map { Array($0.utf8) }) == keys)
    }

    static func recomputeCRC(_ bytes: inout [UInt8]) {
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[RecordBatchLayout.crcStart...])) }
        bytes.storeBigEndian(crc, at: RecordBatchLayout.crc)
    }

    @Test func aKeyThatIsNotUTF8IsRefused() throws {
        // Encode a valid key, then turn its first byte into a lone continuation byte (0x80): the
        // CRC is fixed up so that only the text is wrong.
        var bytes = RecordBatch(producing: [ProducerRecord(key: [1], value: [2], headers: [RecordHeader(key: "zzzz", value: nil)], timestamp: 1)]).encoded()
        let at = try #require(bytes.indices.first { bytes[$0...].starts(with: Array("zzzz".utf8)) })
        bytes[at] = 0x80
        Self.recomputeCRC(&bytes)
        #expect(throws: FormatError.self) { try RecordBatch(decoding: bytes) }
        bytes[at] = UInt8(ascii: "y")
        Self.recomputeCRC(&bytes)
        #expect(try RecordBatch(decoding: bytes).records[0].headers[0].key == "yzzz")
    }
}
