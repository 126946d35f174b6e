import Foundation
import SpoolFormat
import Testing
@testable import SpoolJobs

/// The control topic's records folded into `JobControlState`, on its own.
@Suite struct JobControlStateTests {
    @Test("cancellations are new once, pauses toggle with tombstones, and records of other shapes change nothing")
    func folding() throws {
        var state = JobControlState()
        let cancellation = JobCancellation(id: "job-1", cancelledAtMs: 1_000, key: "k")
        #expect(state.apply(controlRecord(try JobControlState.cancelRecord(cancellation), offset: 0)).cancelled == ["job-1"])
        var seen = cancellation
        seen.seen["mailers"] = JobPosition(partition: 2, offset: 7)
        // The same cancellation with where a group met the job: not new, but kept.
        #expect(state.apply(controlRecord(try JobControlState.cancelRecord(seen), offset: 1)).cancelled.isEmpty)
        #expect(state.cancellations["job-1"] == seen)

        #expect(state.apply(controlRecord(try JobControlState.pauseRecord(group: "mailers", pausedAtMs: 5_000), offset: 2)).pauseChanged == ["mailers"])
        #expect(state.pausedGroups["mailers"] == Date(timeIntervalSince1970: 5))
        #expect(state.apply(controlRecord(try JobControlState.pauseRecord(group: "mailers", pausedAtMs: 6_000), offset: 3)).pauseChanged.isEmpty)
        #expect(state.apply(controlRecord(try JobControlState.pauseRecord(group: "mailers", pausedAtMs: nil), offset: 4)).pauseChanged == ["mailers"])
        #expect(state.pausedGroups.isEmpty)

        // A value that is not a cancellation of its key's id, an unknown key, no key: ignored.
        let mismatched = OutgoingRecord(key: Array("cancel/job-2".utf8), value: Array(try JSONEncoder().encode(JobCancellation(id: "job-3", cancelledAtMs: 1))))
        #expect(state.apply(controlRecord(mismatched, offset: 5)) == JobControlState.Change())
        #expect(state.apply(controlRecord(OutgoingRecord(key: Array("cancel/job-4".utf8), value: Array("{".utf8)), offset: 6)) == JobControlState.Change())
        #expect(state.apply(controlRecord(OutgoingRecord(key: Array("schedule/x".utf8), value: Array("{}".utf8)), offset: 7)) == JobControlState.Change())
        #expect(state.apply(controlRecord(OutgoingRecord(key: nil, value: Array("{}".utf8)), offset: 8)) == JobControlState.Change())
        #expect(Set(state.cancellations.keys) == ["job-1"])

        // A worker that had not read the ends another stored writes the place its group met the
        // job: both are kept.
        var bounded = seen
        bounded.ends = [JobPosition(partition: 0, offset: 9), JobPosition(partition: 2, offset: 12)]
        #expect(state.apply(controlRecord(try JobControlState.cancelRecord(bounded), offset: 9)).cancelled.isEmpty)
        var unaware = cancellation
        unaware.seen["cooks"] = JobPosition(partition: 1, offset: 3)
        state.apply(controlRecord(try JobControlState.cancelRecord(unaware), offset: 10))
        #expect(state.cancellations["job-1"]?.ends == bounded.ends)
        #expect(state.cancellations["job-1"]?.seen == ["mailers": JobPosition(partition: 2, offset: 7), "cooks": JobPosition(partition: 1, offset: 3)])

        // A tombstone forgets a cancellation.
        #expect(state.apply(controlRecord(OutgoingRecord(key: Array("cancel/job-1".utf8), value: nil), offset: 11)).cancelled.isEmpty)
        #expect(state.cancellations.isEmpty)
    }

    @Test("a place in the job topic is written as before priority topics had places; ends cover the topics they name a partition of")
    func placesInPriorityTopics() throws {
        #expect(String(decoding: try JSONEncoder.sorted.encode(JobPosition(partition: 1, offset: 7)), as: UTF8.self) == #"{"offset":7,"partition":1}"#)
        let high = JobPosition(TopicPartition("chores.high", 0), offset: 4, jobTopic: "chores")
        #expect(high == JobPosition(partition: 0, offset: 4, topic: "chores.high"))
        #expect(try JSONDecoder().decode(JobPosition.self, from: JSONEncoder().encode(high)) == high)
        #expect(JobPosition(TopicPartition("chores", 2), offset: 1, jobTopic: "chores").topic == nil)

        let all = ["chores.high", "chores", "chores.low"]
        var cancellation = JobCancellation(id: "job-1", cancelledAtMs: 1_000)
        #expect(!cancellation.endsCover(["chores"], jobTopic: "chores"), "no ends cover nothing")
        // Ends written by a worker that knew the job topic only.
        cancellation.ends = [JobPosition(partition: 0, offset: 3), JobPosition(partition: 1, offset: 0)]
        #expect(cancellation.endsCover(["chores"], jobTopic: "chores"))
        #expect(!cancellation.endsCover(all, jobTopic: "chores"))
        cancellation.ends? += [high, JobPosition(partition: 0, offset: 0, topic: "chores.low")]
        #expect(cancellation.endsCover(all, jobTopic: "chores"))
    }
}

/// A control record as a worker reads it back, at `offset` of the control topic.
func controlRecord(_ record: OutgoingRecord, offset: Int64) -> ConsumedRecord {
    ConsumedRecord(topic: "chores.control", partition: 0, offset: offset, timestamp: 0, key: record.key, value: record.value, headers: [])
}
