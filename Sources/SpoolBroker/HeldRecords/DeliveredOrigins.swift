/// The origins (`DelayStore.PlacedOrigin`) of held records delivered within the last
/// `DelayStore.deliveredOriginsWindowMs`, each with its offset in the delay log.
///
/// Why: an idempotent producer's batch records its sequence in the partition only after its held
/// records are in the delay log. A record due at once can be delivered in between; a crash then
/// can keep the delivery and lose the batch, and the client's resend, which the partition no longer
/// knows, would be stored a second time. A resend comes within the client's delivery timeout
/// (Kafka's default: 2 minutes), so a few minutes of origins is enough, and bounds the memory.
struct DeliveredOrigins {
    private var delivered: [DelayStore.PlacedOrigin: (offset: Int64, atMs: Int64)] = [:]
    /// In the order they were delivered, from `head` on: what `expire` walks.
    private var order: [(origin: DelayStore.PlacedOrigin, atMs: Int64)] = []
    private var head = 0

    var count: Int { delivered.count }

    func contains(_ origin: DelayStore.PlacedOrigin) -> Bool { delivered[origin] != nil }

    /// The lowest delay log offset among them: the log keeps its segment, so that a restart reads
    /// the origin again (`DelayStore.init`).
    var oldestOffset: Int64? { delivered.values.lazy.map(\.offset).min() }

    mutating func insert(_ origin: DelayStore.PlacedOrigin, offset: Int64, atMs: Int64) {
        delivered[origin] = (offset, atMs)
        order.append((origin, atMs))
    }

    /// Forgets the origins delivered before `cutoff` (milliseconds since the Unix epoch).
    mutating func expire(before cutoff: Int64) {
        while head < order.count, order[head].atMs < cutoff {
            // Delivered again since (a restart that lost the marker): that later time counts.
            if delivered[order[head].origin]?.atMs == order[head].atMs { delivered[order[head].origin] = nil }
            head += 1
        }
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
