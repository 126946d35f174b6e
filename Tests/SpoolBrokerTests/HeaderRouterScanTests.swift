@testable import SpoolBroker
import SpoolFormat
import Testing

/// Which batches the header router decodes: only those whose bytes name one of the two headers it
/// acts on. A job's own headers (`spool-job-id`, `spool-attempt`, …) no longer make every job
/// batch decoded on its way in.
@Suite struct HeaderRouterScanTests {
    static func mayCarry(_ headers: [RecordHeader], value: String = "{}") throws -> Bool {
        let batch = RecordBatch(producing: [ProducerRecord(key: [1], value: Array(value.utf8), headers: headers, timestamp: 1)]).encoded()
        return try batch.withUnsafeBytes { raw in try HeaderRouter.mayCarryHeaders(raw, try RecordBatchHeader(parsing: raw)) }
    }

    @Test func onlyTheRoutedHeadersMakeABatchDecoded() throws {
        let job = [RecordHeader(SpoolHeaders.jobId, "0f3c"), RecordHeader(SpoolHeaders.attempt, "1"), RecordHeader(SpoolHeaders.jobType, "Email")]
        #expect(try !Self.mayCarry(job))
        #expect(try !Self.mayCarry([]))
        #expect(try Self.mayCarry(job + [RecordHeader(SpoolHeaders.deliverAt, "1764000000000")]))
        #expect(try Self.mayCarry([RecordHeader(SpoolHeaders.idempotencyKey, "order-7")] + job))
        // The name in a value is a false alarm: decoding then finds no header to act on.
        #expect(try Self.mayCarry(job, value: "{\"note\":\"spool-deliver-at\"}"))
    }

    @Test func byteSearchFindsANeedleAnywhereAndNothingElse() {
        let haystack = Array("xxspool-deliver-at spool-idempotency-key".utf8)
        haystack.withUnsafeBytes { raw in
            #expect(ByteSearch.contains(raw, Array("spool-deliver-at".utf8)))
            #expect(ByteSearch.contains(raw, Array("idempotency-key".utf8)), "at the very end")
            #expect(ByteSearch.contains(raw, Array("xx".utf8)), "at the very start")
            #expect(!ByteSearch.contains(raw, Array("spool-deliver-at!".utf8)))
            #expect(!ByteSearch.contains(UnsafeRawBufferPointer(rebasing: raw[0..<10]), Array("spool-deliver-at".utf8)), "longer than the haystack")
            #expect(!ByteSearch.contains(raw, []))
        }
        #expect(!ByteSearch.contains(UnsafeRawBufferPointer(start: nil, count: 0), Array("a".utf8)))
    }
}
