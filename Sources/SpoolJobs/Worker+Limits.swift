extension Worker {
    /// The next job the book hands out, with the wakes its per-key rates asked for scheduled.
    func takeNext() -> JobTicket? {
        guard limits.limitsKeys else { return book.withLockSpinning { $0.next() } }
        let now = nowMs()
        let (ticket, wakes) = book.withLockSpinning { book in (book.next(now: now), book.takeKeyWakes()) }
        if !wakes.isEmpty { scheduleKeyWakes(wakes) }
        return ticket
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
