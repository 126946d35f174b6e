extension Worker {
    /// The next job the book hands out, with the wakes its per-key rates asked for scheduled.
    func takeNext() -> JobTicket? {
        guard limits.limitsKeys else { return book.withLock { $0.next() } }
        let now = nowMs()
        let (ticket, wakes) = book.withLock { book in (book.next(now: now), book.takeKeyWakes()) }
        for wake in wakes { at(wake.atMs) { $0.wake(wake) } }
        return ticket
    }

    /// Jobs taken in that wait because their key is at a per-key limit.
    public var waitingOnLimits: Int { book.withLock { $0.limiter?.parkedCount ?? 0 } }
}
