extension Broker {
    /// With `fsync=always`, waits until everything a produce made with `acks: .leader` stored is on
    /// disk: the partition's batches, the records it held for later delivery, the idempotency
    /// keys it accepted and the stored records that its records dropped as duplicates by
    /// idempotency key copy, in any partition of the topic (the waits of an `acks: .all` produce). Otherwise returns at once. The two
    /// together are a produce with `acks: .all` in two halves, so that a server can append a
    /// connection's requests one after another, in the order they came, and still wait for their
    /// flushes together.
    public func waitUntilDurable(_ result: ProduceResult, topic: String, partition index: Int32) async throws(BrokerError) {
        try await waitUntilDurable(result, on: try partition(topic, index))
    }

    func waitUntilDurable(_ result: ProduceResult, on partition: Partition) async throws(BrokerError) {
        guard partition.log.fsync == .always else { return }
        do {
            if result.lastOffset >= 0 { try await partition.log.waitUntilDurable(result.lastOffset) }
            if let held = result.delayLogOffset { try await delays.log.waitUntilDurable(held) }
            if let keys = result.dedupeLogOffset { try await dedupe.log.waitUntilDurable(keys) }
            // A partition gone since (its topic deleted) took its records with it.
            for (index, offset) in result.originalOffsets.sorted(by: { $0.key < $1.key }) {
                guard let original = index == partition.index ? partition : try? self.partition(partition.topic, index),
                      original.topicId == partition.topicId else { continue }
                try await original.log.waitUntilDurable(offset)
            }
        } catch {
            throw BrokerError.from(error)
        }
    }
}
