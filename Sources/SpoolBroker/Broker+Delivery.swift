import Foundation
import SpoolFormat
import SpoolLog

extension Broker {
    /// The router every produce goes through for `spool-deliver-at` and `spool-idempotency-key`.
    var headerRouter: HeaderRouter {
        HeaderRouter(delays: delays, dedupe: dedupe, windowMs: { [weak self] topic in self?.dedupeWindowMs(topic) ?? 0 },
                     topicId: { [weak self] topic in self?.topics.withLock { $0[topic]?.metadata.id } }, clock: clock)
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

    /// The longest the delivery loop sleeps: held records are due by the wall clock, which can be
    /// set forward while it sleeps.
    static let deliverySleepMaxMs: Int64 = 1_000

    /// Starts the delivery loop on a thread of its own: it blocks on flushes, which must never
    /// happen on a Swift concurrency thread. It sleeps until the earliest due time (a second at
    /// most), and `hold` wakes it when it holds a record due sooner.
    func startDelayedDelivery() {
        let loop = delivery
        delays.onEarlierDue { loop.wake.signal() }
        let thread = Thread { [weak self] in
            while !loop.stopping.load(ordering: .acquiring) {
                guard let self else { break }
                let now = self.clock()
                let next = self.delays.nextDueMs ?? Int64.max
                if next > now {
                    _ = loop.wake.wait(timeout: .now() + .milliseconds(Int(min(Self.deliverySleepMaxMs, next - now))))
                    continue
                }
                do throws(BrokerError) {
                    try self.deliverDue()
                } catch {
                    FileHandle.standardError.write(Data("spool: delayed delivery failed, retrying in 1 s: \(error)\n".utf8))
                    _ = loop.wake.wait(timeout: .now() + .seconds(1))
                }
            }
            loop.finished.signal()
        }
        thread.name = "spool.delayed-delivery"
        thread.start()
    }

    /// Tells the delivery loop that the broker's clock moved on: for a clock of the caller's own
    /// (`Broker.open(_:clock:)` in simulations and tests), which the loop cannot see move while it
    /// sleeps until the earliest due time. Records due by the new time are delivered at once.
    public func clockMoved() { delivery.wake.signal() }

    /// Stops the delivery loop after the round under way (a round is the target appends, then the
    /// delivered marker), so a clean shutdown never leaves a delivered record without its marker,
    /// which would deliver it again after the restart.
    func stopDelayedDelivery() {
        guard !delivery.stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        delivery.wake.signal()
        _ = delivery.finished.wait(timeout: .now() + .seconds(10))
    }

    /// Appends every due held record to its topic (one batch per partition, in the order they
    /// were held), waits until they are durable, then marks them delivered.
    func deliverDue() throws(BrokerError) {
        let due = try delays.takeDue(now: clock())
        guard !due.isEmpty else { return }
        var byTarget: [TopicPartition: [DelayStore.Due]] = [:]
        for item in due { byTarget[TopicPartition(item.pending.topic, item.pending.partition), default: []].append(item) }
        var delivered: [Int64] = []
        var failed: [DelayStore.Pending] = []
        var firstError: BrokerError?
        for (target, items) in byTarget.sorted(by: { $0.key < $1.key }) {
            // Records held for a topic since deleted, even one created again under its name, go nowhere.
            let currentId = topics.withLock { $0[target.topic]?.metadata.id }
            let stale = items.filter { $0.pending.topicId.map { $0 != currentId } ?? false }
            if !stale.isEmpty {
                FileHandle.standardError.write(Data("spool: dropping \(stale.count) held record(s) for \(target): its topic was deleted\n".utf8))
                delivered += stale.map(\.pending.offset)
            }
            let staleOffsets = Set(stale.map(\.pending.offset))
            let ordered = items.filter { !staleOffsets.contains($0.pending.offset) }.sorted { $0.pending.offset < $1.pending.offset }
            if ordered.isEmpty { continue }
            do throws(BrokerError) {
                let partition = try partition(target.topic, target.partition)
                let batch = RecordBatch(producing: ordered.map(\.record)).encoded()
                let appended = try batch.withBytes { raw throws(BrokerError) in try partition.append(raw) }
                if partition.log.fsync == .always {
                    do { try partition.log.waitUntilDurableBlocking(appended.lastOffset) } catch { throw BrokerError.from(error) }
                }
                delivered += ordered.map(\.pending.offset)
            } catch {
                if case .unknownTopicOrPartition = error {
                    // The topic was deleted (or shrank) while its records waited: nowhere to go.
                    FileHandle.standardError.write(Data("spool: dropping \(ordered.count) held record(s) for \(target): \(error)\n".utf8))
                    delivered += ordered.map(\.pending.offset)
                } else {
                    failed += ordered.map(\.pending)
                    firstError = firstError ?? error
                }
            }
        }
        if !failed.isEmpty { delays.putBack(failed) }
        try delays.markDelivered(delivered)
        if let firstError { throw firstError }
    }
}
