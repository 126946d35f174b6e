import Dispatch
import Foundation
import SpoolSystem
import Synchronization
import Testing

@Suite struct RepeatingTimerTests {
    private final class Count: Sendable {
        let value = Atomic(0)
    }

    @Test("a timer let go without being started, or stopped unstarted, goes quietly (libdispatch traps on a suspended source released)")
    func unstartedTimersGoQuietly() {
        do { _ = RepeatingTimer(queue: DispatchQueue(label: "unstarted"), intervalMs: 10) }
        let stopped = RepeatingTimer(queue: DispatchQueue(label: "stopped"), intervalMs: 10)
        stopped.stop()
        stopped.stop()
    }

    @Test("a started timer fires until stopped, and not after")
    func firesUntilStopped() async throws {
        let count = Count()
        let timer = RepeatingTimer(queue: DispatchQueue(label: "firing"), intervalMs: 5)
        timer.start { count.value.add(1, ordering: .relaxed) }
        for _ in 0..<500 where count.value.load(ordering: .relaxed) < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(count.value.load(ordering: .relaxed) >= 2)
        timer.stop()
        let atStop = count.value.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(100))
        // A tick already running when `stop` came may still count once.
        #expect(count.value.load(ordering: .relaxed) <= atStop + 1)
    }
}
