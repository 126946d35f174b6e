extension Worker {
    /// The first job of a new runner (`dispatch`), if one may start (`RunnerPace`), with the wakes
    /// its per-key rates asked for scheduled.
    func takeForNewRunner() -> JobTicket? {
        let limited = limits.limitsKeys
        let now = limited ? nowMs() : 0
        let (ticket, watch, wakes) = book.withLockSpinning { book -> (JobTicket?, Bool, [KeyWake]) in
            let (ticket, watch) = book.nextForNewRunner(now: now)
            return (ticket, watch, limited ? book.takeKeyWakes() : [])
        }
        if watch { runnersPaced.fire() }
        if !wakes.isEmpty { scheduleKeyWakes(wakes) }
        return ticket
    }

    /// A runner's next job after one that did not succeed (which its own path finished), and
    /// whether the book might hand out another one now (`JobBook.mayStartMoreRunners`), read in
    /// the same hold of its lock: a runner that took a job asks for more runners only then,
    /// instead of taking the lock again to find every slot busy. Not `taking`, or no job: the
    /// runner ends, and is counted out.
    func takeNextAsRunner(taking: Bool) -> (ticket: JobTicket?, more: Bool) {
        let limited = limits.limitsKeys
        let now = limited ? nowMs() : 0
        let (ticket, more, wakes) = book.withLockSpinning { book -> (JobTicket?, Bool, [KeyWake]) in
            guard taking else {
                book.pace.runnerEnded()
                return (nil, false, [])
            }
            return (book.nextForRunner(now: now), book.mayStartMoreRunners, limited ? book.takeKeyWakes() : [])
        }
        if !wakes.isEmpty { scheduleKeyWakes(wakes) }
        return (ticket, more)
    }

    /// A runner's part in `finishTakingNext`: whether it takes its next job, and how long the
    /// finished one's handler ran (`RunnerPace.ran`).
    struct RunnerTurn {
        var taking: Bool
        var nanoseconds: UInt64
    }

    /// Finishes a job (`finish`) and, for a runner that is `taking`, takes its next one
    /// (`takeNextAsRunner`), in one hold of the book's lock: a runner's two holds per job were two
    /// trips of the lock's line between the cores. `drained`: the job's partition was paused and
    /// is down to where it resumes.
    func finishTakingNext(_ done: JobTicket, now: Int64, deadLettered: Bool = false, runner turn: RunnerTurn? = nil)
        -> (ticket: JobTicket?, more: Bool, drained: Bool) {
        let limited = limits.limitsKeys
        let (wake, drained, ticket, more, wakes, single) = book.withLockSpinning { book -> (JobWake?, Bool, JobTicket?, Bool, [KeyWake], Bool) in
            let wake = book.finish(done, now: now, deadLettered: deadLettered)
            let drained = book.drained(done.state)
            guard let turn else { return (wake, drained, nil, false, [], false) }
            let single = book.pace.ran(nanoseconds: turn.nanoseconds)
            guard turn.taking else {
                book.pace.runnerEnded()
                return (wake, drained, nil, false, [], single)
            }
            return (wake, drained, book.nextForRunner(now: now), book.mayStartMoreRunners, limited ? book.takeKeyWakes() : [], single)
        }
        if single { runnersPaced.fire() }
        if drained { bufferDrained.fire() }
        if let wake { scheduleWake(wake) }
        if !wakes.isEmpty { scheduleKeyWakes(wakes) }
        return (ticket, more, drained)
    }

    /// One timer per millisecond that has keys due, not one per key: a thousand keys held to a
    /// rate would otherwise start tens of thousands of timers a second.
    private func scheduleKeyWakes(_ wakes: [KeyWake]) {
        let newTimes = keyWakes.withLock { due -> [Int64] in
            var newTimes: [Int64] = []
            for wake in wakes {
                if due[wake.atMs] == nil { newTimes.append(wake.atMs) }
                due[wake.atMs, default: []].append(wake.key)
            }
            return newTimes
        }
        for atMs in newTimes {
            at(atMs) { [keyWakes] book in
                for key in keyWakes.withLock({ $0.removeValue(forKey: atMs) }) ?? [] { book.wake(KeyWake(key: key, atMs: atMs)) }
            }
        }
    }

    /// Jobs taken in that wait because their key is at a per-key limit.
    public var waitingOnLimits: Int { book.withLock { $0.limiter?.parkedCount ?? 0 } }
}
