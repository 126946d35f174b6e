import Foundation
import SpoolFormat
import SpoolLog
import SpoolSystem
import Synchronization

/// Records produced with `spool-deliver-at` in the future, held in an internal log until due.
///
/// Each held record is stored with its target topic and partition in two extra headers; when it
/// has been appended to its target, a marker record naming its offset is appended here. Opening
/// replays the log: held records without a marker are pending again. Segments below the oldest
/// pending record are deleted.
///
/// A crash after a due record reached its topic and before its marker was written delivers it
/// a second time: delivery from here is at least once.
final class DelayStore: Sendable {
    static let directoryName = "__spool_delayed-0"
    static let targetTopicHeader = SpoolHeaders.heldTopic
    static let targetPartitionHeader = SpoolHeaders.heldPartition
    /// The id of the topic when the record was held: a topic deleted and created again under the
    /// same name is another topic, which must not receive the deleted one's records.
    static let targetTopicIdHeader = "spool-delay-topic-id"
    static let deliveredHeader = SpoolHeaders.delivered
    /// "PRODUCER_ID:EPOCH:SEQUENCE" of a record held from an idempotent producer's batch.
    static let originHeader = "spool-delay-origin"
    /// How long a due record too large for its topic's batch limit waits before it is tried again
    /// (the limit was lowered after it was held: see `Broker.deliverDue`).
    static let tooLargeRetryMs: Int64 = 60_000
    /// How long the origins of delivered records are kept (`DeliveredOrigins`).
    static let deliveredOriginsWindowMs: Int64 = 5 * 60_000
    /// On a marker written by `cancel`: its records were taken back, not delivered, and their
    /// producer sends them again (no `DeliveredOrigins` for them).
    static let cancelledHeader = "spool-delay-cancelled"

    /// Which record of which idempotent producer's batch a held record is: a client that resends
    /// the batch after a crash (its answer lost) must not have the record held twice.
    struct Origin: Hashable, Sendable {
        var producerId: Int64
        var epoch: Int16
        var sequence: Int32

        var text: String { "\(producerId):\(epoch):\(sequence)" }

        init(producerId: Int64, epoch: Int16, sequence: Int32) {
            self.producerId = producerId
            self.epoch = epoch
            self.sequence = sequence
        }

        init?(_ text: String?) {
            let parts = text?.split(separator: ":") ?? []
            guard parts.count == 3, let id = Int64(parts[0]), let epoch = Int16(parts[1]), let sequence = Int32(parts[2]) else { return nil }
            self.init(producerId: id, epoch: epoch, sequence: sequence)
        }
    }

    /// An origin where its record goes: an idempotent producer numbers its sequences per
    /// partition, so the same producer id, epoch and sequence on another partition, or on a topic
    /// created again under the same name, is another record, not a resend.
    struct PlacedOrigin: Hashable, Sendable {
        var topic: String
        var partition: Int32
        var topicId: String?
        var origin: Origin
    }

    /// A held record waiting for its time.
    struct Pending: Sendable {
        var dueMs: Int64
        var offset: Int64
        var topic: String
        var partition: Int32
        /// nil for records held before topic ids were stored with them: delivered to the topic of
        /// their name if it owns such entries (`TopicMetadata.ownsEntriesWithoutId`).
        var topicId: String? = nil
        /// nil for a record of a batch without a producer id.
        var origin: Origin? = nil
        /// A job's later attempt (`spool-attempt` above 1), not its first run.
        var isRetry = false

        var placedOrigin: PlacedOrigin? { origin.map { PlacedOrigin(topic: topic, partition: partition, topicId: topicId, origin: $0) } }
    }

    /// A due record, ready for its topic.
    struct Due: Sendable {
        var pending: Pending
        var record: ProducerRecord
    }

    let log: PartitionLog
    private let queue: Mutex<DueQueue>
    /// Called when a record held now is due before every other (the delivery loop, sleeping until
    /// the earliest due time it knew, wakes to look again).
    private let earlierDue = Mutex<(@Sendable () -> Void)?>(nil)

    /// Sets what `hold` calls when it holds a record due before every other.
    func onEarlierDue(_ wake: @escaping @Sendable () -> Void) { earlierDue.withLock { $0 = wake } }

    /// Holds under way, each with the log end offset before it appended (a bound below its
    /// records): their records are in the log and not yet pending, and `markDelivered` must not
    /// delete their segment meanwhile.
    private let holding = Mutex<(next: Int, bounds: [Int: Int64])>((0, [:]))
    /// Tests: runs in `hold` after its records are appended and durable, before they are pending.
    let afterHoldAppend = Mutex<(@Sendable () -> Void)?>(nil)
    /// Tests: runs at the end of `hold`, its records pending (and so deliverable), before the
    /// caller appends the rest of their batch to the partition.
    let afterHoldPending = Mutex<(@Sendable () -> Void)?>(nil)

    init(dataDirectory: String, fsync: FsyncPolicy, fileSystem: any FileSystem, clock: @escaping @Sendable () -> Int64) throws {
        log = try PartitionLog.open(directory: dataDirectory + "/" + Self.directoryName, config: .internalLog(fsync: fsync), fileSystem: fileSystem, clock: clock)
        var pending: [Int64: Pending] = [:]
        var deliveredOrigins = DeliveredOrigins()
        try log.replay { batch in
            for record in batch.records {
                if let delivered = record.headerString(Self.deliveredHeader) {
                    let cancelled = record.header(Self.cancelledHeader) != nil
                    for offset in delivered.split(separator: ",").compactMap({ Int64($0) }) {
                        guard let held = pending.removeValue(forKey: offset), !cancelled, let origin = held.placedOrigin else { continue }
                        deliveredOrigins.insert(origin, offset: held.offset, atMs: batch.timestamp(of: record))
                    }
                } else if let held = Self.pending(record, offset: batch.offset(of: record)) {
                    pending[held.offset] = held
                }
            }
        }
        deliveredOrigins.expire(before: clock() - Self.deliveredOriginsWindowMs)
        var queue = DueQueue()
        queue.delivered = deliveredOrigins
        for held in pending.values { queue.insert(held) }
        self.queue = Mutex(queue)
    }

    private static func pending(_ record: Record, offset: Int64) -> Pending? {
        guard let topic = record.headerString(targetTopicHeader),
              let partition = record.headerString(targetPartitionHeader).flatMap({ Int32($0) }),
              let due = SpoolHeaders.parseMilliseconds(record.header(SpoolHeaders.deliverAt)) else { return nil }
        return Pending(dueMs: due, offset: offset, topic: topic, partition: partition, topicId: record.headerString(targetTopicIdHeader),
                       origin: Origin(record.headerString(originHeader)), isRetry: isRetry(record))
    }

    private static func isRetry(_ record: Record) -> Bool { (record.headerString(SpoolHeaders.attempt).flatMap { Int($0) } ?? 1) > 1 }

    /// Records held and not yet delivered, those of a delivery round under way included.
    var pendingCount: Int { queue.withLock { $0.count + $0.inDelivery } }

    /// Records waiting for their time, by target topic (those of a delivery round under way left out).
    var pendingByTopic: [String: HeldCounts] { queue.withLock { $0.byTopic } }

    /// When the next held record is due, if any.
    var nextDueMs: Int64? { queue.withLock { $0.first?.dueMs } }

    /// Holds records for `topic`/`partition`; each carries its `spool-deliver-at`. Returns the
    /// offsets they took in the delay log, or nil when every one is pending already (a resent
    /// batch: see `Origin`). It may block: for a thread that may wait for the disk
    /// (`HeaderRouter.mayWaitForDisk`).
    ///
    /// Under `fsync=always` it returns once they are on disk, blocking (the delay log's flush runs
    /// on its own queue), because the caller appends the rest of their batch to the partition only
    /// after this: that batch records the producer's sequence, and a crash that kept it but lost
    /// the held records would make the client's resend a duplicate, the held records gone for good.
    func hold(_ records: [(record: Record, timestamp: Int64, dueMs: Int64, origin: Origin?)], topic: String, topicId: String?,
              partition: Int32) throws(BrokerError) -> ClosedRange<Int64>? {
        let target = [RecordHeader(Self.targetTopicHeader, topic), RecordHeader(Self.targetPartitionHeader, String(partition))]
            + (topicId.map { [RecordHeader(Self.targetTopicIdHeader, $0)] } ?? [])
        // Looked up under the lock, not copied out of it: the set holds every pending origin.
        let fresh = queue.withLock { queue in
            records.filter { held in
                held.origin.map { origin in
                    let placed = PlacedOrigin(topic: topic, partition: partition, topicId: topicId, origin: origin)
                    return !queue.origins.contains(placed) && !queue.delivered.contains(placed)
                } ?? true
            }
        }
        guard !fresh.isEmpty else { return nil }
        let producing = fresh.map { held in
            ProducerRecord(key: held.record.key, value: held.record.value,
                           headers: held.record.headers + target + (held.origin.map { [RecordHeader(Self.originHeader, $0.text)] } ?? []),
                           timestamp: held.timestamp)
        }
        let token = holding.withLock { holding -> Int in
            holding.next += 1
            holding.bounds[holding.next] = log.logEndOffset
            return holding.next
        }
        defer { _ = holding.withLock { $0.bounds.removeValue(forKey: token) } }
        let result: AppendResult
        do {
            result = try log.append(RecordBatch(producing: producing).encoded())
            if log.fsync == .always { try log.waitUntilDurableBlocking(result.lastOffset) }
        } catch {
            throw BrokerError.from(error)
        }
        afterHoldAppend.withLock { $0 }?()
        let earlier = queue.withLock { queue -> Bool in
            let before = queue.first?.dueMs ?? Int64.max
            for (index, held) in fresh.enumerated() {
                queue.insert(Pending(dueMs: held.dueMs, offset: result.baseOffset + Int64(index), topic: topic, partition: partition,
                                     topicId: topicId, origin: held.origin, isRetry: Self.isRetry(held.record)))
            }
            return (queue.first?.dueMs ?? Int64.max) < before
        }
        if earlier { earlierDue.withLock { $0 }?() }
        afterHoldPending.withLock { $0 }?()
        return result.baseOffset...result.lastOffset
    }

    /// Takes back records `hold` stored whose batch then failed to reach its partition: the client
    /// was told the produce failed and will send them again. Those already taken for delivery go
    /// on (at least once). A marker that cannot be written leaves them pending, to be delivered.
    func cancel(_ offsets: ClosedRange<Int64>) {
        let cancelled = queue.withLock { $0.remove { offsets.contains($0.offset) } }
        guard !cancelled.isEmpty else { return }
        let marker = ProducerRecord(key: nil, value: nil,
                                    headers: [RecordHeader(Self.deliveredHeader, cancelled.map { String($0.offset) }.joined(separator: ",")),
                                              RecordHeader(Self.cancelledHeader, "1")],
                                    timestamp: currentTimeMs())
        do { _ = try log.append(RecordBatch(producing: [marker]).encoded()) } catch {
            queue.withLock { queue in for held in cancelled { queue.insert(held) } }
        }
    }

    /// Takes up to `limit` records due at `now` off the schedule and reads them back. They go back
    /// on with `putBack` if they cannot be delivered yet.
    ///
    /// Each comes back without the headers the delay log adds (its target, its origin) and
    /// timestamped `now`, its produce timestamp in `spool-produced-at`: it becomes
    /// readable when delivered, and its topic's retention must count from then, as for a record
    /// produced then. With its old timestamp, one held longer than `retention.ms` was deleted by
    /// the next retention passes after it arrived.
    func takeDue(now: Int64, limit: Int = 1000) throws(BrokerError) -> [Due] {
        let due = queue.withLock { queue in
            var taken: [Pending] = []
            while taken.count < limit, let first = queue.first, first.dueMs <= now { taken.append(queue.removeFirst()) }
            queue.inDelivery += taken.count
            return taken
        }
        guard !due.isEmpty else { return [] }
        do {
            var records: [Int64: ProducerRecord] = [:]
            for pending in due.sorted(by: { $0.offset < $1.offset }) where records[pending.offset] == nil {
                let slice = try log.read(from: pending.offset, maxBytes: 1 << 20).slice
                try slice.forEachBatch { bytes in
                    let batch = try RecordBatch(decoding: bytes)
                    for record in batch.records {
                        // The origin stays in the delay log, where a restart reads it (`init`):
                        // the delivered record is not read for it, and its consumers have no use for it.
                        let replaced = [Self.targetTopicHeader, Self.targetPartitionHeader, Self.targetTopicIdHeader, Self.originHeader,
                                        SpoolHeaders.producedAt]
                        let producedAt = RecordHeader(SpoolHeaders.producedAt, String(batch.timestamp(of: record)))
                        records[batch.offset(of: record)] = ProducerRecord(
                            key: record.key, value: record.value, headers: record.headers.filter { !replaced.contains($0.key) } + [producedAt],
                            timestamp: now)
                    }
                }
            }
            let readable = due.compactMap { pending in records[pending.offset].map { Due(pending: pending, record: $0) } }
            queue.withLock { $0.inDelivery -= due.count - readable.count }
            return readable
        } catch {
            putBack(due)
            throw BrokerError.from(error as? LogError ?? .failed(String(describing: error)))
        }
    }

    /// Puts records back on the schedule (their delivery failed and is tried again later).
    func putBack(_ pending: [Pending]) {
        queue.withLock { queue in
            for held in pending { queue.insert(held) }
            queue.inDelivery -= pending.count
        }
    }

    /// Whether a record of this origin was delivered within `deliveredOriginsWindowMs`: a resend
    /// of it is not stored again (`DeliveredOrigins`).
    func wasDelivered(_ origin: PlacedOrigin) -> Bool { queue.withLock { $0.delivered.contains(origin) } }

    /// Records that the `held` records reached their topics (or were dropped), then deletes the
    /// segments that hold nothing pending, nor a recently delivered origin, any more. Blocks until
    /// the marker is durable: call it from the delivery thread only.
    func markDelivered(_ held: [Pending], now: Int64) throws(BrokerError) {
        guard !held.isEmpty else { return }
        let offsets = held.map(\.offset)
        // Marked or not, this round is over for these records: after a failure they are delivered
        // again only by the next start.
        defer { queue.withLock { $0.inDelivery -= offsets.count } }
        let marker = ProducerRecord(key: nil, value: nil,
                                    headers: [RecordHeader(Self.deliveredHeader, offsets.map(String.init).joined(separator: ","))],
                                    timestamp: currentTimeMs())
        do {
            let result = try log.append(RecordBatch(producing: [marker]).encoded())
            if log.fsync == .always { try log.waitUntilDurableBlocking(result.lastOffset) }
            let oldestDelivered = queue.withLock { queue -> Int64? in
                for pending in held { if let origin = pending.placedOrigin { queue.delivered.insert(origin, offset: pending.offset, atMs: now) } }
                queue.delivered.expire(before: now - Self.deliveredOriginsWindowMs)
                return queue.delivered.oldestOffset
            }
            // Read in this order: a hold that starts after the end was read appends above it; one
            // under way when `holding` is read is bounded there; one finished before that has its
            // records pending by then.
            let end = log.logEndOffset
            let underWay = holding.withLock { $0.bounds.values.min() } ?? end
            let oldest = min(end, underWay, queue.withLock { $0.oldestOffset } ?? end, oldestDelivered ?? end)
            if log.segmentBaseOffsets.count > 1 { _ = try log.deleteSegments(before: oldest) }
        } catch {
            throw BrokerError.from(error)
        }
    }

    func close() throws { try log.close() }
}

/// Pending records ordered by due time (a binary min-heap), plus the oldest offset still pending.
struct DueQueue {
    private var heap: [DelayStore.Pending] = []
    /// Records taken off the heap for a delivery round and not yet marked delivered or put back.
    var inDelivery = 0

    var count: Int { heap.count }
    /// Origins of the pending records that have one (`DelayStore.Origin`).
    private(set) var origins: Set<DelayStore.PlacedOrigin> = []
    /// Origins of the records delivered lately.
    var delivered = DeliveredOrigins()
    /// The pending records by target topic, kept as they come and go (what `/metrics` reads).
    private(set) var byTopic: [String: HeldCounts] = [:]

    private mutating func tally(_ element: DelayStore.Pending, _ change: Int) {
        var counts = byTopic[element.topic] ?? HeldCounts()
        if element.isRetry { counts.retrying += change } else { counts.scheduled += change }
        byTopic[element.topic] = counts.scheduled == 0 && counts.retrying == 0 ? nil : counts
    }
    var first: DelayStore.Pending? { heap.first }
    var oldestOffset: Int64? { heap.lazy.map(\.offset).min() }

    private static func before(_ a: DelayStore.Pending, _ b: DelayStore.Pending) -> Bool {
        a.dueMs != b.dueMs ? a.dueMs < b.dueMs : a.offset < b.offset
    }

    mutating func insert(_ element: DelayStore.Pending) {
        if let origin = element.placedOrigin { origins.insert(origin) }
        tally(element, 1)
        heap.append(element)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns every pending record matching `predicate` (a rebuild of the heap:
    /// for the rare cancellation, not the delivery path).
    mutating func remove(where predicate: (DelayStore.Pending) -> Bool) -> [DelayStore.Pending] {
        let removed = heap.filter(predicate)
        guard !removed.isEmpty else { return [] }
        let kept = heap.filter { !predicate($0) }
        heap = []
        origins = []
        byTopic = [:]
        for element in kept { insert(element) }
        return removed
    }

    mutating func removeFirst() -> DelayStore.Pending {
        let first = heap[0]
        if let origin = first.placedOrigin { origins.remove(origin) }
        tally(first, -1)
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count, Self.before(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count, Self.before(heap[right], heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}

/// Records held for one topic: first runs and later attempts of its jobs.
public struct HeldCounts: Sendable, Equatable {
    /// Held with no `spool-attempt` above 1: scheduled jobs (and other delayed records).
    public var scheduled = 0
    /// Held with a `spool-attempt` above 1: jobs waiting to be tried again.
    public var retrying = 0

    public init(scheduled: Int = 0, retrying: Int = 0) {
        self.scheduled = scheduled
        self.retrying = retrying
    }
}
