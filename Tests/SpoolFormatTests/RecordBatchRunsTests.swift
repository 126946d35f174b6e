import SpoolFormat
import Testing

/// `RecordBatch.producingRuns` decides how records are split into batches under a size limit:
/// every run's batch must fit, and runs must be as long as the limit allows (each extra batch
/// costs its header), with the records in order.
@Suite struct RecordBatchRunsTests {
    private func records(_ sizes: [Int], timestamps: [Int64]? = nil) -> [ProducerRecord] {
        sizes.enumerated().map { index, size in
            ProducerRecord(key: Array("k\(index)".utf8), value: Array(repeating: 7, count: size),
                           headers: [RecordHeader("spool-job-id", "job-\(index)")], timestamp: timestamps?[index] ?? 1_000)
        }
    }

    @Test(arguments: [100, 300, 1_000, 4_096])
    func everyRunFitsAndNoTwoNeighboursWouldHaveFit(limit: Int) {
        // Timestamps far apart make the deltas, and so the record sizes, depend on the run.
        let all = records((0..<60).map { ($0 * 37) % 200 }, timestamps: (0..<60).map { Int64($0) * 1 << 40 })
        let runs = RecordBatch.producingRuns(all, maxBytes: limit)
        #expect(Array(runs.joined()) == all, "records lost or reordered")
        for (index, run) in runs.enumerated() {
            let size = RecordBatch(producing: Array(run)).encoded().count
            #expect(size <= limit || run.count == 1, "a run of \(run.count) records is \(size) bytes, over \(limit)")
            if index + 1 < runs.count {
                let grown = RecordBatch(producing: Array(run) + [runs[index + 1].first!]).encoded().count
                #expect(grown > limit, "run \(index) could have taken the next record")
            }
        }
    }

    @Test func aRecordOverTheLimitAloneIsARunOfItsOwn() {
        let all = records([10, 5_000, 10])
        let runs = RecordBatch.producingRuns(all, maxBytes: 1_000)
        #expect(runs.map(\.count) == [1, 1, 1])
        #expect(RecordBatch.producingRuns([], maxBytes: 1_000).isEmpty)
    }
}
