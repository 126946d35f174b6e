import Dispatch
import Foundation
import SpoolSystem
import Synchronization
import Testing

/// Work that blocks on a `BlockingQueue` holds none of the threads Swift's tasks run on.
@Suite struct BlockingQueueTests {
    final class Probe: Sendable {
        let started = Atomic(0)
        let watchdogFired = Atomic(false)
        let gate = DispatchSemaphore(value: 0)
    }

    @Test("tasks run while a concurrent queue's work blocks, more of it than there are cores", arguments: [true, false])
    func blockedWorkLeavesTasksRunning(concurrent: Bool) async {
        let queue = BlockingQueue(label: "spool.test.blocking", concurrent: concurrent)
        let probe = Probe()
        // Dispatch's global pool, where Swift's tasks run, is as wide as there are cores; when its
        // threads block it adds one about once a second. Work that blocked there would hold these
        // tasks back for about `count - cores` seconds.
        let count = concurrent ? ProcessInfo.processInfo.activeProcessorCount * 4 : 1
        // Releases the work if the tasks below do not get to it first (the test then fails
        // instead of hanging): 3 s leaves room for tests running beside this one.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 3)
            probe.watchdogFired.store(true, ordering: .relaxed)
            probe.gate.signal()
        }
        let works = (0..<count).map { _ in
            Task {
                await queue.run {
                    probe.started.add(1, ordering: .relaxed)
                    probe.gate.wait()
                    probe.gate.signal()
                }
            }
        }
        for _ in 0..<1_000 where probe.started.load(ordering: .relaxed) < count { try? await Task.sleep(for: .milliseconds(5)) }
        // This task runs here while all of them block.
        let allBlockedAtOnce = probe.started.load(ordering: .relaxed) == count
        let ranBeforeRelease = !probe.watchdogFired.load(ordering: .relaxed)
        probe.gate.signal()
        for work in works { await work.value }
        #expect(allBlockedAtOnce, "\(probe.started.load(ordering: .relaxed)) of \(count) started")
        #expect(ranBeforeRelease, "tasks waited for the blocked work")
    }
}
