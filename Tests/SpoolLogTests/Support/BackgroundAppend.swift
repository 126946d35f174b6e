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
    /// The file work an append can be held at.
    enum HeldCall: String, CaseIterable, Sendable { case write, allocation }

    /// Holds every `call` (and sync) at the sync gate, starts appending `batch` to `log` on a
    /// thread of its own, and once something waits at the gate (or 10 s passed) runs `meanwhile`
    /// with how many calls wait there; then lets the disk go and waits for the append. Returns
    /// what `meanwhile` returned and how the append went.
    func append<T>(_ batch: [UInt8], to log: PartitionLog, holding call: HeldCall,
                   meanwhile: (_ waiting: Int) throws -> T) rethrows -> (T, append: (finished: Bool, baseOffset: Int64?)) {
        let gate = DispatchSemaphore(value: 0)
        func hold(_ on: Bool) {
            if call == .write { gatesWrites.store(on, ordering: .relaxed) } else { gatesAllocations.store(on, ordering: .relaxed) }
            syncGate.withLock { $0 = on ? gate : nil }
            if !on { gate.signal() }
        }
        hold(true)
        let append = BackgroundAppend(log, batch)
        for _ in 0..<10_000 where syncsWaiting.load(ordering: .relaxed) == 0 { usleep(1_000) }
        let result: T
        do {
            result = try meanwhile(syncsWaiting.load(ordering: .relaxed))
        } catch {
            hold(false)
            _ = append.wait()
            throw error
        }
        hold(false)
        return (result, append.wait())
    }
}
