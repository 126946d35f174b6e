import Dispatch
import Glibc
import SpoolSystem
import Synchronization

/// The live network calls, recorded: which descriptors this system opened and closed, and every
/// read or write made to a descriptor after it was closed (when its number may already name a
/// file or socket opened since). Calls can also be made to fail. The test seam for the server's
/// sockets, epoll, eventfd and timerfd, as `FaultInjectingFileSystem` is for storage.
public final class RecordingNetworkSystem: NetworkSystem {
    public enum Call: String, Sendable { case listen, accept, read, write, poller, eventDescriptor, wallClockTimer, watch }

    private struct State {
        var open: Set<Int32> = []
        var closed: Set<Int32> = []
        var afterClose: [String] = []
        var calls: [String: Int] = [:]
        var faults: [Call: Int32] = [:]
    }

    private let live = LiveNetworkSystem()
    private let state = Mutex(State())
    private let gate = Mutex<WaitGate?>(nil)

    /// An epoll wait held after it returned, before its caller sees what it reported.
    public final class WaitGate: Sendable {
        /// Signalled once a wait is held.
        public let held = DispatchSemaphore(value: 0)
        fileprivate let release = DispatchSemaphore(value: 0)
        /// Lets the held wait return.
        public func open() { release.signal() }
    }

    public init() {}

    /// Reads, writes and closes of a descriptor after this system closed it ("write 12"), in order.
    public var callsAfterClose: [String] { state.withLock { $0.afterClose } }
    /// Descriptors this system opened and has not closed.
    public var openDescriptors: Set<Int32> { state.withLock { $0.open } }
    /// How many times `call` was made.
    public func count(_ call: Call) -> Int { state.withLock { $0.calls[call.rawValue] ?? 0 } }

    /// Fails every later `call` with `errno` until `clear`.
    public func inject(_ call: Call, errno: Int32) { state.withLock { $0.faults[call] = errno } }
    public func clear() { state.withLock { $0.faults = [:] } }

    private func record(_ call: Call, _ fd: Int32? = nil) throws {
        let errno = state.withLock { state -> Int32? in
            state.calls[call.rawValue, default: 0] += 1
            if let fd, state.closed.contains(fd) { state.afterClose.append("\(call.rawValue) \(fd)") }
            return state.faults[call]
        }
        if let errno { throw SystemError(errno: errno, operation: call.rawValue) }
    }

    private func opened(_ fd: Int32) -> Int32 {
        state.withLock { state in
            state.open.insert(fd)
            state.closed.remove(fd)
        }
        return fd
    }

    public func listen(host: String, port: UInt16, backlog: Int32) throws -> Int32 {
        try record(.listen)
        return opened(try live.listen(host: host, port: port, backlog: backlog))
    }

    public func accept(_ listener: Int32) throws -> Int32? {
        try record(.accept, listener)
        return try live.accept(listener).map(opened)
    }

    public func localPort(_ fd: Int32) throws -> UInt16 { try live.localPort(fd) }
    public func peerName(_ fd: Int32) -> String? { live.peerName(fd) }
    public func setNoDelay(_ fd: Int32) { live.setNoDelay(fd) }

    public func makePoller() throws -> Int32 {
        try record(.poller)
        return opened(try live.makePoller())
    }

    public func watch(_ poller: Int32, _ fd: Int32, for events: IOEvents) throws {
        try record(.watch, fd)
        try live.watch(poller, fd, for: events)
    }

    public func rewatch(_ poller: Int32, _ fd: Int32, for events: IOEvents) throws { try live.rewatch(poller, fd, for: events) }
    public func unwatch(_ poller: Int32, _ fd: Int32) throws { try live.unwatch(poller, fd) }

    /// Holds the next epoll wait that reports a descriptor until the gate is opened.
    public func holdNextReadyWait() -> WaitGate {
        let held = WaitGate()
        gate.withLock { $0 = held }
        return held
    }

    public func wait(_ poller: Int32, into ready: inout ReadyDescriptors, timeoutMs: Int32) throws {
        try live.wait(poller, into: &ready, timeoutMs: timeoutMs)
        guard ready.count > 0, let held = gate.withLock({ $0.take() }) else { return }
        held.held.signal()
        held.release.wait()
    }

    public func makeEventDescriptor() throws -> Int32 {
        try record(.eventDescriptor)
        return opened(try live.makeEventDescriptor())
    }

    public func makeWallClockTimer() throws -> Int32 {
        try record(.wallClockTimer)
        return opened(try live.makeWallClockTimer())
    }

    public func setWallClockTimer(_ timer: Int32, atMs: Int64?) throws {
        try record(.wallClockTimer, timer)
        try live.setWallClockTimer(timer, atMs: atMs)
    }

    public func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        try record(.read, fd)
        return try live.read(fd, into: buffer)
    }

    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int? {
        try record(.write, fd)
        return try live.write(fd, bytes)
    }

    public func write(_ fd: Int32, gathering buffers: [UnsafeRawBufferPointer]) throws -> Int? {
        try record(.write, fd)
        return try live.write(fd, gathering: buffers)
    }

    public func shutdownWrite(_ fd: Int32) {
        state.withLock { state in if state.closed.contains(fd) { state.afterClose.append("shutdown \(fd)") } }
        live.shutdownWrite(fd)
    }

    public func close(_ fd: Int32) {
        state.withLock { state in
            if state.closed.contains(fd) { state.afterClose.append("close \(fd)") }
            state.open.remove(fd)
            state.closed.insert(fd)
        }
        live.close(fd)
    }
}
