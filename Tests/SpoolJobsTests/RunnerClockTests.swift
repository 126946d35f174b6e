import SpoolSystem
import Testing
@testable import SpoolJobs

@Suite("A runner's wall clock, from its monotonic readings")
struct RunnerClockTests {
    @Test("the wall-clock time of a monotonic reading is the wall clock's at that moment, and moves with the reading")
    func wallTimeFromMonotonic() {
        let clock = RunnerClock()
        let before = currentTimeMs()
        let reading = monotonicNanoseconds()
        let ms = clock.wallMs(at: reading)
        let after = currentTimeMs()
        #expect(ms >= before - 1 && ms <= after + 1)
        // Within the reread interval the offset is kept: a later reading is later by as much.
        let later = clock.wallMs(at: reading + 50_000_000)
        #expect(later - ms >= 49 && later - ms <= 51)
        // Past it the clocks are read again; the offset is the same but for the moments between.
        let reread = clock.wallMs(at: reading + 250_000_000)
        #expect(reread - ms >= 248 && reread - ms <= 252 + (currentTimeMs() - before))
    }
}
