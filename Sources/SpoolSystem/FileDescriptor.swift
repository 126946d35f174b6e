/// An open descriptor with exactly one owner, closed exactly once.
///
/// The type is non-copyable: it cannot be duplicated, `close()` consumes it, and a descriptor that
/// goes out of scope unclosed is closed by `deinit`. So a descriptor is never closed twice, and no
/// code can read, write or close it after it was closed, when its number may already name another
/// file. `rawValue` is for the kernel's bookkeeping (an epoll registration, a log line), never for
/// closing.
public struct FileDescriptor: ~Copyable, Sendable {
    /// The descriptor number; valid while this value exists.
    public let rawValue: Int32
    private let system: any NetworkSystem

    /// Takes ownership of `rawValue`, which `system` opened.
    public init(adopting rawValue: Int32, system: any NetworkSystem) {
        precondition(rawValue >= 0, "adopting descriptor \(rawValue)")
        self.rawValue = rawValue
        self.system = system
    }

    /// Closes the descriptor (by ending its owner's lifetime: `deinit` does the close).
    public consuming func close() {}

    deinit { system.close(rawValue) }

    /// Reads into `buffer`: the count read (0 at end of stream), or nil when nothing is ready.
    public borrowing func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        try system.read(rawValue, into: buffer)
    }

    /// Shuts the sending side (see `NetworkSystem.shutdownWrite`).
    public borrowing func shutdownWrite() {
        system.shutdownWrite(rawValue)
    }

    /// Writes some of `bytes`: the count written, or nil when the descriptor cannot take any now.
    public borrowing func write(_ bytes: UnsafeRawBufferPointer) throws -> Int? {
        try system.write(rawValue, bytes)
    }

    /// Writes some of `buffers`, in order, with one call (see `NetworkSystem.write(_:gathering:)`).
    public borrowing func write(gathering buffers: [UnsafeRawBufferPointer]) throws -> Int? {
        try system.write(rawValue, gathering: buffers)
    }
}
