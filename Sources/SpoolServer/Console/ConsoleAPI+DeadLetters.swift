import SpoolBroker
import SpoolFormat

/// `GET /api/v1/jobs`, `GET /api/v1/dead-letters/TOPIC`, and `POST …/redrive` and `…/purge`.
extension ConsoleAPI {
    struct JobTopic: Encodable {
        /// The job topic (`emails`); its dead letters are in `deadLetterTopic` (`emails.dlq`).
        var topic: String
        var deadLetterTopic: String
        var partitions: Int?
        /// Jobs stored in the job topic (high watermark minus log start, summed).
        var records: Int64?
        /// Dead letters not sent back yet.
        var deadLetters: Int
    }

    /// Every job topic: a topic with a `.dlq` companion, or a `.dlq` whose job topic is gone.
    func jobTopics() async throws -> [JobTopic] {
        let topics = broker.listTopics()
        let byName = Dictionary(topics.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var result: [JobTopic] = []
        for dlq in topics.map(\.name).filter({ $0.hasSuffix(".dlq") }).sorted() {
            let origin = String(dlq.dropLast(4))
            let waiting = try await waitingCount(dlq)
            let description = byName[origin]
            result.append(JobTopic(topic: origin, deadLetterTopic: dlq, partitions: description?.partitions.count,
                                   records: description?.partitions.reduce(0) { $0 + max(0, $1.highWatermark - $1.logStartOffset) }, deadLetters: waiting))
        }
        return result
    }

    /// Dead letters waiting in `dlq`, read again only when its records changed: the overview asks
    /// every two seconds, and reading a large dead-letter topic each time would be wasteful.
    func waitingCount(_ dlq: String) async throws -> Int {
        let bounds = try broker.describeTopic(dlq).partitions.map { [$0.logStartOffset, $0.highWatermark] }.flatMap { $0 }
        if let cached = handler.deadLetterCounts.withLock({ $0[dlq] }), cached.bounds == bounds { return cached.waiting }
        let waiting = try await service().deadLetters(of: dlq).filter { !$0.redriven }.count
        handler.deadLetterCounts.withLock { $0[dlq] = (bounds, waiting) }
        return waiting
    }

    func service() throws -> any ConsoleJobs {
        guard let service = handler.jobs else { throw APIError(501, "this server has no job runtime to read dead letters with") }
        return service
    }

    /// The dead-letter topic of `topic` (the job topic or its `.dlq`), which must exist.
    func deadLetterTopic(_ topic: String) throws -> String {
        let dlq = topic.hasSuffix(".dlq") ? topic : topic + ".dlq"
        guard broker.partitionCount(dlq) != nil else { throw APIError(404, "no dead-letter topic \(dlq)") }
        return dlq
    }

    struct DeadLetterPage: Encodable {
        var topic: String
        var deadLetterTopic: String
        /// Dead letters in the list (not sent back yet, or all with `all=true`).
        var total: Int
        var letters: [ConsoleDeadLetter]
        /// The `start` of the next page; nil on the last.
        var next: Int?
        /// The keys held in the topic (every group's): their later jobs are parked until a redrive.
        var holds: [ConsoleKeyHold]
    }

    /// `?start=N&limit=N` (limit 1...500, default 50) pages through the list, oldest first;
    /// `all=true` includes dead letters already sent back.
    func deadLetterPage(_ topic: String) async throws -> DeadLetterPage {
        let dlq = try deadLetterTopic(topic)
        let includeRedriven = try boolean("all")
        let window = try pageWindow()
        let letters = try await service().deadLetters(of: dlq).filter { includeRedriven || !$0.redriven }
        let page = window.cut(letters)
        return DeadLetterPage(topic: String(dlq.dropLast(4)), deadLetterTopic: dlq, total: letters.count, letters: page.items, next: page.next,
                              holds: try await service().holds(of: dlq))
    }

    struct Redriven: Encodable {
        var redriven: [String]
        /// Ids asked for that are not waiting (sent back already, or never dead-lettered).
        var missing: [String]
    }

    /// `{"ids": ["…", …]}` sends those back; `{"all": true}` every one not sent back yet. The
    /// letters of a held key are replayed in order, as their hold (`redriven` lists them all).
    func redrive(_ topic: String) async throws -> Redriven {
        let dlq = try deadLetterTopic(topic)
        let body = try bodyObject()
        let all = body["all"] as? Bool ?? false
        let ids = body["ids"]
        guard (ids == nil) == all else { throw APIError(400, "give \"ids\": [\"job id\", …] or \"all\": true, one of them") }
        var chosen: Set<String>?
        if let ids {
            guard let list = ids as? [String], !list.isEmpty, list.count <= Self.pageSizeMax else {
                throw APIError(400, "\"ids\" must be a list of 1...\(Self.pageSizeMax) job ids")
            }
            chosen = Set(list)
        }
        let sent = try await service().redrive(dlq, ids: chosen)
        return Redriven(redriven: sent, missing: (chosen ?? []).subtracting(sent).sorted())
    }

    struct Purged: Encodable {
        var deadLetterTopic: String
        /// Records deleted from the dead-letter topic (dead letters and redrive markers).
        var purged: Int64
    }

    /// Deletes every record of the dead-letter topic (Kafka DeleteRecords up to the high watermark).
    func purge(_ topic: String) async throws -> Purged {
        let dlq = try deadLetterTopic(topic)
        var purged: Int64 = 0
        for partition in try broker.describeTopic(dlq).partitions {
            let end = partition.highWatermark
            _ = try await broker.deleteRecords(topic: dlq, partition: partition.partition, before: end)
            purged += max(0, end - partition.logStartOffset)
        }
        return Purged(deadLetterTopic: dlq, purged: purged)
    }
}
