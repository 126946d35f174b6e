import Dispatch
import SpoolSystem
import Synchronization
import Testing

/// A caller that may not block takes a `HandOffLock` only when it is free and no holder that may
/// block holds, waits for or has announced it; everyone else waits for it.
@Suite struct HandOffLockTests {
    /// Holds `lock` on a thread of its own (as a holder that may block, or not) until `release`
    /// is signalled; returns once it holds it.
    private static func hold(_ lock: HandOffLock<Int>, mayBlock: Bool, until release: DispatchSemaphore) -> DispatchSemaphore {
        let held = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue(label: "spool.test.holder").async {
            let body: (inout Int) -> Void = { value in
                value += 1
                held.signal()
                release.wait()
            }
            if mayBlock { lock.withLockMayBlock(body) } else { lock.withLock(body) }
            done.signal()
        }
        held.wait()
        return done
    }

    @Test("a free lock is taken at once, and what the body returns comes back")
    func freeLockIsTaken() {
        let lock = HandOffLock(0)
        #expect(lock.withLockIfFree { value -> Int in value += 5; return value } == 5)
        #expect(lock.withLock { $0 } == 5)
    }

    @Test("a caller that may not block steps aside while a holder that may block holds the lock, however many tries it has", arguments: [1, 64])
    func stepsAsideForABlockingHolder(attempts: Int) {
        let lock = HandOffLock(0)
        let release = DispatchSemaphore(value: 0)
        let done = Self.hold(lock, mayBlock: true, until: release)
        #expect(lock.withLockIfFree(attempts: attempts) { _ in true } == nil)
        release.signal()
        done.wait()
        #expect(lock.withLockIfFree { $0 } == 1)
    }

    @Test("a caller that may not block gives up on a busy lock after its tries, and does not wait")
    func givesUpOnABusyLock() {
        let lock = HandOffLock(0)
        let release = DispatchSemaphore(value: 0)
        let done = Self.hold(lock, mayBlock: false, until: release)
        #expect(lock.withLockIfFree(attempts: 3) { _ in true } == nil)
        release.signal()
        done.wait()
        #expect(lock.withLockIfFree(attempts: 3) { $0 } == 1)
    }

    @Test("work announced as one that may block makes callers that may not block step aside before it holds the lock, and only until it returns")
    func announcedWorkIsNotOvertaken() async {
        let lock = HandOffLock(0)
        let stepped = await lock.announcingMayBlock { () async -> Int? in
            lock.withLockIfFree { _ in 1 }
        }
        #expect(stepped == nil, "a caller took the lock ahead of announced work")
        #expect(lock.withLockIfFree { _ in 2 } == 2)
    }

    @Test("an error thrown under the lock reaches the caller, and the lock is free after")
    func errorsPassThrough() {
        struct Refused: Error {}
        let lock = HandOffLock(0)
        #expect(throws: Refused.self) { try lock.withLockIfFree { (_: inout Int) throws(Refused) -> Int in throw Refused() } }
        #expect(throws: Refused.self) { try lock.withLockMayBlock { (_: inout Int) throws(Refused) -> Int in throw Refused() } }
        #expect(lock.withLockIfFree { _ in 3 } == 3)
    }
}
