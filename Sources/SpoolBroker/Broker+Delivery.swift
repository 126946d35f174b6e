import Foundation
import SpoolSystem
import SpoolFormat
import SpoolLog

extension Broker {
    /// The router every produce goes through for `spool-deliver-at` and `spool-idempotency-key`.
    var headerRouter: HeaderRouter {
        HeaderRouter(delays: delays, dedupe: dedupe, windowMs: { [weak self] topic in self?.dedupeWindowMs(topic) ?? 0 }, clock: clock)
    }

    /// The topic's `dedupe.window.ms` (24 h unless set).
    func dedupeWindowMs(_ topic: String) -> Int64 {
        topics.withLock { $0[topic]?.metadata.config.dedupeWindowMs } ?? DedupeWindow.windowDefaultMs
    }

    /// Records held for delivery at a later time and not yet delivered.
    public var heldRecordCount: Int { delays.pendingCount }

    /// How often the delivery loop looks for due records when nothing is due sooner.
    static let deliveryPollMs: Int64 = 20

    func startDelayedDelivery() {
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                let now = self.clock()
                let next = self.delays.nextDueMs ?? Int64.max
                if next > now {
                    try? await Task.sleep(for: .milliseconds(min(Self.deliveryPollMs, next - now)))
                    continue
                }
                // A round runs whole (target appends, then the delivered marker); close() waits for it.
                guard self.deliveryRound.withLock({ state in
                    if state.stopping { return false }
                    state.running = true
                    return true
                }) else { return }
                do throws(BrokerError) {
                    try await self.deliverDue()
                    self.deliveryRound.withLock { $0.running = false }
                } catch {
                    self.deliveryRound.withLock { $0.running = false }
                    FileHandle.standardError.write(Data("spool: delayed delivery failed, retrying in 1 s: \(error)\n".utf8))
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        deliveryTask.withLock { $0 = task }
    }

    /// Stops the delivery loop after the round under way, so a clean shutdown never leaves a
    /// delivered record without its marker (which would deliver it again after the restart).
    func stopDelayedDelivery() {
        deliveryRound.withLock { $0.stopping = true }
        let deadline = monotonicNanoseconds() + 10_000_000_000
        while deliveryRound.withLock({ $0.running }) && monotonicNanoseconds() < deadline { usleep(1_000) }
        deliveryTask.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// Appends every due held record to its topic (one batch per partition, in the order they
    /// were held), waits until they are durable, then marks them delivered.
    func deliverDue() async throws(BrokerError) {
        let due = try delays.takeDue(now: clock())
        guard !due.isEmpty else { return }
        var byTarget: [TopicPartition: [DelayStore.Due]] = [:]
        for item in due { byTarget[TopicPartition(item.pending.topic, item.pending.partition), default: []].append(item) }
        var delivered: [Int64] = []
        var failed: [DelayStore.Pending] = []
        var firstError: BrokerError?
        for (target, items) in byTarget.sorted(by: { $0.key < $1.key }) {
            let ordered = items.sorted { $0.pending.offset < $1.pending.offset }
            do throws(BrokerError) {
                let partition = try partition(target.topic, target.partition)
                let batch = RecordBatch(producing: ordered.map(\.record)).encoded()
                let appended = try batch.withBytes { raw throws(BrokerError) in try partition.append(raw) }
                if partition.log.config.fsync == .always {
                    do { try await partition.log.waitUntilDurable(appended.lastOffset) } catch { throw BrokerError.from(error) }
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
        try await delays.markDelivered(delivered)
        if let firstError { throw firstError }
    }
}
