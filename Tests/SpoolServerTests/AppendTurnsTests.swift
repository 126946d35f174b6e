import Synchronization
@testable import SpoolServer
import Testing

/// Produce requests of one connection append in the order they were read, however their tasks
/// are scheduled.
@Suite struct AppendTurnsTests {
    /// What the tasks did, shared between them.
    private final class Log: Sendable {
        let entries = Mutex<[Int]>([])
        func add(_ entry: Int) { entries.withLock { $0.append(entry) } }
        var all: [Int] { entries.withLock { $0 } }
    }

    @Test func turnsAppendInTheOrderTheyWereTakenWhateverOrderTheirTasksRunIn() async {
        let turns = AppendTurns()
        let taken = (0..<200).map { _ in turns.take() }
        let order = Log()
        await withTaskGroup(of: Void.self) { group in
            // Started last to first: without the turns, most would append out of order.
            for (number, turn) in taken.enumerated().reversed() {
                group.addTask {
                    await turn.begin()
                    order.add(number)
                    turn.end()
                    await turn.release()  // a no-op once ended
                }
            }
        }
        #expect(order.all == Array(0..<200))
    }

    @Test func aRequestThatNeverAppendsStillPassesItsTurnOn() async {
        let turns = AppendTurns()
        let malformed = turns.take()
        let next = turns.take()
        let appended = Log()
        async let later: Void = {
            await next.begin()
            appended.add(1)
            next.end()
        }()
        // The malformed request ends without reaching its append; its task releases the turn.
        await malformed.release()
        await later
        #expect(appended.all == [1])
    }
}
