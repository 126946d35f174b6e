import Glibc

/// Sleeps one thread until the wall clock reads a given time, another thread wakes it, or the wall
/// clock is set: a timerfd on CLOCK_REALTIME, armed at an absolute time with cancel-on-set, and an
/// eventfd, watched by one epoll instance.
///
/// For waits on times that are wall-clock by nature (a held record's `spool-deliver-at`): a
/// monotonic sleep for "due minus now" oversleeps when the clock is set forward meanwhile, so the
/// sleeper had to look again every so often. Here the kernel wakes it at the time itself, and
/// tells it when the clock jumps, so it sleeps as long as nothing is due.
///
/// `wait` is for one thread at a time; `wake` is for any thread. The descriptors close when the
/// alarm goes, so no `wake` can reach a closed eventfd.
public final class WallClockAlarm: Sendable {
    /// Why a wait ended. Each means "look at the clock again"; they differ for tests and logs.
    public enum Wake: Sendable, Equatable {
        /// The wall clock reached the time waited for.
        case due
        /// `wake()` was called (before or during the wait).
        case woken
        /// The wall clock was set while the timer was armed.
        case clockSet
    }

    private let system: any NetworkSystem
    private let poller: Poller
    private let timer: FileDescriptor
    private let signal: WakeSignal

    public init(system: any NetworkSystem = LiveNetworkSystem()) throws {
        self.system = system
        poller = try Poller(system: system)
        timer = FileDescriptor(adopting: try system.makeWallClockTimer(), system: system)
        signal = try WakeSignal(system: system)
        try poller.watch(timer.rawValue, for: .readable)
        try poller.watch(signal.rawValue, for: .readable)
    }

    /// Ends the current wait, or the next one if none is under way.
    public func wake() {
        // An eventfd write fails only when its counter is full, and a full counter is readable.
        try? signal.signal()
    }

    /// Blocks until the wall clock reads `dueMs` (milliseconds since the Unix epoch; a time passed
    /// already returns at once), `wake()` is called, or the wall clock is set. With `dueMs` nil
    /// only a wake-up ends it. `.clockSet` can also mean the clock was set before this wait, while
    /// the timer was still armed for an earlier one.
    public func wait(untilMs dueMs: Int64?) throws -> Wake {
        do {
            try system.setWallClockTimer(timer.rawValue, atMs: dueMs)
        } catch let error as SystemError where error.errno == ECANCELED {
            // The clock was set while the timer was armed for an earlier wait that a wake-up
            // ended: Linux reports it on this re-arming, once, and leaves the timer disarmed.
            return .clockSet
        }
        var ready = ReadyDescriptors(capacity: 2)
        var expirations: UInt64 = 0
        while true {
            try poller.wait(into: &ready, timeoutMs: -1)
            var timerReady = false
            for slot in 0..<ready.count {
                if ready[slot].fd == signal.rawValue {
                    try signal.clear()
                    return .woken
                }
                timerReady = timerReady || ready[slot].fd == timer.rawValue
            }
            guard timerReady else { continue }
            do {
                // Nil: another reader took the expiry or the timer was re-armed; wait on.
                if try withUnsafeMutableBytes(of: &expirations, { try timer.read(into: $0) }) != nil { return .due }
            } catch let error as SystemError where error.errno == ECANCELED {
                return .clockSet
            }
        }
    }
}
