import Synchronization

/// Wall-clock milliseconds that move only when the simulation moves them: what the broker, its
/// logs and the simulated disk's modification times read.
public final class SimulationClock: Sendable {
    private let now: Mutex<Int64>

    public init(startMs: Int64 = 1_764_370_000_000) { now = Mutex(startMs) }

    public var milliseconds: Int64 { now.withLock { $0 } }

    public func advance(byMs milliseconds: Int64) {
        precondition(milliseconds >= 0, "the clock never goes back")
        now.withLock { $0 += milliseconds }
    }

    /// The closure `Broker.open` and `SimulatedFileSystem` take.
    public var read: @Sendable () -> Int64 { { [self] in self.milliseconds } }
}
