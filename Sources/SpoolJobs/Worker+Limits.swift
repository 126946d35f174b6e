extension Worker {
    /// The next job the book hands out, with the wakes its per-key rates asked for scheduled.
    func takeNext() -> JobTicket? { takeNextSeeingMore().ticket }

    /// The next job, and whether the book might hand out another one now (`JobBook.mayStartMore`),
    /// read in the same hold of its lock: a runner that took a job asks for more runners only
    /// then, instead of taking the lock again to find every slot busy.
    func takeNextSeeingMore() -> (ticket: JobTicket?, more: Bool) {
        guard limits.limitsKeys else { return book.withLockSpinning { book in (book.next(), book.mayStartMore) } }
        let now = nowMs()
        let (ticket, more, wakes) = book.withLockSpinning { book in (book.next(now: now), book.mayStartMore, book.takeKeyWakes()) }
        if !wakes.isEmpty { scheduleKeyWakes(wakes) }
        return (ticket, more)
    }

    /// Finishes a job (`finish`) and, `taking`, takes the next one (`takeNextSeeingMore`), in one
    /// hold of the book's lock: a runner's two holds per job were two trips of the lock's line
    /// between the cores. `drained`: the job's partition was paused and is down to where it resumes.
    func finishTakingNext(_ done: JobTicket, now: Int64, taking: Bool, deadLettered: Bool = false) -> (ticket: JobTicket?, more: Bool, drained: Bool) {
        let limited = limits.limitsKeys
        let (wake, drained, ticket, more, wakes) = book.withLockSpinning { book -> (JobWake?, Bool, JobTicket?, Bool, [KeyWake]) in
            let wake = book.finish(done, now: now, deadLettered: deadLettered)
            let drained = book.drained(done.state)
            guard taking else { return (wake, drained, nil, false, []) }
            return (wake, drained, book.next(now: now), book.mayStartMore, limited ? book.takeKeyWakes() : [])
        }
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
