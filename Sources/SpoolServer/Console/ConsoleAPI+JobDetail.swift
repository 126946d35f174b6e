import SpoolFormat

/// `GET /api/v1/jobs/TOPIC/ID`: one job, its records in the topic and, per group that has
/// committed offsets on the topic or one of its priority topics, what that job is for the group, as the listings of
/// `?state=S&group=G` have it.
extension ConsoleAPI {
    /// The job's records a detail shows at most, the latest: each attempt sent back through the
    /// topic and each redriven copy is one. They are bounded in bytes as a record page is
    /// (`pageBytesMax`, at least one record).
    static let jobRecordsShownMax = 20
    /// Partitions whose removed records a not-found message names at most.
    static let removedPartitionsNamedMax = 5

    struct JobDetail: Encodable {
        struct GroupState: Encodable {
            var group: String
            /// `queued`, `running`, `retrying` or `dead` when the group's listing of that state has
            /// the job; `scheduled` or `cancelled` when the topic's has it; else `done`: behind the
            /// group's commit point, or finished above it.
            var state: String
            /// The job as the group's listing shows it (absent when done).
            var job: ConsoleJob?
        }
        /// One record of the job, as the record browser shows a record, with its place.
        struct Record: Encodable {
            var topic: String
            var partition: Int32
            var offset: Int64
            /// The record's timestamp: when the job (or this attempt, or copy, of it) was enqueued,
            /// in milliseconds since the Unix epoch.
            var enqueuedAtMs: Int64
            /// Its `spool-attempt` (1 without one).
            var attempt: Int
            var key: EncodedBytes?
            var value: EncodedBytes?
            var headers: [EncodedHeader]
        }
        var topic: String
        var id: String
        /// The states whose group-less listings have the job: `scheduled`, `retrying` (held by the
        /// broker), `running` (in any group's workers), `dead` (in the dead-letter topic), `cancelled`.
        var states: [ConsoleJobState]
        /// Per group with committed offsets on the topic or one of its priority topics, by name (at most 20).
        var groups: [GroupState]
        /// The job's records in the topic and its priority topics, by topic, partition and offset
        /// (the last `jobRecordsShownMax`, and about `pageBytesMax` bytes); none once retention or
        /// DeleteRecords removed them.
        var records: [Record]
        /// How many earlier records of the job are left out.
        var recordsOmitted: Int?
    }

    /// 404 when neither a listing nor the topic has the job: an id never enqueued, or a job
    /// whose records are gone (retention, DeleteRecords) and that no listing holds.
    func jobOfTopic(_ topic: String, id: String) async throws -> JobDetail {
        guard broker.partitionCount(topic) != nil else { throw APIError(404, "no topic \(topic)") }
        let found = try await service().job(id, in: topic, groups: try groupsReading(topic))
        guard !found.isUnknown else { throw APIError(404, notFound(id, in: topic, searched: found.topics)) }
        var shown: [ConsumedRecord] = []
        var shownBytes = 0
        for record in found.records.reversed() where shown.count < Self.jobRecordsShownMax && (shown.isEmpty || shownBytes < Self.pageBytesMax) {
            shownBytes += Self.shownBytes(record)
            shown.append(record)
        }
        let records = shown.reversed().map { record in
            JobDetail.Record(topic: record.topic, partition: record.partition, offset: record.offset, enqueuedAtMs: record.timestamp,
                             attempt: record.header(SpoolHeaders.attempt).flatMap { Int($0) } ?? 1, key: record.key.map(EncodedBytes.init),
                             value: record.value.map(EncodedBytes.init), headers: record.headers.map(EncodedHeader.init))
        }
        let omitted = found.records.count - records.count
        return JobDetail(topic: topic, id: id, states: found.listed.map(\.state),
                         groups: found.groups.map { .init(group: $0.group, state: $0.job?.state.rawValue ?? "done", job: $0.job) },
                         records: records, recordsOmitted: omitted > 0 ? omitted : nil)
    }

    /// Why no job `id` is found: never enqueued when no record of the topics searched was ever
    /// removed (every partition still starts at offset 0); else that or removed, naming where.
    private func notFound(_ id: String, in topic: String, searched: [String]) -> String {
        let removed = searched.flatMap { name in
            ((try? broker.describeTopic(name))?.partitions ?? []).filter { $0.logStartOffset > 0 }.map { "\(name)[\($0.partition)] starts at offset \($0.logStartOffset)" }
        }
        guard !removed.isEmpty else {
            return "no job \(id) in \(topic): never enqueued (no record of the topic has that id, none was ever removed, and no listing has it)"
        }
        let more = removed.count > Self.removedPartitionsNamedMax ? ", and \(removed.count - Self.removedPartitionsNamedMax) more" : ""
        return "no job \(id) in \(topic): no record of the topic has that id and no listing has it: never enqueued, or removed by retention or "
            + "DeleteRecords (\(removed.prefix(Self.removedPartitionsNamedMax).joined(separator: ", "))\(more))"
    }
}
