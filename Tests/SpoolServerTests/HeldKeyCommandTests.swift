import Foundation
import SpoolJobs
import Synchronization
import Testing

/// `spool dlq list` and `spool dlq redrive --key` against a real `spool serve`, with a worker that
/// holds keys (`onDeadLetter: .holdKey`) over the Kafka protocol.
@Suite(.serialized) struct HeldKeyCommandTests {
    struct Entry: Job {
        static let topic = "ledger"
        var step: Int
    }

    /// The steps run, in order, and whether step 2 is fixed.
    final class Ledger: Sendable {
        let state = Mutex((fixed: false, ran: [Int]()))
        var ran: [Int] { state.withLock { $0.ran } }

        func run(_ step: Int) throws {
            let fixed = state.withLock { state in
                state.ran.append(step)
                return state.fixed
            }
            if step == 2 && !fixed { throw Declined() }
        }
    }

    struct Declined: Error, CustomStringConvertible {
        var description: String { "card declined" }
    }

    @Test(.timeLimit(.minutes(2)))
    func heldKeyListedAndRedrivenInOrder() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await ServerProcess.start(data: data)
        defer { server.kill() }
        let broker = ["--broker", server.bootstrap]
        let queue = try JobQueue.connect(to: server.bootstrap, partitions: 1)
        let ledger = Ledger()
        let worker = Worker<Entry>(queue: queue, group: "ledgers", retry: .exponential(maxAttempts: 1), onDeadLetter: .holdKey) { job in
            try ledger.run(job.payload.step)
        }
        let running = Task { try await worker.run() }
        for step in 1...3 { try await queue.enqueue(Entry(step: step), key: "acct", id: "L-\(step)") }
        let deadline = Date().addingTimeInterval(60)
        while worker.stats.parked < 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(ledger.ran == [1, 2])

        let listed = try await CommandLineTests.spool(["dlq", "list", "ledger"] + broker)
        #expect(listed.status == 0, "\(listed.errors)")
        let rows = listed.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first == ["ID", "KEY", "ATTEMPTS", "ORIGIN", "FAILED", "AT", "HOLD", "ERROR"])
        #expect(rows.dropFirst().map { [$0[0], $0[1], $0[5], $0[6]] } == [["L-2", "acct", "ledgers/0:1", "dead"], ["L-3", "acct", "ledgers/0:1", "parked"]])
        #expect(listed.errors == """
            spool dlq list: 2 dead letters in ledger.dlq
            spool dlq list: key acct is held for group ledgers since L-2 dead-lettered (hold ledgers/0:1, 1 parked)

            """)

        ledger.state.withLock { $0.fixed = true }
        let redriven = try await CommandLineTests.spool(["dlq", "redrive", "ledger", "--key", "acct"] + broker)
        #expect(redriven.status == 0, "\(redriven.errors)")
        #expect(redriven.output == "replaying L-2 in order (hold ledgers/0:1) in ledger\nreplaying L-3 in order (hold ledgers/0:1) in ledger\n")
        #expect(redriven.errors == "spool dlq redrive: 0 jobs sent back, 2 to be replayed in order by the held keys' workers\n")
        try await queue.enqueue(Entry(step: 4), key: "acct", id: "L-4")
        while ledger.ran.count < 5 && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(ledger.ran == [1, 2, 2, 3, 4])
        let again = try await CommandLineTests.spool(["dlq", "redrive", "ledger", "--key", "acct"] + broker)
        #expect(again.status == 1)
        #expect(again.errors == "spool dlq redrive: key acct is not held\n")
        worker.stop()
        try await running.value
        await queue.transport.close()
    }
}
