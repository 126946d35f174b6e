import Foundation
import SpoolFormat

extension Worker {
    /// A run threw: retry after the policy's delay, or dead-letter after the last attempt.
    func failed(_ ticket: JobTicket, error: any Error) async {
        if case JobLeaseError.lost = error { return lost(ticket) }
        guard ticket.attempt < retry.maxAttempts else {
            await deadLetter(ticket, error: String(describing: error))
            return
        }
        let delay = retry.delay(afterAttempt: ticket.attempt)
        let due = nowMs() + delay.milliseconds
        switch ordering {
        case .none:
            // Enqueued again for later (held by the broker), and this offset released at once.
            // `producedAt` too: the broker sets it again when it delivers the new record. The
            // idempotency key names this group, the record and the attempt, so a send stored but
            // reported failed, sent again, or sent again by the next owner after a crash before
            // the commit, is dropped by the broker instead of splitting the job in two.
            let record = ticket.record.consumedRecord
            let replaced = [SpoolHeaders.attempt, SpoolHeaders.deliverAt, SpoolHeaders.idempotencyKey, SpoolHeaders.lastError, SpoolHeaders.producedAt,
                            SpoolHeaders.group]
            var headers = record.headers.filter { !replaced.contains($0.key) }
            headers += [RecordHeader(SpoolHeaders.attempt, String(ticket.attempt + 1)), RecordHeader(SpoolHeaders.deliverAt, String(due)),
                        RecordHeader(SpoolHeaders.lastError, String(String(describing: error).prefix(500))),
                        RecordHeader(SpoolHeaders.idempotencyKey, "retry:\(place(of: record)):\(ticket.attempt + 1)"),
                        // Every group of the topic reads it: it names this one, whose retry it is.
                        RecordHeader(SpoolHeaders.group, group)]
            // To the job's own topic, so it keeps its priority.
            let refused = LockedValue(false)
            guard await produceUntilStored(topic: record.topic, OutgoingRecord(key: record.key, value: record.value, headers: headers),
                                           for: ticket, refusedForGood: refused) != nil else {
                // Too large for its own topic even with the error cut short (a payload at the
                // topic's limit, and the retry's headers): it could never run again.
                if refused.value { return await deadLetter(ticket, error: "its retry is too large for \(record.topic): \(error)") }
                return abandon(ticket)
            }
            stats.recorder.retried()
            finish(ticket)
        case .key, .partition:
            // In place: the job keeps its key blocked; its next attempt is committed before it sleeps.
            let wake = book.withLock { $0.retry(ticket, attempt: ticket.attempt + 1, atMs: due) }
            stats.recorder.retried()
            await commit([ticket.partition])
            if let wake { scheduleWake(wake) }
        }
    }

    /// Sends the job to its topic's `.dlq` (`TOPIC.high.dlq` for a high one) with why and where it
    /// failed, finishes it and commits at once: until the commit passes it, a crash has the next
    /// owner dead-letter it again. Under
    /// `.holdKey` its key is held first (stored before the job finishes, so the key's next job
    /// sees the hold); a key held already keeps its hold, which the dead letter joins.
    func deadLetter(_ ticket: JobTicket, error: String) async {
        let record = ticket.record.consumedRecord
        var hold: KeyHold?
        if onDeadLetter == .holdKey, ordering != .none, let key = record.keyString {
            hold = self.hold(of: key) ?? KeyHold(group: group, key: key, partition: ticket.partition.partition, deadOffset: ticket.offset,
                                                 deadJobId: record.jobId, heldAtMs: nowMs())
        }
        guard await produceUntilStored(topic: JobQueue.deadLetterTopic(of: record.topic),
                                       deadLetterRecord(record, attempt: ticket.attempt, error: error, hold: hold?.id), mayDropValue: true,
                                       for: ticket) != nil else {
            return abandon(ticket)
        }
        if let hold, !(await storeHold(hold, for: ticket)) { return abandon(ticket) }
        stats.recorder.deadLettered()
        finish(ticket, deadLettered: true)
        await commit([ticket.partition])
    }

    /// A job's dead-letter record: its key, payload and headers, with why, where and when it
    /// failed, and the hold it belongs to and the dead job it is parked behind, if any. `record`
    /// is the job's record, or with `again` a dead letter of it, whose origin the new one keeps.
    /// Its idempotency key names `record`, so the broker drops a second dead letter of it (a send
    /// stored but reported failed and sent again, or one sent again after a crash before the commit).
    func deadLetterRecord(_ record: ConsumedRecord, attempt: Int, error: String, hold: String? = nil, parkedBehind: String? = nil,
                          again: Bool = false) -> OutgoingRecord {
        func origin(_ header: String, _ own: String) -> String { again ? record.header(header) ?? own : own }
        let replaced: Set<String> = [SpoolHeaders.attempt, SpoolHeaders.deliverAt, SpoolHeaders.idempotencyKey, SpoolHeaders.error,
                                     SpoolHeaders.originTopic, SpoolHeaders.originPartition, SpoolHeaders.originOffset, SpoolHeaders.failedAt,
                                     SpoolHeaders.hold, SpoolHeaders.parkedBehind, SpoolHeaders.redriven, SpoolHeaders.group]
        var headers = record.headers.filter { !replaced.contains($0.key) } + [
            RecordHeader(SpoolHeaders.attempt, String(attempt)),
            RecordHeader(SpoolHeaders.error, String(error.prefix(2000))),
            RecordHeader(SpoolHeaders.originTopic, origin(SpoolHeaders.originTopic, record.topic)),
            RecordHeader(SpoolHeaders.originPartition, origin(SpoolHeaders.originPartition, String(record.partition))),
            RecordHeader(SpoolHeaders.originOffset, origin(SpoolHeaders.originOffset, String(record.offset))),
            RecordHeader(SpoolHeaders.failedAt, String(nowMs())),
            RecordHeader(SpoolHeaders.group, group),
            RecordHeader(SpoolHeaders.idempotencyKey, "dead:\(place(of: record))"),
        ]
        if let hold { headers.append(RecordHeader(SpoolHeaders.hold, hold)) }
        if let parkedBehind { headers.append(RecordHeader(SpoolHeaders.parkedBehind, parkedBehind)) }
        return OutgoingRecord(key: record.key, value: record.value, headers: headers)
    }

    /// Where a record is, and for which group, for the idempotency keys of what a worker sends
    /// in its stead: "GROUP:TOPIC:PARTITION:OFFSET:TIMESTAMP" (the group, as every group of the
    /// topic retries and dead-letters the job for itself, and one group's copy must not be dropped
    /// as another's; the timestamp, so that a record at the same place in a topic deleted and
    /// created again within the dedupe window is not taken for it).
    func place(of record: ConsumedRecord) -> String {
        "\(group):\(record.topic):\(record.partition):\(record.offset):\(record.timestamp)"
    }

    /// A job whose retry or dead letter could not be stored before the worker gave up on it (it
    /// stops, or lost the partition): it stays unfinished, below the commit point, for the next
    /// owner to run again.
    func abandon(_ ticket: JobTicket) {
        book.withLock { $0.abandon(ticket) }
    }

    /// Produces, retrying every second while the worker still owns the job's partition (a broker
    /// restart or a full disk must not lose a retry or a dead letter). Returns where the record
    /// was stored: nil when the partition went elsewhere or the worker stopped and gave up.
    ///
    /// A record the topic refuses as too large (MESSAGE_TOO_LARGE: a payload near the limit and a
    /// long error) would be refused for ever, holding the job's slot, its key and the partition's
    /// commit point. It is sent again smaller (`JobRecordShrinking`): error texts cut short, then,
    /// for a dead letter (`mayDropValue`), without its payload.
    ///
    /// With `refusedForGood`, a record refused as too large with nothing left to take out is given
    /// up on at once (nil, and `refusedForGood` set) rather than sent again every second.
    func produceUntilStored(topic: String, _ record: OutgoingRecord, mayDropValue: Bool = false,
                            for ticket: JobTicket, refusedForGood: LockedValue<Bool>? = nil) async -> (partition: Int32, offset: Int64?)? {
        let sending = LockedValue(record)
        return await retryWhileOwned(ticket, givingUp: { refusedForGood?.value ?? false }) {
            do {
                return try await self.queue.transport.send(topic: topic, records: [sending.value]).first
            } catch let error as any KafkaCodedError where error.kafkaErrorCode == .messageTooLarge {
                guard let smaller = JobRecordShrinking.smaller(sending.value, mayDropValue: mayDropValue) else {
                    refusedForGood?.value = true
                    throw error
                }
                sending.value = smaller
                return try await self.queue.transport.send(topic: topic, records: [smaller]).first
            }
        }
    }

    /// Whether the ticket's partition is still this worker's, in the ticket's assignment.
    func owns(_ ticket: JobTicket) -> Bool {
        book.withLock { $0.partitions[ticket.partition]?.generation == ticket.generation }
    }

    /// Runs `body` until it succeeds, every second, while the worker still owns the ticket's
    /// partition; nil once it does not, the worker stopped and gave up, or `givingUp` says so.
    func retryWhileOwned<T: Sendable>(_ ticket: JobTicket, givingUp: @Sendable () -> Bool = { false },
                                      _ body: @Sendable () async throws -> T?) async -> T? {
        while true {
            do {
                if let result = try await body() { return result }
            } catch {}
            if givingUp() || !owns(ticket) || (isStopping && Task.isCancelled) { return nil }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
