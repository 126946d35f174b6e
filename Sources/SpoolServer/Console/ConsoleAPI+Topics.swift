import SpoolBroker
import SpoolFormat
import SpoolLog

/// `GET /api/v1/topics/NAME` and `GET /api/v1/topics/NAME/records`.
extension ConsoleAPI {
    struct TopicDetail: Encodable {
        struct Partition: Encodable {
            var partition: Int32
            var startOffset: Int64
            /// The high watermark: where the next record consumers can see will be.
            var endOffset: Int64
            var logEndOffset: Int64
            var bytes: Int
        }
        struct Config: Encodable {
            var name: String
            var value: String?
            var source: String
            var isDefault: Bool
            var readOnly: Bool
        }
        var name: String
        var id: String
        var partitions: [Partition]
        var retentionMs: String?
        var retentionBytes: String?
        var configs: [Config]
    }

    func topicDetail(_ name: String) throws -> TopicDetail {
        let topic = try broker.describeTopic(name)
        let described = broker.describeConfigs(.topic, name: name, includeSynonyms: false, includeDocumentation: false)
        let configs = described.entries.map {
            TopicDetail.Config(name: $0.name, value: $0.sensitive ? nil : $0.value, source: "\($0.source)", isDefault: $0.isDefault, readOnly: $0.readOnly)
        }
        return TopicDetail(
            name: topic.name, id: topic.id,
            partitions: topic.partitions.map {
                .init(partition: $0.partition, startOffset: $0.logStartOffset, endOffset: $0.highWatermark, logEndOffset: $0.logEndOffset, bytes: $0.sizeInBytes)
            },
            retentionMs: configs.first { $0.name == "retention.ms" }?.value, retentionBytes: configs.first { $0.name == "retention.bytes" }?.value,
            configs: configs)
    }

    /// Changes a topic's configs as Kafka's IncrementalAlterConfigs does:
    /// `{"set": {"retention.ms": "3600000"}, "delete": ["retention.bytes"]}` (a deleted config
    /// takes its default again). Read-only configs and invalid values are refused with 400 and
    /// nothing changes. Answers the topic as `GET` does.
    func alterConfigs(_ name: String) throws -> TopicDetail {
        _ = try broker.describeTopic(name)
        let body = try bodyObject()
        guard Set(body.keys).isSubset(of: ["set", "delete"]), !body.isEmpty else { throw APIError(400, "give \"set\": {name: value} and/or \"delete\": [name]") }
        var alterations: [ConfigAlteration] = []
        if let set = body["set"] {
            guard let values = set as? [String: String] else { throw APIError(400, "\"set\" must map config names to string values") }
            alterations += values.sorted { $0.key < $1.key }.map { ConfigAlteration(name: $0.key, operation: .set, value: $0.value) }
        }
        if let delete = body["delete"] {
            guard let names = delete as? [String] else { throw APIError(400, "\"delete\" must be a list of config names") }
            alterations += names.map { ConfigAlteration(name: $0, operation: .delete, value: nil) }
        }
        guard !alterations.isEmpty, alterations.count <= 100 else { throw APIError(400, "change 1...100 configs at a time") }
        let outcome = broker.incrementalAlterConfigs(.topic, name: name, alterations: alterations)
        switch outcome.error {
        case .none: return try topicDetail(name)
        case .unknownTopicOrPartition: throw APIError(404, outcome.message ?? "no topic \(name)")
        default: throw APIError(400, outcome.message ?? "\(outcome.error)")
        }
    }

    struct RecordPage: Encodable {
        struct Record: Encodable {
            var offset: Int64
            var timestamp: Int64
            var key: EncodedBytes?
            var value: EncodedBytes?
            var headers: [EncodedHeader]
        }
        var topic: String
        var partition: Int32
        var startOffset: Int64
        var endOffset: Int64
        var records: [Record]
        /// The offset to ask for the next page; nil at the end of the partition.
        var next: Int64?
    }

    /// Record bytes (keys, values, headers) one page holds at most, beyond its first record: 500
    /// large records would otherwise make a response of hundreds of megabytes.
    static let pageBytesMax = 4 << 20

    /// Records of one partition from `offset` (or the first at or after `timestamp`, in ms), at
    /// most `limit` (1...500, default 50) and about `pageBytesMax` bytes. Only records consumers
    /// can see (below the high watermark) are shown.
    func records(topic: String) async throws -> RecordPage {
        let description = try broker.describeTopic(topic)
        let index = try integer("partition", Int32(0)...Int32.max, default: 0) ?? 0
        guard let partition = description.partitions.first(where: { $0.partition == index }) else {
            throw APIError(404, "topic \(topic) has no partition \(index) (it has \(description.partitions.count))")
        }
        let limit = try integer("limit", 1...Self.pageSizeMax, default: Self.pageSizeDefault) ?? Self.pageSizeDefault
        var start: Int64
        if request.query["offset"] != nil && request.query["timestamp"] != nil { throw APIError(400, "give offset or timestamp, not both") }
        if let timestamp = try integer("timestamp", Int64(0)...Int64.max) {
            let found = try broker.listOffset(topic: topic, partition: index, timestamp: timestamp)
            start = found.offset < 0 ? partition.highWatermark : found.offset
        } else {
            start = try integer("offset", Int64(0)...Int64.max, default: partition.logStartOffset) ?? partition.logStartOffset
        }
        start = max(start, partition.logStartOffset)
        var page = RecordPage(topic: topic, partition: index, startOffset: partition.logStartOffset, endOffset: partition.highWatermark, records: [], next: nil)
        var next = start
        var pageBytes = 0
        // Each fetch returns whole batches of at most 1 MiB; a page takes a few at most.
        for _ in 0..<8 where page.records.count < limit && pageBytes < Self.pageBytesMax && next < partition.highWatermark {
            let fetched = await broker.fetch([FetchPartitionRequest(TopicPartition(topic, index), fetchOffset: next)], maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20)
            guard let slice = fetched.first?.records, !slice.isEmpty else { break }
            let read = slice.withUnsafeBytes { FetchedRecords(decoding: $0, topic: topic, partition: index, from: next) }
            for record in read.records where record.offset >= next && record.offset < partition.highWatermark && page.records.count < limit
                && (page.records.isEmpty || pageBytes < Self.pageBytesMax) {
                pageBytes += Self.shownBytes(record)
                page.records.append(.init(offset: record.offset, timestamp: record.timestamp, key: record.key.map(EncodedBytes.init),
                                          value: record.value.map(EncodedBytes.init), headers: record.headers.map(EncodedHeader.init)))
            }
            if let unreadable = read.unreadable, read.records.isEmpty { throw APIError(500, "records at \(next) cannot be read: \(unreadable)") }
            guard read.next > next else { break }
            next = read.next
        }
        if let last = page.records.last { next = last.offset + 1 }
        page.next = next < partition.highWatermark ? next : nil
        return page
    }

    /// The bytes of a record a page shows (key, value, header names and values), counted against
    /// `pageBytesMax`.
    static func shownBytes(_ record: ConsumedRecord) -> Int {
        (record.key?.count ?? 0) + (record.value?.count ?? 0) + record.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
    }
}
