/// An epoll instance, owned: the descriptors it watches and what it waits for. Used by one thread
/// (an event loop), which closes it when it stops.
public struct Poller: ~Copyable, Sendable {
    private let descriptor: FileDescriptor
    private let system: any NetworkSystem

    public init(system: any NetworkSystem) throws {
        descriptor = FileDescriptor(adopting: try system.makePoller(), system: system)
        self.system = system
    }

    public consuming func close() { descriptor.close() }

    public func watch(_ fd: Int32, for events: IOEvents) throws { try system.watch(descriptor.rawValue, fd, for: events) }
    public func rewatch(_ fd: Int32, for events: IOEvents) throws { try system.rewatch(descriptor.rawValue, fd, for: events) }
    public func unwatch(_ fd: Int32) throws { try system.unwatch(descriptor.rawValue, fd) }

    /// Waits up to `timeoutMs` for ready descriptors; see `NetworkSystem.wait`.
    public func wait(into ready: inout ReadyDescriptors, timeoutMs: Int32) throws {
        try system.wait(descriptor.rawValue, into: &ready, timeoutMs: timeoutMs)
    }
}

/// An eventfd that wakes a thread blocked in a `Poller`, owned.
public struct WakeSignal: ~Copyable, Sendable {
    private let descriptor: FileDescriptor

    public init(system: any NetworkSystem) throws {
        descriptor = FileDescriptor(adopting: try system.makeEventDescriptor(), system: system)
    }

    /// The descriptor to watch for `.readable`.
    public var rawValue: Int32 { descriptor.rawValue }

    public consuming func close() { descriptor.close() }

    /// Makes the descriptor readable (adds 1 to the eventfd's counter). A counter at its maximum
    /// (EAGAIN) is readable already.
    public func signal() throws {
        var one: UInt64 = 1
        _ = try withUnsafeBytes(of: &one) { try descriptor.write($0) }
    }

    /// Makes the descriptor unreadable again until the next `signal` (reads the counter to zero).
    public func clear() throws {
        var value: UInt64 = 0
        _ = try withUnsafeMutableBytes(of: &value) { try descriptor.read(into: $0) }
    }
}
