import Dispatch
import SpoolSystem
import Synchronization
import Testing

/// A one-shot deadline timer: fires once, or is cancelled and never fires; either way it settles
/// exactly once and lets go of its handler.
@Suite struct DeadlineTimerTests {
    final class Counts: Sendable {
        let fired = Atomic(0)
        let settled = Atomic(0)
    }

    /// Waits, bounded, for `condition`; polls every millisecond for up to 30 s.
    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<30_000 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return condition()
    }

    @Test func itFiresOnceAtItsDeadlineAndSettles() async {
        let counts = Counts()
        let timer = DeadlineTimer(deadline: .now() + .milliseconds(20), settled: { counts.settled.add(1, ordering: .relaxed) }) {
            counts.fired.add(1, ordering: .relaxed)
        }
        #expect(await eventually { counts.fired.load(ordering: .relaxed) == 1 })
        #expect(counts.settled.load(ordering: .relaxed) == 1)
        #expect(!timer.isArmed)
        timer.cancel()
        #expect(counts.settled.load(ordering: .relaxed) == 1, "a cancel after firing changes nothing")
    }

    @Test func aCancelledTimerNeverFiresAndReleasesItsHandler() async {
        let counts = Counts()
        // The handler holds `held`; once cancelled, the timer must not keep it alive.
        final class Held: Sendable {}
        weak var weakHeld: Held?
        let timer: DeadlineTimer
        do {
            let held = Held()
            weakHeld = held
            timer = DeadlineTimer(deadline: .now() + .milliseconds(50), settled: { counts.settled.add(1, ordering: .relaxed) }) {
                _ = held
                counts.fired.add(1, ordering: .relaxed)
            }
        }
        #expect(timer.isArmed)
        timer.cancel()
        timer.cancel()
        #expect(!timer.isArmed)
        #expect(counts.settled.load(ordering: .relaxed) == 1)
        #expect(await eventually { weakHeld == nil }, "the handler was let go")
        // A second timer past the first one's deadline: when it has fired, the first would have too.
        let later = Counts()
        let laterTimer = DeadlineTimer(deadline: .now() + .milliseconds(100)) { later.fired.add(1, ordering: .relaxed) }
        #expect(await eventually { later.fired.load(ordering: .relaxed) == 1 })
        #expect(!laterTimer.isArmed)
        #expect(counts.fired.load(ordering: .relaxed) == 0)
    }
}
