@testable import SpoolJobs
import Testing

/// `waitForRunning` sleeps on an `EventSignal` instead of polling (and a worker whose partitions
/// are all paused, until one drains): it must wake on a `fire`, not miss one that happens between
/// its check and its wait, and still give up at its deadline.
@Suite struct EventSignalTests {
    /// A deadline no test waits for: a wait that returns was woken.
    static var never: ContinuousClock.Instant { .now + .seconds(3600) }

    @Test(.timeLimit(.minutes(1)))
    func aWaiterWakesWhenAJobEnds() async {
        let signal = EventSignal()
        let generation = signal.generation
        async let waited: Void = signal.wait(after: generation, until: Self.never)
        // Ends jobs until the waiter has registered and been woken (it may register late).
        let ender = Task {
            while !Task.isCancelled {
                signal.fire()
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
        await waited
        ender.cancel()
        #expect(signal.generation > generation)
    }

    @Test(.timeLimit(.minutes(1)))
    func anEndBetweenTheCheckAndTheWaitIsNotMissed() async {
        let signal = EventSignal()
        let generation = signal.generation
        signal.fire()  // after the caller read the generation and checked its condition
        await signal.wait(after: generation, until: Self.never)
    }

    @Test(.timeLimit(.minutes(1)))
    func aWaitWithNoEndReturnsAtItsDeadline() async {
        let signal = EventSignal()
        let start = ContinuousClock.now
        await signal.wait(after: signal.generation, until: start + .milliseconds(50))
        #expect(ContinuousClock.now >= start + .milliseconds(50))
    }

    @Test(.timeLimit(.minutes(1)))
    func manyWaitersAllWake() async {
        let signal = EventSignal()
        let generation = signal.generation
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 { group.addTask { await signal.wait(after: generation, until: Self.never) } }
            group.addTask {
                for _ in 0..<1000 {
                    signal.fire()
                    try? await Task.sleep(for: .milliseconds(1))
                }
            }
        }
    }
}
