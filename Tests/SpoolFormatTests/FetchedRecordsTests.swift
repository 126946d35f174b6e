import SpoolFormat
import Testing

@Suite struct FetchedRecordsTests {
    private func batch(base: Int64, values: [String], attributes: BatchAttributes = .init()) -> [UInt8] {
        var batch = RecordBatch(producing: values.map { ProducerRecord(key: Array("k".utf8), value: Array($0.utf8), timestamp: 1_000) }, attributes: attributes)
        batch.baseOffset = base
        return batch.encoded()
    }

    @Test func readsFromTheRequestedOffsetAndStopsBeforeAPartialBatch() {
        let whole = batch(base: 10, values: ["a", "b", "c"]) + batch(base: 13, values: ["d"])
        let partial = Array(batch(base: 14, values: ["e", "f"]).prefix(40))
        let fetched = FetchedRecords(decoding: whole + partial, topic: "t", partition: 2, from: 11)
        #expect(fetched.records.map(\.offset) == [11, 12, 13])
        #expect(fetched.records.map(\.valueString) == ["b", "c", "d"])
        #expect(fetched.records.allSatisfy { $0.topicPartition == TopicPartition("t", 2) })
        #expect(fetched.next == 14)
        #expect(fetched.unreadable == nil)
    }

    @Test func stepsOverControlBatches() {
        let control = batch(base: 3, values: ["marker"], attributes: BatchAttributes(rawValue: 1 << 5 | 1 << 4))
        let fetched = FetchedRecords(decoding: batch(base: 0, values: ["a", "b", "c"]) + control + batch(base: 4, values: ["d"]), topic: "t", partition: 0, from: 0)
        #expect(fetched.records.map(\.offset) == [0, 1, 2, 4])
        #expect(fetched.next == 5)
    }

    @Test func stopsAtABatchThatDoesNotDecompressInsteadOfSkippingIt() {
        let gzip = batch(base: 2, values: ["x", "y"], attributes: BatchAttributes(compression: .zstd))
        let fetched = FetchedRecords(decoding: batch(base: 0, values: ["a", "b"]) + gzip + batch(base: 4, values: ["c"]), topic: "jobs", partition: 1, from: 0)
        // The records before it are handed out; the next fetch starts at the batch, so nothing
        // after it is handed out (and committed) past records never read.
        #expect(fetched.records.map(\.offset) == [0, 1])
        #expect(fetched.next == 2)
        let unreadable = fetched.unreadable
        #expect(unreadable?.offset == 2)
        #expect(unreadable?.reason == .undecompressable(.zstd, reason: "not in zstd format"))
        #expect(unreadable?.description == "the batch at offset 2 of jobs[1] cannot be read: records compressed with zstd do not inflate: not in zstd format")
    }

    @Test func emptyBytesReadNothing() {
        let fetched = FetchedRecords(decoding: [], topic: "t", partition: 0, from: 7)
        #expect(fetched.records.isEmpty && fetched.next == 7 && fetched.unreadable == nil)
    }
}

@Suite struct RecordCursorTests {
    private func batch(base: Int64, values: [String], attributes: BatchAttributes = .init()) -> [UInt8] {
        var batch = RecordBatch(producing: values.map { ProducerRecord(key: nil, value: Array($0.utf8), timestamp: 1_000) }, attributes: attributes)
        batch.baseOffset = base
        return batch.encoded()
    }

    @Test func takesAFewRecordsAtATimeAcrossBatchesAndMovesPastWhatItTook() {
        let control = batch(base: 14, values: ["marker"], attributes: BatchAttributes(rawValue: 1 << 5 | 1 << 4))
        let bytes = batch(base: 10, values: ["a", "b", "c"]) + batch(base: 13, values: ["d"]) + control + batch(base: 15, values: ["e", "f"])
        var cursor = RecordCursor(bytes, topic: "t", partition: 3, from: 11)
        #expect(cursor.next == 11 && !cursor.isExhausted)
        var records: [ConsumedRecord] = []
        cursor.take(upTo: 1, into: &records)
        // Part of a batch taken: the position is the first record not taken.
        #expect(records.map(\.offset) == [11] && cursor.next == 12)
        cursor.take(upTo: 2, into: &records)
        #expect(records.map(\.offset) == [11, 12, 13] && cursor.next == 14)
        records = []
        cursor.take(upTo: 1, into: &records)
        // The control batch is stepped over on the way to the next record.
        #expect(records.map(\.valueString) == ["e"] && records.allSatisfy { $0.topicPartition == TopicPartition("t", 3) })
        #expect(cursor.next == 16 && !cursor.isExhausted)
        #expect(cursor.takeAll().map(\.offset) == [16])
        #expect(cursor.next == 17 && cursor.isExhausted && cursor.unreadable == nil)
        #expect(cursor.takeAll().isEmpty && cursor.next == 17)
    }

    @Test func aCursorTakenWholeMatchesTheEagerRead() {
        let partial = Array(batch(base: 5, values: ["x", "y"]).prefix(30))
        let bytes = batch(base: 0, values: ["a", "b", "c"]) + batch(base: 3, values: ["d", "e"]) + partial
        var cursor = RecordCursor(bytes, topic: "t", partition: 0, from: 1)
        let eager = FetchedRecords(decoding: bytes, topic: "t", partition: 0, from: 1)
        var taken: [ConsumedRecord] = []
        while !cursor.isExhausted { cursor.take(upTo: 2, into: &taken) }
        #expect(taken == eager.records && taken.map(\.offset) == [1, 2, 3, 4])
        // The partial batch is the next fetch's.
        #expect(cursor.next == eager.next && cursor.next == 5)
    }

    /// A job enqueued per request is a batch of one record: a poll gathers hundreds of them.
    @Test func aPollGathersManyOneRecordBatchesInOrder() {
        let bytes = (0..<1_000).flatMap { batch(base: Int64($0), values: ["v\($0)"]) }
        var cursor = RecordCursor(bytes, topic: "t", partition: 0, from: 0)
        var records: [ConsumedRecord] = []
        cursor.take(upTo: 1, into: &records)
        cursor.take(upTo: 600, into: &records)
        #expect(records.map(\.offset) == Array(0..<601) && records.last?.valueString == "v600" && cursor.next == 601)
        records = cursor.takeAll()
        #expect(records.map(\.offset) == Array(601..<1_000) && cursor.isExhausted && cursor.next == 1_000)
    }

    @Test func anUnreadableBatchStopsTheCursorAfterTheRecordsBeforeIt() {
        let gzip = batch(base: 2, values: ["x"], attributes: BatchAttributes(compression: .zstd))
        var cursor = RecordCursor(batch(base: 0, values: ["a", "b"]) + gzip + batch(base: 3, values: ["c"]), topic: "jobs", partition: 0, from: 0)
        var records: [ConsumedRecord] = []
        cursor.take(upTo: 1, into: &records)
        #expect(records.map(\.offset) == [0] && cursor.unreadable == nil)
        cursor.take(upTo: 10, into: &records)
        #expect(records.map(\.offset) == [0, 1])
        #expect(cursor.isExhausted && cursor.next == 2 && cursor.unreadable?.offset == 2)
    }
}
