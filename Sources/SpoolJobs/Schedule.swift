import Foundation

/// A job enqueued on a cron schedule.
///
/// ```swift
/// let digest = try Schedule(name: "daily-digest", cron: "0 8 * * *", timeZone: TimeZone(identifier: "Europe/Paris")!,
///                           job: DigestEmail(edition: "daily"))
/// let worker = Worker<DigestEmail>(queue: queue, group: "mailers", schedules: [digest]) { job in … }
/// ```
///
/// Each tick is enqueued once, whatever the number of workers and restarts: its job id is
/// `NAME@TICK` (`daily-digest@2026-12-02T07:00:00Z`, the tick in UTC), which is also its
/// idempotency key, so the broker's dedupe window drops every copy but the first.
public struct Schedule: Sendable, Equatable {
    /// Unique among the schedules of a broker; a schedule stored under the same name is replaced.
    public var name: String
    public var cron: CronExpression
    /// The zone the cron expression's wall-clock times are in.
    public var timeZone: TimeZone
    /// What happens to ticks no scheduler was running for.
    public var missed: MissedTicks
    /// The job topic.
    public var topic: String
    /// The ordering key of the jobs it enqueues (nil: none).
    public var key: String?
    /// The job's type name (`spool-job-type`), when known.
    public var typeName: String?
    /// The job as the queue's coding encodes it; nil while only `job` is known.
    public var payload: [UInt8]?
    /// The job, for schedules made in code (encoded with the queue's coding when registered).
    var job: (any Job)?
    /// When the schedule was first stored: no tick before it runs.
    public var createdAt: Date?

    /// Names are at most this long (the job id adds the tick).
    public static let nameBytesMax = 200

    /// A schedule of `job` (enqueued to `J.topic`). Throws `CronError` for a bad expression and
    /// `ScheduleError.invalidName` for an empty or overlong name.
    public init<J: Job>(name: String, cron: String, timeZone: TimeZone = Schedule.utc, missed: MissedTicks = .runOnce, key: String? = nil,
                        job: J) throws {
        try Self.validate(name: name)
        self.name = name
        self.cron = try CronExpression(cron)
        self.timeZone = timeZone
        self.missed = missed
        self.topic = J.topic
        self.key = key
        self.typeName = J.typeName
        self.job = job
    }

    /// A schedule of an already encoded payload (what `spool schedule add` stores).
    public init(name: String, cron: String, timeZone: TimeZone = Schedule.utc, missed: MissedTicks = .runOnce, topic: String,
                key: String? = nil, typeName: String? = nil, payload: [UInt8]) throws {
        try Self.validate(name: name)
        self.name = name
        self.cron = try CronExpression(cron)
        self.timeZone = timeZone
        self.missed = missed
        self.topic = topic
        self.key = key
        self.typeName = typeName
        self.payload = payload
    }

    public static func == (left: Schedule, right: Schedule) -> Bool {
        left.name == right.name && left.cron == right.cron && left.timeZone.identifier == right.timeZone.identifier && left.missed == right.missed
            && left.topic == right.topic && left.key == right.key && left.typeName == right.typeName && left.payload == right.payload
            && left.createdAt == right.createdAt
    }

    /// UTC, the default time zone.
    public static var utc: TimeZone {
        // "UTC" is in every time zone database Foundation reads; offset 0 is the fallback.
        TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? .current
    }

    static func validate(name: String) throws(ScheduleError) {
        guard !name.isEmpty, name.utf8.count <= nameBytesMax, !name.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 } == true }) else {
            throw .invalidName(name)
        }
    }

    /// The job id (and idempotency key) of the tick at `tick`: `NAME@2026-12-02T07:00:00Z`.
    public func jobId(tick: Date) -> String { "\(name)@\(Self.tickText(tick))" }

    static func tickText(_ tick: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = Schedule.utc
        return formatter.string(from: tick)
    }

    /// Ticks before this are not run: the later of the creation time and, for `.skip`, when the
    /// scheduler started, or for `.runOnce`, `catchUpWindow` before it.
    func earliest(schedulerStart: Date) -> Date {
        let floor = missed == .skip ? schedulerStart : schedulerStart.addingTimeInterval(-Self.catchUpWindow)
        return max(floor, createdAt ?? schedulerStart)
    }

    /// How far back `.runOnce` looks for a missed tick: the default dedupe window (24 h), so a
    /// tick enqueued before a restart is always recognised as a duplicate.
    public static let catchUpWindow: TimeInterval = 86_400

    /// Ticks a scheduler steps through at most to find the latest due one (a day of minutes, and more).
    static let dueTicksScanMax = 2_000

    /// The latest tick after `after` and no later than `now`, if any.
    func latestTick(after: Date, atOrBefore now: Date) -> Date? {
        var latest: Date?
        var at = after
        for _ in 0..<Self.dueTicksScanMax {
            guard let next = cron.next(after: at, in: timeZone), next <= now else { break }
            latest = next
            at = next
        }
        return latest
    }
}

/// What a scheduler does with ticks whose time passed while no scheduler ran (all workers were
/// down), or while it could not keep up.
public enum MissedTicks: String, Sendable, Codable, CaseIterable {
    /// Runs none of them: the next tick is the first one after the scheduler started.
    case skip
    /// Runs the latest of them once, if it is within `Schedule.catchUpWindow` (24 h) and not
    /// before the schedule was created; the earlier ones are dropped.
    case runOnce
}

/// Why a schedule could not be stored or found.
public enum ScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidName(String)
    case unknownTimeZone(String)
    case notFound(String)
    case unreadable(name: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidName(name): "schedule name '\(name)' must be 1 to \(Schedule.nameBytesMax) bytes without spaces or control characters"
        case let .unknownTimeZone(zone): "unknown time zone '\(zone)' (use an IANA name such as Europe/Paris)"
        case let .notFound(name): "no schedule named '\(name)'"
        case let .unreadable(name, reason): "schedule '\(name)' cannot be read: \(reason)"
        }
    }
}
