@testable import SpoolFormat
import Testing

/// LZ77 back-references (gzip's length-distance pairs, snappy's copies, lz4's matches) against
/// the byte-at-a-time copy that defines them, for every distance and length up to past where
/// the chunked copy of an overlapping one doubles several times.
@Suite struct BackReferenceTests {
    /// What a back-reference appends, one byte at a time.
    private func byteByByte(_ bytes: [UInt8], distance: Int, length: Int) -> [UInt8] {
        var output = bytes
        for _ in 0..<length { output.append(output[output.count - distance]) }
        return output
    }

    @Test func everyDistanceAndLengthCopiesAsByteByByte() {
        let written: [UInt8] = (0..<40).map { UInt8(($0 * 37 + 11) & 0xFF) }
        for distance in 1...written.count {
            for length in 0...100 {
                var output = written
                output.appendBackReference(distance: distance, length: length)
                #expect(output == byteByByte(written, distance: distance, length: length), "distance \(distance), length \(length)")
            }
        }
    }

    @Test func manyShortCopiesGrowTheArrayByDoubling() {
        var output: [UInt8] = [1, 2, 3]
        var capacities: Set<Int> = []
        for _ in 0..<10_000 {
            output.appendBackReference(distance: 3, length: 4)
            capacities.insert(output.capacity)
        }
        #expect(output.count == 3 + 40_000)
        #expect(output.suffix(6) == [2, 3, 1, 2, 3, 1])
        #expect(capacities.count < 20, "the capacity grew \(capacities.count) times for 40,000 bytes")
    }
}
