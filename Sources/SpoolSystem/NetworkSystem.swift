/// Readiness a descriptor is watched for, or was reported with (`Poller`).
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Bytes to read (or a connection to accept).
    public static let readable = IOEvents(rawValue: 1 << 0)
    /// Room to write.
    public static let writable = IOEvents(rawValue: 1 << 1)
    /// The peer hung up or shut its side down (reported whatever was asked).
    public static let hangup = IOEvents(rawValue: 1 << 2)
    /// An error on the descriptor (reported whatever was asked).
    public static let error = IOEvents(rawValue: 1 << 3)
}

/// Every system call the server makes on sockets, epoll, eventfd and timerfd, behind one protocol, as
/// `FileSystem` is for storage.
///
/// Nothing in SpoolServer calls Glibc or CSpool for these: it goes through a `NetworkSystem`, so
/// tests can wrap `LiveNetworkSystem` to count calls, fail them, or check that nothing touches a
/// descriptor after it was closed. Descriptors come back as raw numbers here; the owning wrappers
/// (`FileDescriptor`, `Poller`, `WakeSignal`, `WallClockAlarm`) are what the server holds. EINTR is retried inside;
/// EAGAIN is a result (nil), not an error; other failures throw `SystemError`.
public protocol NetworkSystem: Sendable {
    /// A non-blocking TCP listener on `host` (IPv4 dotted quad) and `port` (0 picks a free one).
    func listen(host: String, port: UInt16, backlog: Int32) throws -> Int32
    /// A pending connection, non-blocking, or nil when none is waiting.
    func accept(_ listener: Int32) throws -> Int32?
    /// The local port of a bound socket.
    func localPort(_ fd: Int32) throws -> UInt16
    /// The peer of a connected socket as "a.b.c.d:port", or nil.
    func peerName(_ fd: Int32) -> String?
    /// Turns Nagle's algorithm off (TCP_NODELAY); advice, so it cannot fail in a way that matters.
    func setNoDelay(_ fd: Int32)
    func makePoller() throws -> Int32
    /// Starts watching `fd` for `events` (level-triggered).
    func watch(_ poller: Int32, _ fd: Int32, for events: IOEvents) throws
    /// Changes what `fd` is watched for.
    func rewatch(_ poller: Int32, _ fd: Int32, for events: IOEvents) throws
    /// Stops watching `fd`.
    func unwatch(_ poller: Int32, _ fd: Int32) throws
    /// Waits up to `timeoutMs` and fills `ready` with at most its capacity of descriptors and their
    /// events. An interrupted wait reports none.
    func wait(_ poller: Int32, into ready: inout ReadyDescriptors, timeoutMs: Int32) throws
    /// A non-blocking eventfd.
    func makeEventDescriptor() throws -> Int32
    /// A non-blocking timerfd on the wall clock (CLOCK_REALTIME), disarmed.
    func makeWallClockTimer() throws -> Int32
    /// Arms `timer` to become readable when the wall clock reads `atMs` (milliseconds since the
    /// Unix epoch; a time passed already fires at once), or disarms it (nil). While armed, setting
    /// the wall clock makes it readable too, and its read then fails with ECANCELED.
    func setWallClockTimer(_ timer: Int32, atMs: Int64?) throws
    /// Reads into `buffer`: the count read (0 at end of stream), or nil when nothing is ready.
    func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int?
    /// Writes some of `bytes`: the count written, or nil when the descriptor cannot take any now.
    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int?
    /// Writes some of `buffers`, in order, with one call (a gathering write, at most
    /// `gatherCountMax` of them): the count written, or nil when the descriptor cannot take any now.
    func write(_ fd: Int32, gathering buffers: [UnsafeRawBufferPointer]) throws -> Int?
    /// Shuts the sending side of a connected socket: what is queued goes out, then a FIN; the
    /// socket can still be read. Failures (the peer gone already) are not reported.
    func shutdownWrite(_ fd: Int32)
    func close(_ fd: Int32)
}

/// What one wait on a `Poller` reported: up to `capacity` descriptors with their events. Allocated
/// once by the waiting thread and reused for every wait.
public struct ReadyDescriptors {
    public let capacity: Int
    /// Filled by `NetworkSystem.wait`: descriptor numbers and their events (`IOEvents` raw values).
    public var descriptors: [Int32]
    public var events: [UInt32]
    /// How many of the slots the last wait filled.
    public var count = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "a wait needs room for one descriptor")
        self.capacity = capacity
        descriptors = [Int32](repeating: -1, count: capacity)
        events = [UInt32](repeating: 0, count: capacity)
    }

    public subscript(slot: Int) -> (fd: Int32, events: IOEvents) {
        precondition(slot >= 0 && slot < count, "slot \(slot) of \(count) ready")
        return (descriptors[slot], IOEvents(rawValue: events[slot]))
    }
}

/// The most buffers one gathering write takes (Linux's IOV_MAX is 1,024).
public let gatherCountMax = 64

extension NetworkSystem {
    /// A listening socket, owned.
    public func listenSocket(host: String, port: UInt16, backlog: Int32) throws -> FileDescriptor {
        FileDescriptor(adopting: try listen(host: host, port: port, backlog: backlog), system: self)
    }

    /// A connection accepted on `listener`, owned, or nil when none is waiting.
    public func acceptConnection(on listener: borrowing FileDescriptor) throws -> FileDescriptor? {
        guard let fd = try accept(listener.rawValue) else { return nil }
        return FileDescriptor(adopting: fd, system: self)
    }
}
