import Foundation
import SpoolFormat
import Synchronization
import Testing
@testable import SpoolJobs

/// A wall clock the test moves by hand.
final class ManualWallClock: Sendable {
    private let time: Mutex<Date>

    init(_ start: Date) { time = Mutex(start) }

    var now: Date { time.withLock { $0 } }
    func advance(by seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }

    var scheduleClock: ScheduleClock { ScheduleClock(now: { [self] in now }, pollInterval: .milliseconds(10)) }
}

@Suite("Schedules", .serialized)
struct ScheduleTests {
    static let start = CronExpressionTests.date("2026-12-02 10:00") + 30

    /// The ids of the scheduled jobs stored in the topic, in order.
    static func scheduledIds(_ queue: JobQueue, _ name: String) async throws -> [String] {
        try await queue.transport.readAll(topic: Chore.topic).compactMap { $0.header(SpoolHeaders.jobId) }.filter { $0.hasPrefix(name + "@") }
    }

    @Test("two workers with the same schedule enqueue each tick once, and a restarted worker adds nothing",
          arguments: TransportBehaviourTests.Kind.allCases)
    func eachTickOnceAcrossWorkers(kind: TransportBehaviourTests.Kind) async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let (transport, stopTransport) = try TransportBehaviourTests.transport(kind, broker: broker)
        let queue = JobQueue(transport: transport, partitions: 2)
        let clock = ManualWallClock(Self.start)
        let schedule = try Schedule(name: "sweep", cron: "* * * * *", key: "sweeper", job: Chore(key: "sweeper", long: false))
        let recorder = Recorder()
        func makeWorker() -> Worker<Chore> {
            let worker = Worker<Chore>(queue: queue, group: "sweepers", concurrency: 2, schedules: [schedule]) { job in
                recorder.begin(key: job.payload.key, id: job.id, attempt: job.attempt)
                recorder.end(key: job.payload.key)
            }
            worker.scheduleClock.value = clock.scheduleClock
            return worker
        }
        var workers = [makeWorker(), makeWorker()]
        var tasks = workers.map { worker in Task { try? await worker.run() } }
        #expect(await eventually { workers.allSatisfy { $0.scheduler.value?.startedAt != nil } })
        let schedulers = workers.compactMap { $0.scheduler.value }
        for minute in 1...5 {
            clock.advance(by: 60)
            let id = "sweep@2026-12-02T10:0\(minute):00Z"
            #expect(await eventually { recorder.runs(id) == 1 }, "\(id)")
            // Both schedulers send the tick before the clock moves on (a scheduler that wakes late
            // sends only the latest tick it missed): the broker keeps the first copy.
            #expect(await eventually { schedulers.allSatisfy { $0.sent == minute } }, "both schedulers sent \(id)")
        }
        #expect(try await Self.scheduledIds(queue, "sweep") == (1...5).map { "sweep@2026-12-02T10:0\($0):00Z" })
        #expect(schedulers.reduce(0) { $0 + $1.sent } == 10)

        // Every worker restarts at the same time: the latest tick is sent again, and dropped.
        for worker in workers { worker.stop() }
        for task in tasks { await task.value }
        workers = [makeWorker()]
        tasks = workers.map { worker in Task { try? await worker.run() } }
        #expect(await eventually { workers.allSatisfy { $0.scheduler.value?.startedAt != nil } })
        #expect(await eventually { workers[0].scheduler.value?.sent == 1 }, "10:05 is caught up, and dropped")
        #expect(try await Self.scheduledIds(queue, "sweep").count == 5)
        clock.advance(by: 60)
        #expect(await eventually { recorder.runs("sweep@2026-12-02T10:06:00Z") == 1 })
        #expect(try await Self.scheduledIds(queue, "sweep").count == 6)
        #expect((1...6).allSatisfy { recorder.runs("sweep@2026-12-02T10:0\($0):00Z") == 1 })
        for worker in workers { worker.stop() }
        for task in tasks { await task.value }
        await stopTransport()
    }

    @Test("after downtime, runOnce enqueues the latest missed tick once and skip none; then both follow the clock",
          arguments: MissedTicks.allCases)
    func missedTicks(policy: MissedTicks) async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let clock = ManualWallClock(Self.start)
        let name = "hourly-\(policy.rawValue)"
        let schedule = try Schedule(name: name, cron: "0 * * * *", missed: policy, job: Chore(key: "h", long: false))
        let first = Scheduler(queue: queue, topic: Chore.topic, schedules: [schedule], clock: clock.scheduleClock, refreshInterval: .milliseconds(50))
        let firstTask = Task { try await first.run() }
        #expect(await eventually { first.startedAt != nil })
        clock.advance(by: 3_600)
        #expect(await eventually { first.sent == 1 }, "\(first.lastError ?? "no error")")
        first.stop()
        try await firstTask.value
        #expect(try await Self.scheduledIds(queue, name) == ["\(name)@2026-12-02T11:00:00Z"])

        // Down from 11:00:30 to 14:10:30: the 12:00, 13:00 and 14:00 ticks had no scheduler.
        clock.advance(by: 3 * 3_600 + 600)
        let second = Scheduler(queue: queue, topic: Chore.topic, schedules: [schedule], clock: clock.scheduleClock, refreshInterval: .milliseconds(50))
        let secondTask = Task { try await second.run() }
        #expect(await eventually { second.startedAt != nil })
        let caughtUp = policy == .runOnce ? ["\(name)@2026-12-02T14:00:00Z"] : []
        if policy == .runOnce { #expect(await eventually { second.sent == 1 }) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await Self.scheduledIds(queue, name) == ["\(name)@2026-12-02T11:00:00Z"] + caughtUp)
        clock.advance(by: 3_000)
        #expect(await eventually { second.sent == caughtUp.count + 1 })
        #expect(try await Self.scheduledIds(queue, name) == ["\(name)@2026-12-02T11:00:00Z"] + caughtUp + ["\(name)@2026-12-02T15:00:00Z"])
        #expect(second.lastError == nil)
        second.stop()
        try await secondTask.value
    }

    @Test("a new schedule does not run ticks from before it was created")
    func noTicksBeforeCreation() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let clock = ManualWallClock(Self.start)
        let schedule = try Schedule(name: "fresh", cron: "0 10 * * *", job: Chore(key: "f", long: false))
        let scheduler = Scheduler(queue: queue, topic: Chore.topic, schedules: [schedule], clock: clock.scheduleClock, refreshInterval: .milliseconds(50))
        let task = Task { try await scheduler.run() }
        try await Task.sleep(for: .milliseconds(300))
        #expect(scheduler.sent == 0, "10:00 came before the schedule existed (10:00:30)")
        scheduler.stop()
        try await task.value
    }

    @Test("a schedule removed and added again does not run, in a running scheduler, the ticks from before it was added again")
    func noTicksBeforeReAdding() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let clock = ManualWallClock(Self.start)
        let schedule = try Schedule(name: "again", cron: "0 * * * *", missed: .skip, job: Chore(key: "a", long: false))
        _ = try await queue.register([schedule], now: clock.now)
        let scheduler = Scheduler(queue: queue, topic: Chore.topic, schedules: [], clock: clock.scheduleClock, refreshInterval: .milliseconds(20))
        let task = Task { try await scheduler.run() }
        #expect(await eventually { scheduler.startedAt != nil })
        clock.advance(by: 3_600)
        #expect(await eventually { scheduler.sent == 1 }, "\(scheduler.lastError ?? "no error")")

        try await queue.removeSchedule(named: "again")
        try await Task.sleep(for: .milliseconds(200))
        clock.advance(by: 5_400)  // 12:30:30: the 12:00 tick had no schedule
        try await Task.sleep(for: .milliseconds(200))
        _ = try await queue.register([schedule], now: clock.now)
        try await Task.sleep(for: .milliseconds(300))
        #expect(scheduler.sent == 1, "12:00 came before the schedule was added again")
        clock.advance(by: 1_800)
        #expect(await eventually { scheduler.sent == 2 })
        #expect(try await Self.scheduledIds(queue, "again") == ["again@2026-12-02T11:00:00Z", "again@2026-12-02T13:00:00Z"])
        scheduler.stop()
        try await task.value
    }

    @Test("the store adds, replaces, lists and removes schedules; a re-registered schedule keeps its creation time")
    func store() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        let digest = try Schedule(name: "digest", cron: "0 8 * * MON-FRI", timeZone: paris, missed: .skip, key: "k", job: Chore(key: "k", long: true))
        let stored = try await queue.addSchedule(digest)
        let created = try #require(stored.createdAt)
        let other = try Schedule(name: "cleanup", cron: "@daily", topic: "maintenance", payload: Array("{\"full\":true}".utf8))
        try await queue.addSchedule(other)
        var listed = try await queue.schedules()
        #expect(listed.map(\.name) == ["cleanup", "digest"])
        let readBack = try #require(listed.last)
        #expect(readBack.cron.text == "0 8 * * MON-FRI" && readBack.timeZone.identifier == "Europe/Paris" && readBack.missed == .skip)
        #expect(readBack.topic == Chore.topic && readBack.key == "k" && readBack.typeName == "Chore")
        #expect(try JSONJobCoding().decode(Chore.self, from: readBack.payload ?? []).long)

        try await Task.sleep(for: .milliseconds(20))
        var changed = digest
        changed.cron = try CronExpression("0 9 * * *")
        try await queue.addSchedule(changed)
        listed = try await queue.schedules()
        #expect(listed.first { $0.name == "digest" }?.cron.text == "0 9 * * *")
        #expect(abs((listed.first { $0.name == "digest" }?.createdAt ?? .distantPast).timeIntervalSince(created)) < 0.002)

        try await queue.removeSchedule(named: "digest")
        #expect(try await queue.schedules().map(\.name) == ["cleanup"])
        await #expect(throws: ScheduleError.notFound("digest")) { try await queue.removeSchedule(named: "digest") }
        #expect(throws: ScheduleError.invalidName("two words")) { try Schedule(name: "two words", cron: "* * * * *", job: Chore(key: "", long: false)) }
        #expect(throws: CronError.self) { try Schedule(name: "bad", cron: "* * * *", job: Chore(key: "", long: false)) }
    }
}
