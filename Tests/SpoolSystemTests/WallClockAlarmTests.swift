import Dispatch
import Glibc
import SpoolSystem
import SpoolTestSupport
import Testing

/// The wall-clock alarm the delayed-delivery thread sleeps on: it ends a wait at the wall-clock
/// time, on a wake-up, or when the clock is set, and never early.
@Suite struct WallClockAlarmTests {
    /// Waits for `due` as the delayed-delivery thread does: the clock being set (a virtual
    /// machine's clock is stepped by its host now and then) ends a wait early, as such, and the
    /// waiter waits again. Returns how the last wait ended.
    private func waitThroughClockSets(_ alarm: WallClockAlarm, untilMs due: Int64) throws -> WallClockAlarm.Wake {
        var wake = try alarm.wait(untilMs: due)
        for _ in 0..<5 where wake == .clockSet { wake = try alarm.wait(untilMs: due) }
        return wake
    }

    @Test func aTimePassedAlreadyEndsTheWaitAtOnce() throws {
        let alarm = try WallClockAlarm()
        #expect(try waitThroughClockSets(alarm, untilMs: currentTimeMs() - 5_000) == .due)
        #expect(try waitThroughClockSets(alarm, untilMs: 1) == .due, "the earliest time there is")
    }

    @Test func itWakesAtTheTimeAndNotBefore() throws {
        let alarm = try WallClockAlarm()
        for ahead: Int64 in [5, 30, 60] {
            let due = currentTimeMs() + ahead
            #expect(try waitThroughClockSets(alarm, untilMs: due) == .due)
            #expect(currentTimeMs() >= due, "woke \(due - currentTimeMs()) ms early")
        }
    }

    @Test func aWakeUpEndsAWaitOnNothingAndOneMadeBeforeTheWaitCounts() throws {
        let alarm = try WallClockAlarm()
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(30)) { alarm.wake() }
        #expect(try alarm.wait(untilMs: nil) == .woken)
        alarm.wake()
        alarm.wake()
        #expect(try alarm.wait(untilMs: currentTimeMs() + 60_000) == .woken, "a wake-up before the wait is not lost")
        #expect(try waitThroughClockSets(alarm, untilMs: currentTimeMs() - 1) == .due, "two wake-ups end one wait")
    }

    @Test func rearmingForgetsAnExpiryNotWaitedFor() throws {
        let alarm = try WallClockAlarm()
        // Woken before the timer fires; the timer then fires with nobody waiting.
        alarm.wake()
        #expect(try alarm.wait(untilMs: currentTimeMs() + 10) == .woken)
        usleep(30_000)
        // Disarmed now: the expiry above must not end this wait, only the wake-up does.
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { alarm.wake() }
        #expect(try alarm.wait(untilMs: nil) == .woken)
        // Armed later: the old expiry must not end it early either.
        let due = currentTimeMs() + 40
        #expect(try waitThroughClockSets(alarm, untilMs: due) == .due)
        #expect(currentTimeMs() >= due)
    }

    @Test func theClockBeingSetEndsTheWaitAsSuch() throws {
        // Setting the clock needs privileges; the kernel reports it as the timer's read, or its
        // re-arming, failing with ECANCELED, which the recording system makes them do.
        let system = RecordingNetworkSystem()
        let alarm = try WallClockAlarm(system: system)
        system.inject(.read, errno: ECANCELED)
        #expect(try alarm.wait(untilMs: currentTimeMs() - 1) == .clockSet)
        // Set while the timer was armed for a wait a wake-up ended: Linux reports it when the
        // timer is armed again, and leaves it disarmed.
        system.inject(.wallClockTimer, errno: ECANCELED)
        #expect(try alarm.wait(untilMs: currentTimeMs() + 60_000) == .clockSet)
        system.clear()
        system.inject(.read, errno: EBADF)
        #expect(throws: SystemError.self) { try alarm.wait(untilMs: currentTimeMs() - 1) }
        system.clear()
        #expect(try waitThroughClockSets(alarm, untilMs: currentTimeMs() - 1) == .due)
    }

    @Test func itClosesItsDescriptorsWhenItGoes() throws {
        let system = RecordingNetworkSystem()
        do {
            let alarm = try WallClockAlarm(system: system)
            #expect(system.openDescriptors.count == 3, "an epoll instance, a timerfd and an eventfd")
            alarm.wake()
            #expect(try alarm.wait(untilMs: nil) == .woken)
        }
        #expect(system.openDescriptors.isEmpty)
        #expect(system.callsAfterClose.isEmpty)
    }
}
