import Foundation
import SpoolFormat

/// Schedules are kept in the topic `spool-schedules`, one record per change, keyed by name: the
/// latest record of a name is its definition, and a record without a value (a tombstone) removes
/// it. The topic is compacted (`cleanup.policy=compact`): retention never deletes a definition.
/// Any Kafka client can read it; its values are JSON.
extension JobQueue {
    /// The topic schedules are stored in.
    public static let schedulesTopic = "spool-schedules"

    /// What one record of `spool-schedules` holds.
    struct StoredSchedule: Codable, Equatable {
        var name: String
        var cron: String
        var timeZone: String
        var missed: MissedTicks
        var topic: String
        var key: String?
        var type: String?
        var payload: Data
        var createdAtMs: Int64
    }

    /// Every stored schedule, by name order; throws `ScheduleError.unreadable` for a record that
    /// is not a schedule (written by another client).
    public func schedules() async throws -> [Schedule] {
        let (schedules, unreadable) = try await readSchedules()
        if let first = unreadable.first { throw first }
        return schedules
    }

    /// The stored schedules that can be read, and an error for each record that cannot (a
    /// scheduler fires the others).
    func readSchedules() async throws -> (schedules: [Schedule], unreadable: [ScheduleError]) {
        try await transport.ensureTopic(Self.schedulesTopic, partitions: 1, configs: ["cleanup.policy": "compact"])
        var latest: [String: [UInt8]?] = [:]
        for record in try await transport.readAll(topic: Self.schedulesTopic) {
            guard let name = record.keyString else { continue }
            latest.updateValue(record.value, forKey: name)
        }
        let decoder = JSONDecoder()
        var unreadable: [ScheduleError] = []
        let schedules = latest.compactMap { name, value -> Schedule? in
            guard let value else { return nil }
            do {
                return try Self.schedule(decoder.decode(StoredSchedule.self, from: Data(value)))
            } catch {
                unreadable.append(.unreadable(name: name, reason: String(describing: error)))
                return nil
            }
        }
        return (schedules.sorted { $0.name < $1.name }, unreadable.sorted { $0.description < $1.description })
    }

    /// Stores `schedule` under its name, replacing one stored before. A replaced schedule keeps
    /// its creation time (so a worker that registers the same schedule on every start does not
    /// lose a missed tick to it); `createdAt` is now for a new one.
    @discardableResult
    public func addSchedule(_ schedule: Schedule) async throws -> Schedule {
        try await register([schedule], now: Date())[0]
    }

    /// Removes the stored schedule named `name`; throws `ScheduleError.notFound` when there is none.
    public func removeSchedule(named name: String) async throws {
        guard try await schedules().contains(where: { $0.name == name }) else { throw ScheduleError.notFound(name) }
        _ = try await transport.send(topic: Self.schedulesTopic, records: [OutgoingRecord(key: Array(name.utf8), value: nil)])
    }

    /// Stores each schedule that is new or changed, keeping stored creation times; returns them
    /// as stored.
    func register(_ schedules: [Schedule], now: Date) async throws -> [Schedule] {
        let stored = Dictionary(try await readSchedules().schedules.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var result: [Schedule] = []
        var records: [OutgoingRecord] = []
        for var schedule in schedules {
            if schedule.payload == nil, let job = schedule.job { schedule.payload = try coding.encode(job) }
            schedule.job = nil
            schedule.createdAt = stored[schedule.name]?.createdAt ?? now
            result.append(schedule)
            if stored[schedule.name].map(Self.stored) == Self.stored(schedule) { continue }
            records.append(OutgoingRecord(key: Array(schedule.name.utf8), value: try JSONEncoder().encode(Self.stored(schedule)).map { $0 }))
        }
        if !records.isEmpty { _ = try await transport.send(topic: Self.schedulesTopic, records: records) }
        return result
    }

    static func stored(_ schedule: Schedule) -> StoredSchedule {
        StoredSchedule(name: schedule.name, cron: schedule.cron.text, timeZone: schedule.timeZone.identifier, missed: schedule.missed,
                       topic: schedule.topic, key: schedule.key, type: schedule.typeName, payload: Data(schedule.payload ?? []),
                       createdAtMs: Int64(((schedule.createdAt ?? Date()).timeIntervalSince1970 * 1000).rounded()))
    }

    static func schedule(_ stored: StoredSchedule) throws -> Schedule {
        guard let zone = TimeZone(identifier: stored.timeZone) else { throw ScheduleError.unknownTimeZone(stored.timeZone) }
        var schedule = try Schedule(name: stored.name, cron: stored.cron, timeZone: zone, missed: stored.missed, topic: stored.topic,
                                    key: stored.key, typeName: stored.type, payload: Array(stored.payload))
        schedule.createdAt = Date(timeIntervalSince1970: Double(stored.createdAtMs) / 1000)
        return schedule
    }
}
