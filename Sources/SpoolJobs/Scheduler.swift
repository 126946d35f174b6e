import Foundation
import SpoolFormat
import Synchronization

/// Where a scheduler reads the time, and how often it looks at it. Tests pass a clock they move.
public struct ScheduleClock: Sendable {
    public var now: @Sendable () -> Date
    /// The longest a scheduler sleeps before it looks at the clock again.
    public var pollInterval: Duration

    public init(now: @escaping @Sendable () -> Date, pollInterval: Duration) {
        self.now = now
        self.pollInterval = pollInterval
    }

    /// The system's wall clock, looked at every second at least (and at each tick's time).
    public static let system = ScheduleClock(now: { Date() }, pollInterval: .seconds(1))
}

/// Enqueues the ticks of schedules. Every `Worker` given `schedules:` runs one for its topic; any
/// number may run at once, on any number of hosts, and each tick is still enqueued once: its job id,
/// `NAME@TICK`, is its idempotency key, and the broker drops the copies within its dedupe window.
///
/// It registers its own schedules in `spool-schedules` when it starts, then fires every schedule
/// stored there for its topic (those added with `spool schedule add` too), reading the store again
/// every `refreshInterval`. When it is behind by several ticks (it started after downtime, or was
/// stalled), only the latest is enqueued, and `Schedule.missed` says whether ticks from before it
/// started count (see `MissedTicks`).
public final class Scheduler: Sendable {
    public let queue: JobQueue
    /// The job topic whose schedules it fires; nil: every topic's.
    public let topic: String?
    public let schedules: [Schedule]
    public let clock: ScheduleClock
    /// How often stored schedules are read again (a schedule added or removed elsewhere takes
    /// effect within it).
    public let refreshInterval: Duration
    private let stopping = Atomic(false)
    private let counts = Mutex(Counts())

    struct Counts {
        var startedAt: Date?
        var sent = 0
        var lastError: String?
    }

    public init(queue: JobQueue, topic: String?, schedules: [Schedule] = [], clock: ScheduleClock = .system, refreshInterval: Duration = .seconds(10)) {
        self.queue = queue
        self.topic = topic
        self.schedules = schedules
        self.clock = clock
        self.refreshInterval = refreshInterval
    }

    /// When `run()` registered its schedules and started firing (by `clock`); nil before.
    public var startedAt: Date? { counts.withLock { $0.startedAt } }
    /// Ticks this scheduler sent to the broker, copies the broker dropped included (another
    /// scheduler sent the tick first, or this one before a restart).
    public var sent: Int { counts.withLock { $0.sent } }
    /// The last failure to read the store or enqueue a tick (it tries again), nil after a success.
    public var lastError: String? { counts.withLock { $0.lastError } }

    /// Registers the schedules and fires ticks until `stop()` or cancellation.
    public func run() async throws {
        _ = try await queue.register(schedules, now: clock.now())
        let started = clock.now()
        counts.withLock { $0.startedAt = started }
        var active: [Schedule] = []
        var handled: [String: Date] = [:]
        var refreshed: ContinuousClock.Instant?
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            if refreshed.map({ $0.duration(to: .now) >= refreshInterval }) ?? true {
                do {
                    let (stored, unreadable) = try await queue.readSchedules()
                    active = stored.filter { topic == nil || $0.topic == topic }
                    refreshed = .now
                    if let first = unreadable.first { note(first) }
                } catch {
                    note(error)
                }
            }
            let now = clock.now()
            var nextDue: Date?
            for schedule in active {
                // Never more than the catch-up window back: a scheduler stalled for longer looks
                // for the latest tick within it, not through every tick since. Never before the
                // schedule was created either, though a tick of an earlier schedule of that name
                // (removed, then added again) was handled.
                let earliest = schedule.earliest(schedulerStart: started)
                let after = max(handled[schedule.name].map { max($0, earliest) } ?? earliest, now.addingTimeInterval(-Schedule.catchUpWindow))
                if let tick = schedule.latestTick(after: after, atOrBefore: now) {
                    guard await enqueue(schedule, tick: tick) else { continue }
                    handled[schedule.name] = tick
                }
                if let next = schedule.cron.next(after: max(handled[schedule.name] ?? after, now), in: schedule.timeZone) {
                    nextDue = min(nextDue ?? next, next)
                }
            }
            var wait = clock.pollInterval
            if let nextDue { wait = min(wait, .milliseconds(max(1, Int64(nextDue.timeIntervalSince(clock.now()) * 1000)))) }
            try? await Task.sleep(for: wait)
        }
    }

    /// Stops `run()` within `clock.pollInterval`.
    public func stop() { stopping.store(true, ordering: .relaxed) }

    /// Enqueues one tick; false when it could not be stored (tried again on the next round).
    private func enqueue(_ schedule: Schedule, tick: Date) async -> Bool {
        let id = schedule.jobId(tick: tick)
        var headers = [RecordHeader(SpoolHeaders.jobId, id), RecordHeader(SpoolHeaders.attempt, "1"), RecordHeader(SpoolHeaders.idempotencyKey, id)]
        if let type = schedule.typeName { headers.append(RecordHeader(SpoolHeaders.jobType, type)) }
        do {
            try await queue.prepare(topic: schedule.topic)
            _ = try await queue.transport.send(topic: schedule.topic, records: [
                OutgoingRecord(key: schedule.key.map { Array($0.utf8) }, value: schedule.payload ?? [], headers: headers),
            ])
            counts.withLock { counts in
                counts.sent += 1
                counts.lastError = nil
            }
            return true
        } catch {
            note(error)
            return false
        }
    }

    private func note(_ error: any Error) { counts.withLock { $0.lastError = String(describing: error) } }
}
