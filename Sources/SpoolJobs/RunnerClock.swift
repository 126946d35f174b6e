import SpoolSystem

/// Wall-clock time for one runner's jobs, worked out from a monotonic reading the runner takes
/// anyway (to time the run) and the offset between the two clocks, read again every 100 ms:
/// a clock read fewer per job. A step of the wall clock (set by hand, or by NTP at boot) shows
/// within 100 ms; between two readings NTP's slewing moves the clocks apart by 0.05 ms at most.
///
/// Used by its runner's task alone, one job after another (hence `@unchecked Sendable`, and its
/// properties not checked for exclusive access at run time).
final class RunnerClock: @unchecked Sendable {
    static let rereadNanoseconds: UInt64 = 100_000_000
    @exclusivity(unchecked) private var offsetNanoseconds: Int64 = 0
    @exclusivity(unchecked) private var rereadAt: UInt64 = 0

    /// Epoch milliseconds at `monotonic`, a `monotonicNanoseconds()` reading just taken.
    func wallMs(at monotonic: UInt64) -> Int64 {
        if monotonic >= rereadAt {
            let wall = currentTimeNanoseconds()
            let now = monotonicNanoseconds()
            offsetNanoseconds = wall &- Int64(bitPattern: now)
            rereadAt = now &+ Self.rereadNanoseconds
        }
        return (Int64(bitPattern: monotonic) &+ offsetNanoseconds) / 1_000_000
    }
}
