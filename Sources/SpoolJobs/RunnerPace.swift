/// How many runners a worker keeps going at once.
///
/// A runner is a task that runs one job after another (`Worker.startRunner`). While handlers
/// return within microseconds, one runner keeps up with a worker's jobs: a second one on another
/// core only meets the first at the book's lock on every job, and the book's memory then moves
/// between the cores on every job. In `spool-bench jobs`, four workers of 32 runners each did no
/// more jobs a second on two cores than on one. So the worker looks at its jobs a `window` at a
/// time: when at most 1 % of them took `quickNanoseconds` (10 µs) or longer, it goes `single`, one
/// runner, whose jobs run one after another; when more did, it goes back to as many runners as
/// `concurrency` allows.
///
/// A job that waits (I/O, a sleep) must not hold up the others while single: the worker's watch
/// (`Worker.watchRunners`) looks every millisecond, and a runner inside one job for a whole look
/// sends the worker back to many runners at once, so waiting jobs overlap again within about
/// that long. Each time it has to, the window doubles (to `windowMost`), so a handler that waits
/// now and then keeps the worker single less and less.
struct RunnerPace {
    /// Runners started and not ended.
    private(set) var alive = 0
    /// One runner at a time.
    private(set) var single = false
    /// Jobs in each look at how long handlers ran.
    private(set) var window = RunnerPace.windowFirst
    /// Jobs run in this window, and how many of them took `quickNanoseconds` or longer.
    private var windowJobs = 0
    private var windowSlow = 0

    /// A job that returns within this long counts as quick (tests of a debug build raise it).
    var quickNanoseconds = RunnerPace.quickNanosecondsDefault
    /// How long the runners' watch lets a single runner stay inside one job (tests on a loaded
    /// machine lengthen it, so a runner descheduled for a while is not taken for a waiting one).
    var watchInterval = Duration.milliseconds(1)
    static let quickNanosecondsDefault: UInt64 = 10_000
    static let windowFirst = 1_024
    static let windowMost = 1 << 16

    /// Whether another runner may start.
    var roomForRunner: Bool { !single || alive == 0 }

    /// A runner starts. True when the watch has a runner to look after now (it went from none to one
    /// while single).
    mutating func runnerStarted() -> Bool {
        alive += 1
        return single && alive == 1
    }

    mutating func runnerEnded() { alive -= 1 }

    /// Whether a runner that finished a job may go on to the next: not when it is one too many.
    mutating func runnerGoesOn() -> Bool {
        guard single && alive > 1 else { return true }
        alive -= 1
        return false
    }

    /// A runner's job returned after `nanoseconds`. At the end of each window the worker goes
    /// single if at most 1 % of its jobs were slow, and back to many runners otherwise. True when
    /// it has just gone single (the watch starts looking).
    mutating func ran(nanoseconds: UInt64) -> Bool {
        windowJobs += 1
        if nanoseconds >= quickNanoseconds { windowSlow += 1 }
        guard windowJobs >= window else { return false }
        let quick = windowSlow * 100 <= windowJobs
        (windowJobs, windowSlow) = (0, 0)
        if quick && !single {
            single = true
            return true
        }
        if !quick { single = false }
        return false
    }

    /// The watch found the runner inside one job for its whole look: back to many runners, and
    /// twice the window before going single again.
    mutating func stalled() {
        single = false
        (windowJobs, windowSlow) = (0, 0)
        window = min(window * 2, Self.windowMost)
    }

    /// Whether the watch has a runner to look after.
    var watched: Bool { single && alive > 0 }
}

extension JobBook {
    /// The first job of a new runner, if one may start (`RunnerPace.roomForRunner`) and a job is
    /// ready: the runner is counted. `watch`: the worker's watch has a runner to look after now.
    mutating func nextForNewRunner(now: Int64) -> (ticket: JobTicket?, watch: Bool) {
        guard pace.roomForRunner, let ticket = next(now: now) else { return (nil, false) }
        return (ticket, pace.runnerStarted())
    }

    /// A runner's next job; nil ends the runner, and it is counted out.
    mutating func nextForRunner(now: Int64) -> JobTicket? {
        guard pace.runnerGoesOn() else { return nil }
        if let ticket = next(now: now) { return ticket }
        pace.runnerEnded()
        return nil
    }

    /// Whether another runner might start now and find a job (`mayStartMore`).
    var mayStartMoreRunners: Bool { mayStartMore && pace.roomForRunner }
}

extension Worker {
    /// While the worker keeps one runner (`RunnerPace.single`), looks every millisecond whether it
    /// is still on the job it was on. If so, that job waits or computes, and the jobs behind it
    /// would wait for it: the worker goes back to many runners and starts them. Otherwise it sleeps
    /// until there is a single runner to look after. Runs until the worker stops or it is cancelled.
    func watchRunners() async {
        while !isStopping && !Task.isCancelled {
            let generation = runnersPaced.generation
            let (watched, interval) = book.withLock { ($0.pace.watched, $0.pace.watchInterval) }
            guard watched else {
                await withTaskCancellationHandler {
                    await runnersPaced.wait(after: generation, until: .now + .seconds(1))
                } onCancel: {
                    runnersPaced.fire()
                }
                continue
            }
            let before = leases.jobMarks
            try? await Task.sleep(for: interval)
            let after = leases.jobMarks
            // Odd: inside a job. Between jobs (waiting for a thread after `Task.yield`) is no stall.
            guard before.contains(where: { $0.value & 1 == 1 && after[$0.key] == $0.value }) else { continue }
            let stalled = book.withLock { book -> Bool in
                guard book.pace.single else { return false }
                book.pace.stalled()
                return true
            }
            if stalled { dispatch() }
        }
    }
}
