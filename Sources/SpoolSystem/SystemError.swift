import Glibc

/// A failed system call: which call, on what, and the errno it returned.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public var errno: Int32
    public var operation: String
    public var path: String?

    public init(errno: Int32, operation: String, path: String? = nil) {
        self.errno = errno
        self.operation = operation
        self.path = path
    }

    /// The disk (or the user's quota) is full.
    public var isNoSpace: Bool { errno == ENOSPC || errno == EDQUOT }

    /// The file or directory does not exist.
    public var isNotFound: Bool { errno == ENOENT }

    public var description: String {
        let reason = String(cString: strerror(errno))
        if let path { return "\(operation) \(path): \(reason) (errno \(errno))" }
        return "\(operation): \(reason) (errno \(errno))"
    }
}

/// Runs a system call that returns -1 and sets errno on failure, retrying on EINTR. The one place
/// that knows about EINTR.
@inline(__always)
func retryingOnInterrupt<T: FixedWidthInteger>(
    _ operation: String, path: String? = nil, _ call: () -> T
) throws(SystemError) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw SystemError(errno: code, operation: operation, path: path)
    }
}
