import Dispatch
import Foundation
import SpoolLog
import Synchronization

/// An append run on a thread of its own, so that it may wait at a `FaultInjectingFileSystem`
/// gate while the test goes on; the test then waits for its outcome.
final class BackgroundAppend: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let baseOffset = Mutex<Int64?>(nil)

    init(_ log: PartitionLog, _ batch: [UInt8]) {
        Thread.detachNewThread { [self] in
            let result = try? log.append(batch)
            baseOffset.withLock { $0 = result?.baseOffset }
            done.signal()
        }
    }

    /// Waits up to 10 s for the append: whether it returned, and the base offset it stored (nil
    /// when it threw).
    func wait() -> (finished: Bool, baseOffset: Int64?) {
        let finished = done.wait(timeout: .now() + 10) == .success
        return (finished, baseOffset.withLock { $0 })
    }
}

extension FaultInjectingFileSystem {
    /// Waits up to 10 s for a call to wait at the sync gate; returns how many wait there.
    func waitForCallsAtGate() -> Int {
        for _ in 0..<10_000 where syncsWaiting.load(ordering: .relaxed) == 0 { usleep(1_000) }
        return syncsWaiting.load(ordering: .relaxed)
    }
}
