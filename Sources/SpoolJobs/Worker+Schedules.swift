extension Worker {
    /// Starts the worker's scheduler, if it was given `schedules`: it fires them, and every
    /// schedule stored for the worker's topic, while the worker runs.
    func startScheduler() -> (Scheduler, Task<Void, Never>)? {
        guard let schedules else { return nil }
        let clock = scheduleClock.value
        // A test's clock looks every few milliseconds; the store is then read as often as a
        // test needs (5 times a second), and every 10 s otherwise.
        let scheduler = Scheduler(queue: queue, topic: topic, schedules: schedules, clock: clock,
                                  refreshInterval: clock.pollInterval < .seconds(1) ? .milliseconds(200) : .seconds(10))
        self.scheduler.value = scheduler
        let task = Task { [stats] in
            // A store that cannot be reached at start is tried again, as polls are.
            while !Task.isCancelled {
                do {
                    try await scheduler.run()
                    return
                } catch {
                    stats.lastPollFailure.withLock { $0 = "schedules: \(error)" }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        return (scheduler, task)
    }
}
