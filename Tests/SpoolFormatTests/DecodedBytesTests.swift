@testable import SpoolFormat
import Testing

/// What the decompressors write through: LZ77 back-references (gzip's length-distance pairs,
/// snappy's copies, lz4's matches) against the byte-at-a-time copy that defines them, for every
/// distance and length up to past where the chunked copy of an overlapping one doubles several
/// times, and growth past the first allocation.
@Suite struct DecodedBytesTests {
    /// What a back-reference appends, one byte at a time.
    private func byteByByte(_ bytes: [UInt8], distance: Int, length: Int) -> [UInt8] {
        var output = bytes
        for _ in 0..<length { output.append(output[output.count - distance]) }
        return output
    }

    private func decoded(_ bytes: [UInt8], capacity: Int) -> DecodedBytes {
        var decoded = DecodedBytes(capacity: capacity)
        bytes.withUnsafeBytes { decoded.append($0) }
        return decoded
    }

    @Test func everyDistanceAndLengthCopiesAsByteByByte() {
        let written: [UInt8] = (0..<40).map { UInt8(($0 * 37 + 11) & 0xFF) }
        for distance in 1...written.count {
            for length in 0...100 {
                var output = decoded(written, capacity: 41)
                output.copy(distance: distance, length: length)
                #expect(output.array() == byteByByte(written, distance: distance, length: length), "distance \(distance), length \(length)")
            }
        }
    }

    @Test func bytesRunsAndCopiesGrowPastTheFirstAllocation() {
        var output = DecodedBytes(capacity: 1)
        var expected: [UInt8] = []
        for round in 0..<2_000 {
            output.append(UInt8(round & 0xFF))
            expected.append(UInt8(round & 0xFF))
            let run: [UInt8] = [1, 2, 3]
            run.withUnsafeBytes { output.append($0) }
            expected += run
            output.copy(distance: 4, length: 9)
            expected = byteByByte(expected, distance: 4, length: 9)
        }
        #expect(output.count == 2_000 * 13)
        #expect(output.array() == expected)
    }
}
