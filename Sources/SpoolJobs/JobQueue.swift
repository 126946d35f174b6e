import Foundation
import SpoolFormat
import Synchronization

/// Where jobs are enqueued: a broker (embedded or over the network) and how payloads are coded.
///
/// ```swift
/// let queue = try JobQueue.connect(to: "127.0.0.1:9092")
/// try await queue.enqueue(WelcomeEmail(to: "ada@example.com"), key: "user-42")
/// ```
public final class JobQueue: Sendable {
    public let transport: any JobTransport
    public let coding: any JobCoding
    /// Partitions of a job topic created on first use.
    public let partitions: Int
    private let preparedTopics = Mutex<Set<String>>([])

    public init(transport: any JobTransport, coding: any JobCoding = JSONJobCoding(), partitions: Int = 8) {
        self.transport = transport
        self.coding = coding
        self.partitions = max(1, partitions)
    }

    /// A queue over `spool serve` or a Kafka cluster at `bootstrap` ("host:port").
    public static func connect(to bootstrap: String, partitions: Int = 8) throws -> JobQueue {
        JobQueue(transport: try NetworkTransport(bootstrap: bootstrap), partitions: partitions)
    }

    /// The dead-letter topic of a job topic.
    public static func deadLetterTopic(of topic: String) -> String { topic + ".dlq" }

    /// Creates the topic and its dead-letter topic if they do not exist yet.
    public func prepare(topic: String) async throws {
        if preparedTopics.withLock({ $0.contains(topic) }) { return }
        try await transport.ensureTopic(topic, partitions: partitions)
        try await transport.ensureTopic(Self.deadLetterTopic(of: topic), partitions: 1)
        preparedTopics.withLock { _ = $0.insert(topic) }
    }

    /// Enqueues a job and returns once it is durable.
    ///
    /// - Parameters:
    ///   - key: the ordering key (e.g. a user id): it picks the partition, and workers in `.key`
    ///     order run jobs with the same key one at a time, in order.
    ///   - id: the job's id (default: a new UUID). Given explicitly, it is also the job's
    ///     idempotency key: enqueueing the same id again within the topic's dedupe window stores
    ///     nothing.
    ///   - runAt: run no earlier than this (held by the broker until then).
    ///   - priority: `.high` and `.low` go to `TOPIC.high` and `TOPIC.low`, which only a worker
    ///     made with `priorities:` reads (see `JobPriorities`).
    @discardableResult
    public func enqueue<J: Job>(_ job: J, key: String? = nil, id: String? = nil, runAt: Date? = nil,
                                priority: JobPriority = .normal) async throws -> EnqueuedJob {
        try await enqueue([Enqueue(job, key: key, id: id, runAt: runAt, priority: priority)])[0]
    }

    /// One job of a batch for `enqueue(_:)`.
    public struct Enqueue<J: Job>: Sendable {
        public var job: J
        public var key: String?
        public var id: String?
        public var runAt: Date?
        public var priority: JobPriority

        public init(_ job: J, key: String? = nil, id: String? = nil, runAt: Date? = nil, priority: JobPriority = .normal) {
            self.job = job
            self.key = key
            self.id = id
            self.runAt = runAt
            self.priority = priority
        }
    }

    /// Enqueues many jobs of one type at once (batched per partition, one send per priority) and
    /// returns once all are durable, in the order given.
    @discardableResult
    public func enqueue<J: Job>(_ jobs: [Enqueue<J>]) async throws -> [EnqueuedJob] {
        let priorities = JobPriority.allCases.filter { priority in jobs.contains { $0.priority == priority } }
        guard priorities.count > 1 else { return try await enqueue(jobs, to: (priorities.first ?? .normal).topic(of: J.topic)) }
        var enqueued = [EnqueuedJob?](repeating: nil, count: jobs.count)
        for priority in priorities {
            let places = jobs.indices.filter { jobs[$0].priority == priority }
            let sent = try await enqueue(places.map { jobs[$0] }, to: priority.topic(of: J.topic))
            for (place, job) in zip(places, sent) { enqueued[place] = job }
        }
        return enqueued.compactMap { $0 }
    }

    private func enqueue<J: Job>(_ jobs: [Enqueue<J>], to topic: String) async throws -> [EnqueuedJob] {
        try await prepare(topic: topic)
        var ids: [String] = []
        let typeName = J.typeName
        let records = try jobs.map { item in
            let id = item.id ?? Self.randomUUID()
            ids.append(id)
            var headers = [RecordHeader(SpoolHeaders.jobId, id), RecordHeader(SpoolHeaders.attempt, "1"), RecordHeader(SpoolHeaders.jobType, typeName)]
            if item.id != nil { headers.append(RecordHeader(SpoolHeaders.idempotencyKey, id)) }
            if let runAt = item.runAt, let deliverAt = try Self.deliverAt(runAt) { headers.append(RecordHeader(SpoolHeaders.deliverAt, deliverAt)) }
            return OutgoingRecord(key: item.key.map { Array($0.utf8) }, value: try coding.encode(item.job), headers: headers)
        }
        let sent = try await transport.send(topic: topic, records: records)
        return zip(ids, sent).map { EnqueuedJob(id: $0, topic: topic, partition: $1.partition, offset: $1.offset) }
    }

    /// `spool-deliver-at` for `runAt`: nil for a time before 1970 (it is past: the job runs now,
    /// where the header's digits could not say it); a time past what the header can say throws.
    static func deliverAt(_ runAt: Date) throws(JobError) -> String? {
        let ms = (runAt.timeIntervalSince1970 * 1000).rounded(.up)
        guard ms < 1e18 else { throw .runAtOutOfRange(runAt) }
        return ms > 0 ? String(Int64(ms)) : nil
    }

    /// A random-looking (version 4) UUID in its usual upper-case text form, from `JobIds`: no
    /// system call per id (Foundation's `UUID()` opens /dev/urandom and formats with sprintf on
    /// every call on Linux).
    static func randomUUID() -> String { JobIds.shared.next() }
}
