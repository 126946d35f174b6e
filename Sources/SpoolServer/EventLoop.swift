import CSpool
import Foundation
import Glibc
import Synchronization

/// One thread running epoll over the connections it owns. Other threads hand it work with
/// `submit`, which wakes it through an eventfd; everything about a connection happens on its
/// loop's thread, so connections need no locks.
///
/// The epoll and eventfd descriptors live as long as the loop object, not as long as its thread:
/// a request that finishes after `stop` still holds the loop and may still `submit`, and a
/// descriptor closed under it could by then name another file (a segment, a checkpoint) that the
/// wake-up's 8 bytes would be written into. `submit` after `stop` drops the task.
final class EventLoop: @unchecked Sendable {
    // Safe to share: `epoll`, `wakeFD` and `tasks` are set once or guarded by a Mutex; every other
    // member is touched only on the loop's own thread (the `run` loop and tasks it executes).
    let index: Int
    private let epoll: Int32
    let wakeFD: Int32
    private let tasks = Mutex(Tasks())
    private let running = Atomic(true)
    private var handlers: [Int32: (UInt32) -> Void] = [:]
    /// The connections this loop owns, by connection id (loop thread only).
    var connections: [UInt64: Connection] = [:]
    private var periodic: [() -> Void] = []
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    private struct Tasks {
        var queue: [@Sendable () -> Void] = []
        /// False once the loop has stopped: nothing would run what is submitted.
        var accepting = true

        mutating func take() -> [@Sendable () -> Void] {
            defer { queue = [] }
            return queue
        }
    }

    init(index: Int) throws {
        self.index = index
        epoll = spool_epoll_create()
        guard epoll >= 0 else { throw ServerError.system("epoll_create", errno) }
        wakeFD = spool_eventfd()
        guard wakeFD >= 0 else { throw ServerError.system("eventfd", errno) }
        _ = spool_epoll_control(epoll, 0, wakeFD, SPOOL_EVENT_READ)
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "spool-loop-\(index)"
        self.thread = thread
        thread.start()
    }

    deinit {
        close(wakeFD)
        close(epoll)
    }

    /// Runs `task` on the loop's thread; drops it once the loop has stopped.
    func submit(_ task: @escaping @Sendable () -> Void) {
        let accepted = tasks.withLock { tasks in
            if tasks.accepting { tasks.queue.append(task) }
            return tasks.accepting
        }
        guard accepted else { return }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    // The following are called on the loop's thread only.

    func register(_ fd: Int32, events: UInt32, _ handler: @escaping (UInt32) -> Void) {
        handlers[fd] = handler
        _ = spool_epoll_control(epoll, 0, fd, events)
    }

    func change(_ fd: Int32, events: UInt32) { _ = spool_epoll_control(epoll, 1, fd, events) }

    func unregister(_ fd: Int32) {
        handlers.removeValue(forKey: fd)
        _ = spool_epoll_control(epoll, 2, fd, 0)
    }

    /// Runs `work` about once a second (idle checks).
    func every(second work: @escaping () -> Void) { periodic.append(work) }

    private func run() {
        var fds = [Int32](repeating: 0, count: 128)
        var events = [UInt32](repeating: 0, count: 128)
        var lastPeriodic = Date()
        while running.load(ordering: .acquiring) {
            let count = spool_epoll_wait(epoll, &fds, &events, 128, 1000)
            if count < 0 && errno != EINTR { break }
            for slot in 0..<Int(max(count, 0)) {
                if fds[slot] == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                } else {
                    handlers[fds[slot]]?(events[slot])
                }
            }
            for task in tasks.withLock({ $0.take() }) { task() }
            if Date().timeIntervalSince(lastPeriodic) >= 1 {
                lastPeriodic = Date()
                for work in periodic { work() }
            }
        }
        for task in tasks.withLock({ $0.take() }) { task() }
        stopped.signal()
    }

    /// Stops the loop after running `finally` on it (closing its connections) and waits for it.
    /// The loop's descriptors are closed when the last reference to it goes.
    func stop(finally: @escaping @Sendable () -> Void) {
        guard tasks.withLock({ $0.accepting }) else { return }
        submit { [self] in
            finally()
            running.store(false, ordering: .releasing)
        }
        stopped.wait()
        tasks.withLock { tasks in
            tasks.accepting = false
            tasks.queue = []
        }
    }
}

enum ServerError: Error, CustomStringConvertible {
    case system(String, Int32)
    case invalidAddress(String)

    var description: String {
        switch self {
        case let .system(call, code): "\(call): \(String(cString: strerror(code)))"
        case let .invalidAddress(text): "invalid address '\(text)' (expected HOST:PORT with an IPv4 host)"
        }
    }
}
