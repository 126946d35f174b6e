@testable import SpoolFormat
import Testing

/// A fetched batch's baseOffset is not covered by its CRC, and a broker (or a corrupt response)
/// can send any: the cursor reports an impossible offset range as an unreadable batch, whichever
/// kind of record it hands out, and never traps or skips the batch without a word.
@Suite struct RecordCursorOffsetRangeTests {
    private static let records = [ProducerRecord(key: nil, value: Array("a".utf8), timestamp: 1), ProducerRecord(key: nil, value: Array("b".utf8), timestamp: 2)]

    private func batch(base: Int64) -> [UInt8] {
        var batch = RecordBatch(producing: Self.records)
        batch.baseOffset = base
        return batch.encoded()
    }

    /// The batch with its lastOffsetDelta (big-endian, after the attributes) set to `delta`, CRC made again.
    private func withDelta(_ delta: Int32, _ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        let at = RecordBatchLayout.crcStart + 2
        withUnsafeBytes(of: delta.bigEndian) { for (index, byte) in $0.enumerated() { bytes[at + index] = byte } }
        let crc = CRC32C.checksum(bytes[RecordBatchLayout.crcStart...])
        withUnsafeBytes(of: crc.bigEndian) { for (index, byte) in $0.enumerated() { bytes[RecordBatchLayout.crcStart - 4 + index] = byte } }
        return bytes
    }

    /// What each kind of cursor makes of `bytes` fetched from `from`: records taken, where it
    /// stopped and why.
    private func read(_ bytes: [UInt8], from: Int64) -> (consumed: Int, views: Int, next: [Int64], unreadable: [FetchError?]) {
        var plain = RecordCursor(bytes, topic: "t", partition: 0, from: from)
        var consumed: [ConsumedRecord] = []
        plain.take(upTo: .max, into: &consumed)
        var inPlace = RecordCursor(bytes, topic: "t", partition: 0, from: from)
        var views: [BatchRecord] = []
        inPlace.take(upTo: .max, into: &views)
        return (consumed.count, views.count, [plain.next, inPlace.next], [plain.unreadable, inPlace.unreadable])
    }

    @Test("a baseOffset whose last offset would pass Int64.max is an unreadable batch, not a trap", arguments: [Int64.max, Int64.max - 1])
    func baseOffsetNearTheTop(base: Int64) {
        let result = read(batch(base: 5) + batch(base: base), from: 5)
        #expect(result.consumed == 2 && result.views == 2)
        #expect(result.next == [7, 7])
        let expected = FetchError(topicPartition: TopicPartition("t", 0), offset: 7, reason: .invalidBaseOffset(base))
        #expect(result.unreadable == [expected, expected])
    }

    @Test("a negative baseOffset is an unreadable batch")
    func negativeBaseOffset() {
        let result = read(batch(base: -4), from: 0)
        #expect(result.consumed == 0 && result.views == 0)
        let expected = FetchError(topicPartition: TopicPartition("t", 0), offset: 0, reason: .invalidBaseOffset(-4))
        #expect(result.unreadable == [expected, expected])
    }

    @Test("a negative lastOffsetDelta is an unreadable batch, not one skipped as read already")
    func negativeDelta() {
        let result = read(withDelta(-3, batch(base: 10)), from: 10)
        #expect(result.consumed == 0 && result.views == 0)
        #expect(result.next == [10, 10])
        let expected = FetchError(topicPartition: TopicPartition("t", 0), offset: 10, reason: .inconsistentOffsetRange(lastOffsetDelta: -3, recordsCount: 2))
        #expect(result.unreadable == [expected, expected])
    }

    @Test("a batch at the highest offsets it can have is read")
    func highestValidBase() {
        let base = Int64.max - 2
        let result = read(batch(base: base), from: base)
        #expect(result.consumed == 2 && result.views == 2)
        #expect(result.next == [Int64.max, Int64.max])
        #expect(result.unreadable == [nil, nil])
    }
}
