import Foundation
import Testing
@testable import SpoolJobs

@Suite("Job metrics: histogram buckets and the counts a report carries")
struct JobMetricsTests {
    @Test("a duration lands in the first bucket whose bound it does not exceed; past the last bound, in +Inf; negative counts as 0")
    func buckets() {
        var histogram = JobHistogram()
        for seconds in [0.001, 0.0011, 3600, 3600.5, -2] { histogram.observe(seconds) }
        var expected = [Int](repeating: 0, count: JobHistogram.bounds.count + 1)
        expected[0] = 2  // 0.001 and the negative one
        expected[1] = 1  // 0.0011
        expected[JobHistogram.bounds.count - 1] = 1  // 3600
        expected[JobHistogram.bounds.count] = 1  // 3600.5: +Inf
        #expect(histogram.counts == expected)
        #expect(histogram.count == 5)
        #expect(histogram.sum == 0.001 + 0.0011 + 3600 + 3600.5)
    }

    @Test("a report's histogram of other buckets, or with a negative count, does not decode")
    func foreignHistogramsAreRefused() throws {
        var histogram = JobHistogram()
        histogram.observe(0.2)
        let good = try JSONEncoder().encode(histogram)
        #expect(try JSONDecoder().decode(JobHistogram.self, from: good) == histogram)
        let short = Data(#"{"counts":[1,2,3],"sum":1}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(JobHistogram.self, from: short) }
        var counts = [Int](repeating: 0, count: JobHistogram.bounds.count + 1)
        counts[3] = -1
        let negative = Data(#"{"counts":\#(counts),"sum":1}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(JobHistogram.self, from: negative) }
    }

    @Test("the recorder counts each outcome once and times every run")
    func recorder() {
        let recorder = JobMetricsRecorder()
        recorder.started(latencySeconds: 0.5)
        recorder.ended(after: 0.01, .succeeded)
        recorder.started(latencySeconds: nil)
        recorder.ended(after: 0.02, .failed)
        recorder.retried()
        recorder.count(.cancelled)
        recorder.deadLettered()
        let metrics = recorder.snapshot
        #expect((metrics.started, metrics.succeeded, metrics.failed, metrics.retried, metrics.cancelled, metrics.deadLettered) == (2, 1, 1, 1, 1, 1))
        #expect(metrics.handlerSeconds.count == 2)
        #expect(metrics.enqueueToStartSeconds.count == 1)
        #expect(metrics.enqueueToStartSeconds.sum == 0.5)
    }

    @Test("runners' shards add up in every snapshot, before and after each is dropped, and a shard dropped twice counts once")
    func shards() {
        let recorder = JobMetricsRecorder()
        recorder.started(latencySeconds: nil)
        recorder.ended(after: 0.5, .failed)
        let (first, second) = (recorder.makeShard(), recorder.makeShard())
        first.started(latencySeconds: 0.25)
        first.ended(after: 0.25, .succeeded)
        second.started(latencySeconds: 1)
        second.ended(after: 0.125, .succeeded)
        second.started(latencySeconds: nil)
        let expect = { (context: String) in
            let metrics = recorder.snapshot
            #expect((metrics.started, metrics.succeeded, metrics.failed) == (4, 2, 1), "\(context)")
            #expect(metrics.handlerSeconds.count == 3 && metrics.handlerSeconds.sum == 0.875, "\(context)")
            #expect(metrics.enqueueToStartSeconds.count == 2 && metrics.enqueueToStartSeconds.sum == 1.25, "\(context)")
            #expect(recorder.read(\.succeeded) == 2, "\(context)")
        }
        expect("live")
        recorder.drop(first)
        expect("one dropped")
        recorder.drop(second)
        recorder.drop(second)
        expect("both dropped")
    }
}
