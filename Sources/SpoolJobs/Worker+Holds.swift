import Foundation
import SpoolFormat
import SpoolSystem

/// Held keys (`onDeadLetter: .holdKey`): parking a held key's later jobs, and replaying a hold's
/// jobs in order when its redrive marker comes up. docs/jobs.md, "Ordered redrive", tells the
/// design and its guarantees.
extension Worker {
    /// This group's hold on `key`, if there is one.
    func hold(of key: String) -> KeyHold? {
        guard jobControl.anyHeld.load(ordering: .acquiring) else { return nil }
        let recordKey = KeyHold.recordKey(group: group, key: key)
        return jobControl.state.withLock { $0.control.holds[recordKey] }
    }

    /// Whether the record may be a held key's job or a redrive marker. Checked on every job, so
    /// it reads headers only of a record without a value, as markers are (a job has a payload).
    func mayBeHeld(_ record: BatchRecord) -> Bool {
        guard record.hasKey else { return false }
        return (ordering != .none && jobControl.anyHeld.load(ordering: .acquiring))
            || (!record.hasValue && record.header(SpoolHeaders.redriveHold) != nil)
    }

    /// Takes a redrive marker, or a job of a key this group holds: replays, parks or (the dead job
    /// itself, met again after a crash before its commit) finishes it. Returns false for a job to
    /// run as usual.
    func takeHeld(_ ticket: JobTicket, runner: JobRunner) async -> Bool {
        let record = ticket.record.consumedRecord
        if record.value == nil, let holdId = record.header(SpoolHeaders.redriveHold) {
            await replay(holdId, marker: ticket, runner: runner)
            return true
        }
        // A hold's dead offset is an offset of the job topic: a priority topic's offsets are of
        // another log, and its jobs are not held.
        guard ordering != .none, ticket.partition.topic == topic, let key = record.keyString, let hold = hold(of: key),
              hold.partition == ticket.partition.partition, ticket.offset >= hold.deadOffset else { return false }
        if ticket.offset == hold.deadOffset {
            // The hold is stored only after the dead letter: this job is in the dead-letter topic.
            finish(ticket, deadLettered: true)
            return true
        }
        let parked = deadLetterRecord(record, attempt: ticket.attempt, error: "parked: key \(key) is held since job \(hold.deadJobId) dead-lettered",
                                      hold: hold.id, parkedBehind: hold.deadJobId)
        guard await produceUntilStored(topic: JobQueue.deadLetterTopic(of: topic), parked, for: ticket) != nil else {
            abandon(ticket)
            return true
        }
        stats.parkedCount.add(1, ordering: .relaxed)
        // Marked like a dead letter, so a next owner that meets it above the commit point skips it.
        finish(ticket, deadLettered: true)
        return true
    }

    /// Stores the hold in the control topic and applies it here at once. False when the worker
    /// gave the job's partition up first.
    func storeHold(_ hold: KeyHold, for ticket: JobTicket) async -> Bool {
        guard let record = try? hold.record() else { preconditionFailure("a KeyHold always encodes as JSON") }
        return await storeControl(record, for: ticket)
    }

    /// Stores a control record for the ticket's partition and applies it here (at the offset it
    /// was stored at, so reading it again from the control topic changes nothing).
    private func storeControl(_ record: OutgoingRecord, for ticket: JobTicket) async -> Bool {
        let control = JobQueue.controlTopic(of: topic)
        guard let stored = await produceUntilStored(topic: control, record, for: ticket), let key = record.key else { return false }
        let recordKey = String(decoding: key, as: UTF8.self)
        jobControl.update { state in
            // No offset given: applied under the version known, which the record read back passes.
            state.control.applyHold(key: recordKey, value: record.value, version: stored.offset)
        }
        return true
    }

    /// Replays hold `holdId` at its marker: the hold's dead and parked jobs, in their original
    /// order, each marked redriven once it succeeded; then releases the hold and finishes the
    /// marker. A marker of another group's hold, or of a hold released already, is finished as is.
    private func replay(_ holdId: String, marker: JobTicket, runner: JobRunner) async {
        guard let key = marker.record.keyString, let hold = hold(of: key), hold.id == holdId else { return finish(marker) }
        guard let letters = await retryWhileOwned(marker, { try await self.queue.deadLetters(of: self.topic) }) else { return abandon(marker) }
        for copies in JobQueue.replayOrder(letters, hold: holdId) {
            // Every copy of a job holds its payload; the latest carries its latest error.
            guard let letter = copies.last else { continue }
            switch await runReplayed(letter, marker: marker, runner: runner) {
            case .succeeded:
                guard await markRedriven(copies, marker: marker) else { return abandon(marker) }
                stats.replayedCount.add(1, ordering: .relaxed)
            case let .failed(error):
                // Dead again: a new dead letter in the hold (with this error), the old copies
                // marked, the hold kept, and the jobs after it left parked.
                let again = deadLetterRecord(letter.record, attempt: retry.maxAttempts, error: error, hold: holdId,
                                             parkedBehind: letter.record.header(SpoolHeaders.parkedBehind), again: true)
                guard await produceUntilStored(topic: JobQueue.deadLetterTopic(of: topic), again, for: marker) != nil,
                      await markRedriven(copies, marker: marker) else { return abandon(marker) }
                stats.recorder.deadLettered()
                finish(marker)
                return await commit([marker.partition])
            case .lost:
                return abandon(marker)
            }
        }
        guard await storeControl(hold.releaseRecord(), for: marker) else { return abandon(marker) }
        finish(marker)
        await commit([marker.partition])
    }

    private enum ReplayOutcome { case succeeded, failed(String), lost }

    /// Runs one replayed job with the retry policy from attempt 1, in place (its key stays behind
    /// the marker meanwhile). A cancelled job counts as done.
    private func runReplayed(_ letter: DeadLetter, marker: JobTicket, runner: JobRunner) async -> ReplayOutcome {
        let record = letter.record
        let payload: Payload
        do {
            if let type = record.header(SpoolHeaders.jobType), type != typeName { throw JobError.wrongType(expected: typeName, found: type) }
            payload = try (record.value ?? []).withUnsafeBytes { try decodePayload($0) }
        } catch {
            return .failed("cannot decode the payload as \(typeName): \(error)")
        }
        let dropped: Set<String> = [SpoolHeaders.error, SpoolHeaders.originTopic, SpoolHeaders.originPartition, SpoolHeaders.originOffset,
                                    SpoolHeaders.failedAt, SpoolHeaders.hold, SpoolHeaders.parkedBehind]
        for attempt in 1...retry.maxAttempts {
            // The partition may have gone while this slept before the attempt: the new owner replays.
            let owned = book.withLock { $0.partitions[marker.partition].map { $0.generation == marker.generation && !$0.revoking } ?? false }
            guard owned else { return .lost }
            guard !jobControl.isCancelled(letter.id) else { return .succeeded }
            let context = JobContext(payload: payload, id: letter.id, key: letter.key, attempt: attempt, maxAttempts: retry.maxAttempts,
                                     topic: topic, partition: letter.originPartition ?? marker.partition.partition,
                                     offset: letter.originOffset ?? marker.offset,
                                     enqueuedAt: Date(timeIntervalSince1970: Double(record.timestamp) / 1000),
                                     headers: record.headers.filter { !dropped.contains($0.key) }, lease: JobLease(holder: leaseDesk, key: JobLeases.Key(marker)))
            let started = monotonicNanoseconds()
            stats.recorder.started(latencySeconds: nil)
            do {
                try await runReplayedHandler(context, JobLeases.Key(marker), runner: runner)
                stats.recorder.ended(after: Self.seconds(since: started), .succeeded)
                return .succeeded
            } catch where jobControl.isCancelled(letter.id) {
                stats.recorder.ended(after: Self.seconds(since: started), .cancelled)
                return .succeeded
            } catch JobLeaseError.lost {
                stats.recorder.ended(after: Self.seconds(since: started), nil)
                return .lost
            } catch where isStopping && Task.isCancelled {
                // Cut short because the worker stops: no attempt used; the next owner replays it.
                stats.recorder.ended(after: Self.seconds(since: started), nil)
                return .lost
            } catch {
                stats.recorder.ended(after: Self.seconds(since: started), .failed)
                if attempt == retry.maxAttempts { return .failed(String(describing: error)) }
                do {
                    try await Task.sleep(for: .milliseconds(retry.delay(afterAttempt: attempt).milliseconds))
                } catch {
                    return .lost
                }
            }
        }
        return .lost
    }

    /// One run of a replayed job's handler, in a task of its own: a cancellation of the job
    /// (`JobQueue.cancel`) cancels that task, not the runner, which goes on to replay the jobs
    /// parked behind it. (A cancelled runner would have its next handlers fail at their first
    /// cancellation check, and its backoff sleep end at once, abandoning the hold.) The runner's
    /// own cancellation (the worker stopping) reaches the run.
    private func runReplayedHandler(_ context: JobContext<Payload>, _ key: JobLeases.Key, runner: JobRunner) async throws {
        let run = LockedValue<Task<Void, any Error>?>(nil)
        // A cancellation before `run` is set is seen by `runHandler`'s own check after it opens
        // the lease (a cancellation is recorded before it looks for runs).
        let own = JobRunner(id: runner.id, cancel: { run.value?.cancel() }, lease: runner.lease, metrics: runner.metrics,
                            leaseHolder: runner.leaseHolder)
        let task = Task.preferring(jobExecutor) { try await self.runHandler(context, key, runner: own) }
        run.value = task
        try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    /// Marks the copies of a replayed job redriven in the dead-letter topic.
    private func markRedriven(_ copies: [DeadLetter], marker: JobTicket) async -> Bool {
        let records = copies.map(JobQueue.redrivenMarker)
        let dlq = JobQueue.deadLetterTopic(of: topic)
        return await retryWhileOwned(marker) { try await self.queue.transport.send(topic: dlq, records: records).first } != nil
    }

    /// Before taking in the records of partitions just assigned, reads the control topic to its
    /// end, so a hold the previous owner stored before its last commit is known before any later
    /// job of its key could start. Only when holds may matter: this worker holds keys, or knows
    /// of holds. A control topic that cannot be read in 600 tries, 100 ms apart, stops the worker
    /// rather than run jobs a hold may cover.
    func assignKnowingHolds(_ owned: [TopicPartition: CommittedOffset?]) async {
        if (onDeadLetter == .holdKey || jobControl.anyHeld.load(ordering: .acquiring)), ordering != .none,
           let transport = queue.transport as? any JobControlTransport {
            var known = false
            for _ in 0..<600 where !isStopping {
                if let records = try? await transport.readAll(topic: JobQueue.controlTopic(of: topic)) {
                    jobControl.update { $0.control.applyHolds(records) }
                    known = true
                    break
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
            if !known && !isStopping {
                stats.lastPollFailure.withLock { $0 = "could not read \(JobQueue.controlTopic(of: topic)) to learn the held keys: stopped" }
                stop()
            }
        }
        assign(owned)
    }
}
