import Foundation
import SpoolEmbedded
import Testing
@testable import SpoolJobs

@Suite("How many runners a worker keeps")
struct RunnerPaceTests {
    private static let quick = RunnerPace.quickNanosecondsDefault / 10
    private static let slow = RunnerPace.quickNanosecondsDefault

    /// Runs `count` jobs through `pace`, `slowEvery`-th of them slow; whether any call went single.
    @discardableResult
    private static func run(_ count: Int, slowEvery: Int? = nil, on pace: inout RunnerPace) -> Bool {
        var wentSingle = false
        for index in 0..<count {
            let slowOne = slowEvery.map { index % $0 == 0 } ?? false
            if pace.ran(nanoseconds: slowOne ? slow : quick) { wentSingle = true }
        }
        return wentSingle
    }

    @Test("a window of quick jobs makes it single, and a window with more than 1 % slow ones takes it back")
    func singleAfterAQuickWindow() {
        var pace = RunnerPace()
        let early = Self.run(RunnerPace.windowFirst - 1, on: &pace)
        #expect(!early && !pace.single, "not before a whole window")
        let full = Self.run(1, on: &pace)
        #expect(full && pace.single)
        // 8 slow in 1,024 (under 1 %) is still quick; 21 (1 in 50) is not.
        Self.run(RunnerPace.windowFirst, slowEvery: 128, on: &pace)
        #expect(pace.single)
        Self.run(RunnerPace.windowFirst, slowEvery: 50, on: &pace)
        #expect(!pace.single)
    }

    @Test("while single one runner goes on, a second may not start, and one too many stops at its next job")
    func oneRunnerWhileSingle() {
        var pace = RunnerPace()
        let watchFirst = pace.runnerStarted(), watchSecond = pace.runnerStarted()
        #expect(!watchFirst && !watchSecond, "nothing to watch while not single")
        #expect(pace.roomForRunner)
        Self.run(RunnerPace.windowFirst, on: &pace)
        #expect(pace.single && !pace.roomForRunner)
        let firstGoesOn = pace.runnerGoesOn()
        #expect(!firstGoesOn && pace.alive == 1, "two alive: the first to finish a job stops")
        let secondGoesOn = pace.runnerGoesOn()
        #expect(secondGoesOn && pace.watched)
        pace.runnerEnded()
        #expect(pace.roomForRunner && !pace.watched)
        let watchNext = pace.runnerStarted()
        #expect(watchNext, "the watch is told of the one runner")
    }

    @Test("a stall found by the watch takes it back to many runners and doubles the window, up to its most")
    func stallDoublesTheWindow() {
        var pace = RunnerPace()
        Self.run(RunnerPace.windowFirst, on: &pace)
        pace.stalled()
        #expect(!pace.single && pace.window == RunnerPace.windowFirst * 2)
        let early = Self.run(RunnerPace.windowFirst, on: &pace)
        #expect(!early, "the longer window is not yet full")
        let full = Self.run(RunnerPace.windowFirst, on: &pace)
        #expect(full)
        for _ in 0..<32 { pace.stalled() }
        #expect(pace.window == RunnerPace.windowMost)
    }

    @Test("a job that waits while the worker keeps one runner does not hold up the others")
    func aWaitingJobBringsTheOtherRunnersBack() async throws {
        let broker = try JobsTestBroker()
        defer { broker.stop() }
        let queue = broker.queue(partitions: 1)
        let jobs = RunnerPace.windowFirst * 8
        for chunk in stride(from: 0, to: jobs, by: 1_024) {
            try await queue.enqueue((chunk..<chunk + 1_024).map { JobQueue.Enqueue(Step(key: "k\($0)", sequence: $0), key: "k\($0)") })
        }
        // The first job to start while the worker keeps one runner waits until a job after it has
        // run: with one runner and nothing to bring others back, it would wait for ever.
        let waiter = LockedValue<Int?>(nil)
        let laterRan = AsyncGate()
        let waited = LockedValue<Bool?>(nil)
        let pace = LockedValue<(@Sendable () -> RunnerPace)?>(nil)
        let done = LockedValue(0)
        let worker = Worker<Step>(queue: queue, group: "pace1", ordering: .none, concurrency: 4) { job in
            let sequence = job.payload.sequence
            if let first = waiter.value, sequence > first { laterRan.open() }
            let single = pace.value.map { $0().single && $0().alive == 1 } ?? false
            let waits = single && sequence < jobs - 100 && waiter.withLock { claimed in
                guard claimed == nil else { return false }
                claimed = sequence
                return true
            }
            if waits {
                do {
                    try await laterRan.wait(within: .seconds(20))
                    waited.value = true
                } catch {
                    waited.value = false
                }
            }
            done.withLock { $0 += 1 }
        }
        // Every run of a debug build counts as quick, and the watch gives a runner 100 ms inside a
        // job, so one descheduled by a loaded machine is not taken for a waiting one.
        worker.book.withLock { book in
            book.pace.quickNanoseconds = 1_000_000_000
            book.pace.watchInterval = .milliseconds(100)
        }
        pace.value = { [weak worker] in worker?.book.withLock { $0.pace } ?? RunnerPace() }
        let task = Task { try await worker.run() }
        #expect(await eventually(within: 15) { done.value == jobs }, "the waiting job held up the rest")
        worker.stop()
        try await task.value
        #expect(waiter.value != nil, "the worker never kept one runner")
        #expect(waited.value == true, "the waiting job was let go by a job after it, not by its time limit")
        #expect(worker.book.withLock { $0.pace.window } > RunnerPace.windowFirst, "the watch found the runner inside one job")
    }
}

/// Opens once; `wait` returns when it is open, or throws after `within`.
private final class AsyncGate: Sendable {
    private let opened = LockedValue(false)

    func open() { opened.value = true }

    func wait(within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while !opened.value {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
