import Synchronization
@testable import SpoolServer
import Testing

/// Requests of one connection take effect in the order they were read, however their tasks are
/// scheduled; a produce lets the next one in once appended, but not a request that must see it.
@Suite struct RequestTurnsTests {
    /// What the tasks did, shared between them.
    private final class Log: Sendable {
        let entries = Mutex<[Int]>([])
        func add(_ entry: Int) { entries.withLock { $0.append(entry) } }
        var all: [Int] { entries.withLock { $0 } }
    }

    @Test func turnsAppendInTheOrderTheyWereTakenWhateverOrderTheirTasksRunIn() async {
        let turns = RequestTurns()
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
        let turns = RequestTurns()
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

    @Test func aFetchAfterAPendingProduceWaitsUntilTheProduceIsAnswered() async {
        let turns = RequestTurns()
        let produce = turns.take()
        let nextProduce = turns.take()
        let fetch = turns.take()
        let events = Log()
        await produce.begin()
        produce.end()  // appended; now waiting for its flush
        // The next produce may append at once.
        await nextProduce.begin()
        events.add(1)
        nextProduce.end()
        async let fetched: Void = {
            await fetch.begin(afterPendingProduces: true)
            events.add(3)
            fetch.finish()
        }()
        // The fetch gets its turn, then waits for the two produces to be answered.
        var spins = 0
        while !turns.isWaitingForPendingProduces && spins < 100_000 {
            await Task.yield()
            spins += 1
        }
        #expect(turns.isWaitingForPendingProduces)
        events.add(2)
        produce.finish()
        nextProduce.finish()
        await fetched
        #expect(events.all == [1, 2, 3])
    }
}
