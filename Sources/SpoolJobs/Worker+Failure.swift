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
            let replaced = [SpoolHeaders.attempt, SpoolHeaders.deliverAt, SpoolHeaders.idempotencyKey, SpoolHeaders.lastError]
            var headers = ticket.record.headers.filter { !replaced.contains($0.key) }
            headers += [RecordHeader(SpoolHeaders.attempt, String(ticket.attempt + 1)), RecordHeader(SpoolHeaders.deliverAt, String(due)),
                        RecordHeader(SpoolHeaders.lastError, String(String(describing: error).prefix(500)))]
            // To the job's own topic, so it keeps its priority.
            guard await produceUntilStored(topic: ticket.record.topic, OutgoingRecord(key: ticket.record.key, value: ticket.record.value, headers: headers),
                                           for: ticket) else { return abandon(ticket) }
            finish(ticket)
        case .key, .partition:
            // In place: the job keeps its key blocked; its next attempt is committed before it sleeps.
            let wake = book.withLock { $0.retry(ticket, attempt: ticket.attempt + 1, atMs: due) }
            await commit([ticket.partition])
            if let wake { scheduleWake(wake) }
        }
    }

    /// Sends the job to its topic's `.dlq` (`TOPIC.high.dlq` for a high one) with why and where it failed, finishes it and commits at once:
    /// until the commit passes it, a crash has the next owner dead-letter it again.
    func deadLetter(_ ticket: JobTicket, error: String) async {
        let record = ticket.record
        let replaced: Set<String> = [SpoolHeaders.attempt, SpoolHeaders.deliverAt, SpoolHeaders.idempotencyKey, SpoolHeaders.error,
                                     SpoolHeaders.originTopic, SpoolHeaders.originPartition, SpoolHeaders.originOffset, SpoolHeaders.failedAt]
        let headers = record.headers.filter { !replaced.contains($0.key) } + [
            RecordHeader(SpoolHeaders.attempt, String(ticket.attempt)),
            RecordHeader(SpoolHeaders.error, String(error.prefix(2000))),
            RecordHeader(SpoolHeaders.originTopic, record.topic),
            RecordHeader(SpoolHeaders.originPartition, String(record.partition)),
            RecordHeader(SpoolHeaders.originOffset, String(record.offset)),
            RecordHeader(SpoolHeaders.failedAt, String(nowMs())),
        ]
        guard await produceUntilStored(topic: JobQueue.deadLetterTopic(of: record.topic),
                                       OutgoingRecord(key: record.key, value: record.value, headers: headers), for: ticket) else {
            return abandon(ticket)
        }
        stats.deadLetteredCount.add(1, ordering: .relaxed)
        finish(ticket, deadLettered: true)
        await commit([ticket.partition])
    }

    /// A job whose retry or dead letter could not be stored before the worker gave up on it (it
    /// stops, or lost the partition): it stays unfinished, below the commit point, for the next
    /// owner to run again.
    private func abandon(_ ticket: JobTicket) {
        book.withLock { $0.abandon(ticket) }
    }

    /// Produces, retrying every second while the worker still owns the job's partition (a broker
    /// restart or a full disk must not lose a retry or a dead letter). Returns whether the record
    /// was stored: not when the partition went elsewhere or the worker stopped and gave up.
    private func produceUntilStored(topic: String, _ record: OutgoingRecord, for ticket: JobTicket) async -> Bool {
        while true {
            do {
                _ = try await queue.transport.send(topic: topic, records: [record])
                return true
            } catch {
                let owned = book.withLock { $0.partitions[ticket.partition]?.generation == ticket.generation }
                if !owned || (isStopping && Task.isCancelled) { return false }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
