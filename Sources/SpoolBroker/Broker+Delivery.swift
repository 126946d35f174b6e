import Foundation
import SpoolFormat
import SpoolLog
import SpoolSystem

extension Broker {
    /// The router every produce goes through for `spool-deliver-at` and `spool-idempotency-key`.
    var headerRouter: HeaderRouter {
        HeaderRouter(delays: delays, dedupe: dedupe, windowMs: { [weak self] topic in self?.dedupeWindowMs(topic) ?? 0 },
                     currentTopicId: { [weak self] topic in self?.topics.withLock { $0[topic]?.metadata.id } }, clock: clock)
    }

    /// The topic's `dedupe.window.ms` (24 h unless set).
    func dedupeWindowMs(_ topic: String) -> Int64 {
        topics.withLock { $0[topic]?.metadata.config.dedupeWindowMs } ?? DedupeWindow.windowDefaultMs
    }

    /// Records held for delivery at a later time and not yet delivered.
    public var heldRecordCount: Int { delays.pendingCount }

    /// Records held for a later time, by the topic they go to: first runs of jobs (scheduled) and
    /// later attempts (`spool-attempt` above 1: retrying). Records of a delivery round under way
    /// (due, being appended) are left out.
    public var heldRecordsByTopic: [String: HeldCounts] { delays.pendingByTopic }

    /// Starts the delivery loop on a thread of its own: it blocks on flushes, which must never
    /// happen on a Swift concurrency thread. Between rounds it sleeps on a wall-clock alarm set to
    /// the earliest due time: the kernel wakes it then, or when the wall clock is set (due times
    /// are wall-clock times), and `hold` wakes it when it holds a record due sooner. With nothing
    /// held it sleeps until woken.
    func startDelayedDelivery() {
        let loop = delivery
        delays.onEarlierDue { loop.alarm.wake() }
        let thread = Thread { [weak self] in
            while !loop.stopping.load(ordering: .acquiring) {
                guard let self else { break }
                loop.looks.add(1, ordering: .relaxed)
                let now = self.clock()
                guard let next = self.delays.nextDueMs, next <= now else {
                    self.sleepUntil(dueMs: self.delays.nextDueMs, now: now)
                    continue
                }
                do throws(BrokerError) {
                    try self.deliverDue()
                } catch {
                    FileHandle.standardError.write(Data("spool: delayed delivery failed, retrying in 1 s: \(error)\n".utf8))
                    self.sleepUntil(dueMs: now + 1_000, now: now)
                }
            }
            loop.finished.signal()
        }
        thread.name = "spool.delayed-delivery"
        thread.start()
    }

    /// Sleeps the delivery thread until the broker's clock reads `dueMs` (nil: until woken). The
    /// alarm runs on the wall clock; the broker's clock is the wall clock unless the broker was
    /// opened with one of its own, so the wait is the gap between the two read now, which for the
    /// wall clock is `dueMs` itself.
    private func sleepUntil(dueMs: Int64?, now: Int64) {
        var wallDue: Int64?
        if let dueMs {
            let (gap, gapOverflow) = dueMs.subtractingReportingOverflow(now)
            let (due, dueOverflow) = currentTimeMs().addingReportingOverflow(gap)
            wallDue = gapOverflow || dueOverflow ? nil : due
        }
        do {
            _ = try delivery.alarm.wait(untilMs: wallDue)
        } catch {
            // Only a broken descriptor fails here; the loop goes on, looking once a second.
            FileHandle.standardError.write(Data("spool: delayed delivery's alarm failed: \(error)\n".utf8))
            usleep(1_000_000)
        }
    }

    /// Tells the delivery loop that the broker's clock moved on: for a clock of the caller's own
    /// (`Broker.open(_:clock:)` in simulations and tests), which the loop cannot see move while it
    /// sleeps until the earliest due time. Records due by the new time are delivered at once.
    public func clockMoved() { delivery.alarm.wake() }

    /// Stops the delivery loop after the round under way (a round is the target appends, then the
    /// delivered marker), so a clean shutdown never leaves a delivered record without its marker,
    /// which would deliver it again after the restart.
    func stopDelayedDelivery() {
        guard !delivery.stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        delivery.alarm.wake()
        _ = delivery.finished.wait(timeout: .now() + .seconds(10))
    }

    /// Appends every due held record to its topic (in the order they were held, as few batches
    /// per partition as its batch limit allows), waits until they are durable, then marks them
    /// delivered.
    func deliverDue() throws(BrokerError) {
        let now = clock()
        let due = try delays.takeDue(now: now)
        guard !due.isEmpty else { return }
        var byTarget: [TopicPartition: [DelayStore.Due]] = [:]
        for item in due { byTarget[TopicPartition(item.pending.topic, item.pending.partition), default: []].append(item) }
        var delivered: [DelayStore.Pending] = []
        var failed: [DelayStore.Pending] = []
        var tooLarge: [DelayStore.Pending] = []
        var firstError: BrokerError?
        for (target, items) in byTarget.sorted(by: { $0.key < $1.key }) {
            // Records held for a topic since deleted, even one created again under its name, go
            // nowhere. Every hold names its topic's id (from the partition the produce took); a
            // record without one was held by a version that did not, and goes to the topic of its
            // name, as it did then, if that topic is the one it was held for: one created by that
            // version too, upgraded in place (`TopicMetadata.ownsEntriesWithoutId`).
            let current = topics.withLock { $0[target.topic]?.metadata }
            let currentId = current?.id
            let stale = items.filter { current?.owns(entryOf: $0.pending.topicId) != true }
            if !stale.isEmpty {
                FileHandle.standardError.write(Data("spool: dropping \(stale.count) held record(s) for \(target): its topic was deleted\n".utf8))
                delivered += stale.map(\.pending)
            }
            let staleOffsets = Set(stale.map(\.pending.offset))
            let ordered = items.filter { !staleOffsets.contains($0.pending.offset) }.sorted { $0.pending.offset < $1.pending.offset }
            if ordered.isEmpty { continue }
            // Appended in order, a run at a time: on a failure, the runs before it are delivered.
            var appendedCount = 0
            do throws(BrokerError) {
                let partition = try partition(target.topic, target.partition)
                // Deleted and created again since `currentId` was read: the records are the old topic's.
                guard partition.topicId == currentId else { throw .unknownTopicOrPartition(topic: target.topic, partition: nil) }
                for run in RecordBatch.producingRuns(ordered.map(\.record), maxBytes: partition.log.batchBytesLimit) {
                    let batch = RecordBatch(producing: Array(run)).encoded()
                    if run.count == 1 && batch.count > partition.log.batchBytesLimit {
                        tooLarge.append(ordered[run.startIndex].pending)
                        appendedCount += 1
                        continue
                    }
                    let appended = try batch.withBytes { raw throws(BrokerError) in try partition.append(raw) }
                    if partition.log.fsync == .always {
                        do { try partition.log.waitUntilDurableBlocking(appended.lastOffset) } catch { throw BrokerError.from(error) }
                    }
                    delivered += ordered[run.indices].map(\.pending)
                    appendedCount += run.count
                }
            } catch {
                let rest = ordered[appendedCount...]
                if case .unknownTopicOrPartition = error {
                    // The topic was deleted (or shrank) while its records waited: nowhere to go.
                    FileHandle.standardError.write(Data("spool: dropping \(rest.count) held record(s) for \(target): \(error)\n".utf8))
                    delivered += rest.map(\.pending)
                } else {
                    failed += rest.map(\.pending)
                    firstError = firstError ?? error
                }
            }
        }
        if !failed.isEmpty { delays.putBack(failed) }
        if !tooLarge.isEmpty {
            // Each was accepted alone, under a larger max.message.bytes: kept, not dropped, and
            // tried again later, so raising the limit delivers it; the records after it go on.
            FileHandle.standardError.write(Data(("spool: \(tooLarge.count) held record(s) too large for their topic's max.message.bytes "
                + "since it was lowered; trying again in \(DelayStore.tooLargeRetryMs / 1000) s\n").utf8))
            delays.putBack(tooLarge.map { held in
                var later = held
                later.dueMs = now + DelayStore.tooLargeRetryMs
                return later
            })
        }
        try delays.markDelivered(delivered, now: clock())
        if let firstError { throw firstError }
    }
}
