import Foundation
import SpoolSystem
import Synchronization

/// One thread running epoll over the connections it owns. Other threads hand it work with
/// `submit`, which wakes it through an eventfd; everything about a connection happens on its
/// loop's thread, so connections need no locks.
///
/// The loop's thread owns its two descriptors and closes them itself when it stops. The epoll
/// descriptor is touched by that thread alone. The eventfd lives inside the inbox, behind the same
/// lock that `submit` takes: the thread closes it, under that lock, in the same step that stops
/// the inbox from taking tasks. A request that finishes after `stop` (a parked fetch, a join)
/// still calls `submit`, finds the inbox closed and drops its task; it never writes its wake-up
/// into a descriptor number that may since name a checkpoint file or another connection.
final class EventLoop: @unchecked Sendable {
    // Safe to share: `inbox`, `running` and `stopRequested` are a Mutex and Atomics; `poller`,
    // `handlers`, `connections` and `periodic` are touched only on the loop's own thread (the
    // `run` loop and the tasks it executes) after `init`; `thread` is set once by `start`.
    let index: Int
    private let network: any NetworkSystem
    private var poller: Poller?
    private let inbox: Mutex<Inbox>
    private let running = Atomic(true)
    private let stopRequested = Atomic(false)
    private var handlers: [Int32: (IOEvents) -> Void] = [:]
    /// The connections this loop owns, by connection id (loop thread only).
    var connections: [UInt64: Connection] = [:]
    private var periodic: [() -> Void] = []
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)
    /// The wake-up descriptor's number while it is open (for tests that look for writes into it).
    let wakeDescriptor: Int32

    /// Tasks handed to the loop, and the descriptor that wakes it; both go away together.
    private struct Inbox: ~Copyable {
        var queue: [@Sendable () -> Void] = []
        /// nil once the loop has stopped: nothing would run what is submitted.
        var wake: WakeSignal?

        mutating func take() -> [@Sendable () -> Void] {
            defer { queue = [] }
            return queue
        }
    }

    /// Most descriptors one wait reports; the rest are reported by the next.
    static let readyMax = 128

    init(index: Int, network: any NetworkSystem = LiveNetworkSystem()) throws {
        self.index = index
        self.network = network
        let poller = try Poller(system: network)
        let wake = try WakeSignal(system: network)
        try poller.watch(wake.rawValue, for: .readable)
        wakeDescriptor = wake.rawValue
        self.poller = consume poller
        inbox = Mutex(Inbox(wake: consume wake))
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "spool-loop-\(index)"
        self.thread = thread
        thread.start()
    }

    /// Runs `task` on the loop's thread; drops it once the loop has stopped.
    func submit(_ task: @escaping @Sendable () -> Void) {
        inbox.withLock { inbox in
            // Only the first task of a batch needs to wake the loop: it takes the whole queue
            // after it clears the signal.
            let wasEmpty = inbox.queue.isEmpty
            switch inbox.wake {
            case nil: return
            case let wake?:
                inbox.queue.append(task)
                // A failed wake-up is a bug (the descriptor is ours and open); EAGAIN (counter
                // full) is returned as nil and already means "readable".
                if wasEmpty { try? wake.signal() }
            }
        }
    }

    // The following are called on the loop's thread only (or before `start`).

    /// Watches `fd` for `events`, running `handler` with what is reported. Fails when the kernel
    /// has no room for another watch (ENOMEM, ENOSPC at fs.epoll.max_user_watches).
    func register(_ fd: Int32, events: IOEvents, _ handler: @escaping (IOEvents) -> Void) throws {
        try poller?.watch(fd, for: events)
        handlers[fd] = handler
    }

    /// Changes what `fd` is watched for; fails only for want of kernel memory.
    func change(_ fd: Int32, events: IOEvents) throws {
        try poller?.rewatch(fd, for: events)
    }

    /// Stops watching `fd`; call before its owner closes it.
    func unregister(_ fd: Int32) {
        handlers.removeValue(forKey: fd)
        // Only a descriptor that is not watched (a bug) can fail here, and closing it ends the
        // watch anyway.
        try? poller?.unwatch(fd)
    }

    /// Runs `work` about once a second (idle checks, paused connections).
    func every(second work: @escaping () -> Void) { periodic.append(work) }

    private func run() {
        var ready = ReadyDescriptors(capacity: Self.readyMax)
        var lastPeriodic = Date()
        while running.load(ordering: .acquiring) {
            do { try poller?.wait(into: &ready, timeoutMs: 1000) } catch { preconditionFailure("epoll_wait: \(error)") }
            for slot in 0..<ready.count {
                let (fd, events) = ready[slot]
                if fd == wakeDescriptor {
                    inbox.withLock { inbox in
                        switch inbox.wake {
                        case let wake?: try? wake.clear()
                        case nil: break
                        }
                    }
                } else {
                    handlers[fd]?(events)
                }
            }
            for task in inbox.withLock({ $0.take() }) { task() }
            if Date().timeIntervalSince(lastPeriodic) >= 1 {
                lastPeriodic = Date()
                for work in periodic { work() }
            }
        }
        // Close the inbox and its descriptor in one step under the lock: a `submit` either got in
        // before (its task runs below) or finds the inbox closed.
        let leftover = inbox.withLock { inbox -> [@Sendable () -> Void] in
            inbox.wake.take()?.close()
            return inbox.take()
        }
        for task in leftover { task() }
        // What the handlers and periodic work hold (the server, this loop) is let go of with them.
        handlers = [:]
        periodic = []
        poller.take()?.close()
        stopped.signal()
    }

    /// Stops the loop after running `finally` on it (closing its connections) and waits for it.
    /// The loop's thread closes its descriptors as it ends.
    func stop(finally: @escaping @Sendable () -> Void) {
        guard !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        submit { [self] in
            finally()
            running.store(false, ordering: .releasing)
        }
        stopped.wait()
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
