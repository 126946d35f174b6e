import Foundation
import SpoolFormat
import Synchronization

/// A worker's view of its topic's control topic (`JobControlState`): which jobs are cancelled,
/// and whether its group is paused.
///
/// Memory is bounded by the cancellations that may still matter to the group. A run that fails
/// before its worker learns of the cancellation enqueues a retry, which the broker holds for up to
/// the retry policy's longest delay and then appends to the job's topic, past the place the job
/// was seen at. So once a cancellation is older than that delay plus a minute
/// (`cancellationGraceMs`), a worker that finds the broker holding no copy of the job records the
/// ends of the job topic and of its priority topics in it (`JobCancellation.ends`): every copy of
/// the job is below them. The cancellation is forgotten once the group's committed offsets have
/// reached those of the topics the worker reads. A cancellation whose job has not been seen yet
/// (held for later) stays until a worker meets the job.
final class WorkerControl: Sendable {
    struct State {
        var control = JobControlState()
        var paused = false
        /// When the running set was last reported (`RunningReport`).
        var lastReportMs: Int64 = 0
        /// Cancelled jobs the broker held a copy of at the last look, with when that copy is due:
        /// their ends are not read before then (`recordEnds`).
        var heldUntilMs: [String: Int64] = [:]
    }

    let state = Mutex(State())
    /// This worker in its running reports.
    let instance = UUID().uuidString
    /// `state.paused` and whether `state.control` holds any cancellation, read on every job
    /// without the lock; written under it.
    let paused = Atomic(false)
    let anyCancelled = Atomic(false)
    /// Whether `state.control` holds any key hold (of any group).
    let anyHeld = Atomic(false)

    /// Whether the group is paused: no job starts.
    var holdsStarts: Bool { paused.load(ordering: .acquiring) }

    /// Read on every job: a guard, not `&&`, whose autoclosure retained the id each time.
    func isCancelled(_ id: String) -> Bool {
        guard anyCancelled.load(ordering: .acquiring) else { return false }
        return state.withLock { $0.control.cancellations[id] != nil }
    }

    /// The same, making the id text only when some job is cancelled.
    func isCancelled(_ id: JobIdText) -> Bool {
        guard anyCancelled.load(ordering: .acquiring) else { return false }
        return isCancelled(id.string)
    }

    /// Changes the state under the lock and republishes the flags read without it.
    func update<T>(_ body: (inout State) -> T) -> T {
        state.withLock { state in
            let result = body(&state)
            paused.store(state.paused, ordering: .releasing)
            anyCancelled.store(!state.control.cancellations.isEmpty, ordering: .releasing)
            anyHeld.store(!state.control.holds.isEmpty, ordering: .releasing)
            return result
        }
    }
}

extension Worker {
    /// How long a cancellation is kept after its job was passed (see `WorkerControl`).
    var cancellationGraceMs: Int64 { retry.max.milliseconds + 60_000 }

    /// Creates the control topic if needed, reads it to its end (so no job starts before the
    /// cancellations and the pause known now apply), then follows it in a task. Nil when the
    /// transport has no control topic.
    func startControl() async throws -> Task<Void, Never>? {
        guard let transport = queue.transport as? any JobControlTransport else { return nil }
        try await queue.prepareControl(topic: topic)
        try await transport.ensureTopic(JobQueue.runningTopic(of: topic), partitions: 1, configs: JobQueue.runningTopicConfigs)
        let follower = try await transport.follow(topic: JobQueue.controlTopic(of: topic))
        var failures = 0
        while true {
            do {
                let records = try await follower.poll(maxWaitMs: Self.controlCatchUpWaitMs)
                if records.isEmpty { break }
                applyControl(records)
            } catch {
                // A topic just created may not be readable at once (a cluster electing its leader).
                failures += 1
                if failures >= 50 {
                    await follower.close()
                    throw error
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        return Task { [weak self] in
            var lastPrune = ContinuousClock.now
            while !Task.isCancelled {
                // Parked on the control topic until a record comes or the next report or prune is due.
                guard let waitMs = self?.controlWaitMs(sinceLastPrune: lastPrune.duration(to: .now)) else { break }
                do {
                    let records = try await follower.poll(maxWaitMs: waitMs)
                    guard let self else { break }
                    self.applyControl(records)
                } catch {
                    try? await Task.sleep(for: .milliseconds(200))
                }
                await self?.reportRunningIfDue()
                if lastPrune.duration(to: .now) >= Self.cancellationPruneInterval {
                    lastPrune = .now
                    await self?.forgetPassedCancellations()
                }
            }
            await follower.close()
        }
    }

    /// How long the start waits for more control records before taking the topic as read.
    static var controlCatchUpWaitMs: Int32 { 100 }
    /// How often passed cancellations are forgotten (`forgetPassedCancellations`).
    static var cancellationPruneInterval: Duration { .seconds(10) }

    /// How long the control task may wait for control records: until the next running report or
    /// prune is due, and a second at most.
    func controlWaitMs(sinceLastPrune: Duration) -> Int32 {
        let untilReport = jobControl.state.withLock { $0.lastReportMs } + JobQueue.runningReportIntervalMs - nowMs()
        let untilPruneMs = Int64(((Self.cancellationPruneInterval - sinceLastPrune) / .milliseconds(1)).rounded(.down))
        return Int32(clamping: max(0, min(untilReport, untilPruneMs, 1_000)))
    }

    /// Applies control records: cancels runs of newly cancelled jobs, wakes the ones sleeping
    /// before a retry (they then end as cancelled), and pauses or resumes starting jobs.
    private func applyControl(_ records: [ConsumedRecord]) {
        guard !records.isEmpty else { return }
        let (cancelled, resumed) = jobControl.update { state in
            let cancelled = Set(records.flatMap { state.control.apply($0).cancelled })
            let wasPaused = state.paused
            state.paused = state.control.pausedGroups[group] != nil
            return (cancelled, wasPaused && !state.paused)
        }
        // After `update`, so a run that opens from now on sees its job cancelled, and the run
        // that ends sees it too.
        if !cancelled.isEmpty { leases.cancel(ids: cancelled) }
        if !cancelled.isEmpty {
            book.withLock { book in for wake in book.sleepingJobs(withIds: cancelled) { book.wake(wake) } }
        }
        if !cancelled.isEmpty || resumed { dispatch() }
    }



    /// Ends a cancelled job without running it (or after its cancelled run): done, never retried.
    /// Records where the group met it, so the cancellation can be forgotten once committed past.
    func finishCancelled(_ ticket: JobTicket) {
        stats.recorder.count(.cancelled)
        finish(ticket)
        // A job of a priority topic leaves its place there, which lets its cancellation be
        // forgotten too (`forgetPassedCancellations`).
        let place = JobPosition(ticket.partition, offset: ticket.offset, jobTopic: topic)
        let updated = jobControl.update { state -> JobCancellation? in
            guard var cancellation = state.control.cancellations[ticket.record.jobId], cancellation.seen[group] != place else { return nil }
            cancellation.seen[group] = place
            state.control.cancellations[cancellation.id] = cancellation
            return cancellation
        }
        guard let updated, let record = try? JobControlState.cancelRecord(updated) else { return }
        let (queue, control) = (queue, JobQueue.controlTopic(of: topic))
        Task { _ = try? await queue.transport.send(topic: control, records: [record]) }
    }

    /// Forgets cancellations of jobs the group has committed past, recording the ends they are
    /// forgotten by first where they have none (see `WorkerControl`).
    func forgetPassedCancellations() async {
        guard let subscription = control.withLock({ $0.subscription }) else { return }
        let now = nowMs()
        let passed = jobControl.state.withLock { state in
            state.control.cancellations.values.filter { now - $0.cancelledAtMs > cancellationGraceMs }
        }
        // Ends that leave out a topic this worker reads (read before it existed, or by a worker
        // that knew the job topic only) are read again.
        let (topic, reads) = (topic, topics)
        let unbounded = jobControl.state.withLock { state in
            passed.filter { !$0.endsCover(reads, jobTopic: topic) && !$0.seen.isEmpty && state.heldUntilMs[$0.id].map { $0 <= now } ?? true }
        }
        let bounded = passed.filter { $0.endsCover(reads, jobTopic: topic) } + (await recordEnds(unbounded))
        guard !bounded.isEmpty else { return }
        // The ends in topics the worker does not read bound copies its group never meets.
        let read = Set(reads)
        let partitions = Set(bounded.flatMap { $0.ends ?? [] }.map { $0.topicPartition(jobTopic: topic) }.filter { read.contains($0.topic) })
        guard let committed = try? await subscription.committed(Array(partitions)) else { return }
        jobControl.update { state in
            for cancellation in bounded where (cancellation.ends ?? []).allSatisfy({ end in
                let partition = end.topicPartition(jobTopic: topic)
                return !read.contains(partition.topic) || end.offset == 0 || (committed[partition]?.offset ?? -1) >= end.offset
            }) {
                state.control.cancellations[cancellation.id] = nil
            }
            state.heldUntilMs = state.heldUntilMs.filter { state.control.cancellations[$0.key] != nil }
        }
    }

    /// Gives the cancellations the ends now of the job topic and of its priority topics that
    /// exist, here and in the control topic, except those whose job the broker still holds a copy
    /// of (looked at again once it is due). Returns the cancellations given ends.
    private func recordEnds(_ cancellations: [JobCancellation]) async -> [JobCancellation] {
        guard !cancellations.isEmpty, let members = try? await queue.priorityTopics(of: topic),
              let held = try? await queue.heldJobs(ofAny: Set(members)) else { return [] }
        let now = nowMs()
        let ids = Set(cancellations.map(\.id))
        let heldDue = Dictionary(held.filter { ids.contains($0.record.jobId) }.map { ($0.record.jobId, $0.dueMs ?? now) }, uniquingKeysWith: max)
        jobControl.update { state in state.heldUntilMs.merge(heldDue) { $1 } }
        guard heldDue.count < ids.count, let ends = await ends(of: members) else { return [] }
        let (topic, reads) = (topic, topics)
        let updated = jobControl.update { state in
            ids.subtracting(heldDue.keys).compactMap { id -> JobCancellation? in
                guard var cancellation = state.control.cancellations[id], !cancellation.endsCover(reads, jobTopic: topic) else { return nil }
                cancellation.ends = ends
                state.control.cancellations[id] = cancellation
                state.heldUntilMs[id] = nil
                return cancellation
            }
        }
        let records = updated.compactMap { try? JobControlState.cancelRecord($0) }
        if !records.isEmpty { _ = try? await queue.transport.send(topic: JobQueue.controlTopic(of: topic), records: records) }
        return updated
    }

    /// The end of each partition of `members` (the job topic and priority topics of it) now, by
    /// topic (the job topic's first) and partition; nil when one cannot be read.
    private func ends(of members: [String]) async -> [JobPosition]? {
        guard let transport = queue.transport as? any JobControlTransport else { return nil }
        var ends: [JobPosition] = []
        for member in [topic] + members.filter({ $0 != topic }) {
            guard let follower = try? await transport.follow(topic: member) else { return nil }
            let read = try? await follower.ends()
            await follower.close()
            guard let read else { return nil }
            ends += read.filter { $0.key.topic == member }.map { JobPosition($0.key, offset: $0.value, jobTopic: topic) }
                .sorted { $0.partition < $1.partition }
        }
        return ends
    }

    /// The jobs this worker is running now, as the job-state listing shows them.
    public var runningJobs: [JobStatus] {
        book.withLock { book in
            book.partitions.filter { $0.value.running > 0 }.flatMap { partition, state in
                state.order.filter { $0.state == .running }.map { entry in
                    JobStatus(state: .running, id: entry.record.jobId, key: entry.record.keyString, topic: partition.topic,
                              partition: partition.partition, offset: entry.record.offset, attempts: entry.attempt - 1)
                }
            }.sorted { ($0.partition ?? 0, $0.offset ?? 0) < ($1.partition ?? 0, $1.offset ?? 0) }
        }
    }
}

extension JobBook {
    /// Jobs sleeping until a later attempt (retried in place) and until their `spool-deliver-at`
    /// (held here, not by the broker): a walk over the entries, once per running report.
    var waitingCounts: (retrying: Int, scheduled: Int) {
        var counts = (retrying: 0, scheduled: 0)
        for state in partitions.values {
            for entry in state.order where entry.state == .sleeping {
                if entry.attempt > entry.recordAttempt { counts.retrying += 1 } else { counts.scheduled += 1 }
            }
        }
        return counts
    }

    /// Wakes for the jobs with these ids that sleep (before a retry, or until their time).
    func sleepingJobs(withIds ids: Set<String>) -> [JobWake] {
        partitions.values.flatMap { state in
            state.order.compactMap { entry in
                entry.state == .sleeping && ids.contains(entry.record.jobId) ? JobWake(state: state, entry: entry, atMs: 0) : nil
            }
        }
    }
}
