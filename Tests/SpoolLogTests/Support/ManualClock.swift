import Synchronization

/// A wall clock that moves only when a test moves it.
final class ManualClock: Sendable {
    private let now: Mutex<Int64>

    init(_ start: Int64 = 1_700_000_000_000) { now = Mutex(start) }

    var milliseconds: Int64 { now.withLock { $0 } }

    func advance(by milliseconds: Int64) { now.withLock { $0 += milliseconds } }

    /// The closure a log takes as its clock.
    var read: @Sendable () -> Int64 { { [self] in self.milliseconds } }
}
