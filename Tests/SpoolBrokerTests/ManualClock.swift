import SpoolSystem
import Synchronization

/// A clock that moves only when a test moves it. A group coordinator or broker built on one lets
/// a session, rebalance timeout, initial delay or delivery time pass exactly when the test says,
/// and never because a loaded machine ran the test slowly. Their own timers keep running, but can
/// only act on the time the test has set.
final class ManualClock: Sendable {
    private let nanoseconds: Mutex<UInt64>

    /// Starts at the wall-clock time, so that record timestamps and due times near it look as usual.
    init() {
        nanoseconds = Mutex(UInt64(currentTimeMs()) * 1_000_000)
    }

    /// Nanoseconds, for `GroupCoordinator(clock:)`.
    var now: UInt64 { nanoseconds.withLock { $0 } }

    /// Milliseconds since the Unix epoch, for `Broker.open(_:clock:)`.
    var nowMs: Int64 { Int64(now / 1_000_000) }

    func advance(ms: Int) {
        precondition(ms >= 0, "a clock does not go back")
        nanoseconds.withLock { $0 += UInt64(ms) * 1_000_000 }
    }
}
