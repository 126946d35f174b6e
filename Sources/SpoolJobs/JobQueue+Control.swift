import Foundation
import SpoolFormat

extension JobQueue {
    /// The control topic of a job topic: its cancellations and paused groups (`JobControlState`).
    public static func controlTopic(of topic: String) -> String { topic + ".control" }

    /// Compacted: a key's latest record is what counts. Kafka then keeps one record per key; Spool
    /// keeps every record of a compacted topic, so the topic grows by one small record per
    /// cancellation, pause and resume (workers read it once when they start).
    static let controlTopicConfigs = ["cleanup.policy": "compact"]

    var controlTransport: any JobControlTransport {
        get throws(JobControlError) {
            guard let transport = transport as? any JobControlTransport else { throw .unsupportedTransport }
            return transport
        }
    }

    /// Creates the control topic of `topic` if it does not exist yet.
    func prepareControl(topic: String) async throws {
        try await controlTransport.ensureTopic(Self.controlTopic(of: topic), partitions: 1, configs: Self.controlTopicConfigs)
    }

    /// The job topic and those of its priority topics that exist, high first: where a job of
    /// `topic` may be.
    func priorityTopics(of topic: String) async throws -> [String] {
        var topics: [String] = []
        for priority in JobPriority.allCases {
            let member = priority.topic(of: topic)
            if priority != .normal, try await controlTransport.partitionCount(of: member) == nil { continue }
            topics.append(member)
        }
        return topics
    }

    /// Fails with `.unknownTopic` unless the job topic exists.
    func requireTopic(_ topic: String) async throws {
        guard try await controlTransport.partitionCount(of: topic) != nil else { throw JobControlError.unknownTopic(topic) }
    }

    /// Cancels the job with this id in `topic`, one that is queued, scheduled (held for later) or
    /// retrying: it never starts, and a run under way is cancelled (its task is cancelled, and
    /// the job ends as cancelled, not retried). Returns the cancellation stored, or the one stored
    /// before for this id. It reads the topic (and its priority topics) and the broker's held
    /// records to find the job, so it costs a read of the whole topic.
    ///
    /// - Throws: `JobControlError.unknownTopic`; `.unknownJob` when no record of the topic, and
    ///   none held for it, has this id; `.notCancellable` when the job was dead-lettered.
    @discardableResult
    public func cancel(id: String, topic: String) async throws -> JobCancellation {
        try await requireTopic(topic)
        try await prepareControl(topic: topic)
        if let existing = try await controlState(of: topic).cancellations[id] { return existing }
        var held: [HeldJob] = []
        var stored: [ConsumedRecord] = []
        var dead = false
        for member in try await priorityTopics(of: topic) {
            held += try await heldJobs(of: member).filter { $0.record.jobId == id }
            stored += try await transport.readAll(topic: member).filter { $0.jobId == id }
            if try await deadLettersIfAny(of: member).contains(where: { $0.id == id && !$0.redriven }) { dead = true }
        }
        guard !held.isEmpty || !stored.isEmpty else {
            if dead {
                throw JobControlError.notCancellable(id: id, reason: "it was dead-lettered (spool dlq lists it)")
            }
            throw JobControlError.unknownJob(id: id, topic: topic)
        }
        // A job also held for later (a retry, or a second delivery) may come again after its last
        // stored place: only a job with nothing held gets a place every group can forget it by.
        // A place in a priority topic names it.
        let last = stored.max { ($0.offset, $0.partition) < ($1.offset, $1.partition) }
        let seen = held.isEmpty ? last.map { ["*": JobPosition(TopicPartition($0.topic, $0.partition), offset: $0.offset, jobTopic: topic)] } ?? [:] : [:]
        let cancellation = JobCancellation(id: id, cancelledAtMs: Int64(Date().timeIntervalSince1970 * 1000),
                                           key: (held.first?.record ?? last)?.keyString, seen: seen)
        _ = try await transport.send(topic: Self.controlTopic(of: topic), records: [try JobControlState.cancelRecord(cancellation)])
        return cancellation
    }

    /// Pauses `topic` for `group`: within a second no worker of the group starts a job of the topic
    /// (running jobs finish, and workers stay in the group) until `resume`. Durable.
    public func pause(topic: String, group: String) async throws {
        try await setPaused(true, topic: topic, group: group)
    }

    /// Lets the group's workers start jobs of `topic` again.
    public func resume(topic: String, group: String) async throws {
        try await setPaused(false, topic: topic, group: group)
    }

    private func setPaused(_ paused: Bool, topic: String, group: String) async throws {
        guard !group.isEmpty else { throw JobControlError.pauseNeedsGroup }
        try await requireTopic(topic)
        try await prepareControl(topic: topic)
        let record = try JobControlState.pauseRecord(group: group, pausedAtMs: paused ? Int64(Date().timeIntervalSince1970 * 1000) : nil)
        _ = try await transport.send(topic: Self.controlTopic(of: topic), records: [record])
    }

    /// The cancellations and paused groups of `topic`, as its control topic holds them now.
    public func controlState(of topic: String) async throws -> JobControlState {
        let control = Self.controlTopic(of: topic)
        guard try await controlTransport.partitionCount(of: control) != nil else { return JobControlState() }
        var state = JobControlState()
        for record in try await transport.readAll(topic: control) { state.apply(record) }
        return state
    }
}
