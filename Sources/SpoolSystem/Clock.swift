import Glibc

/// Wall-clock milliseconds since the Unix epoch.
public func currentTimeMs() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

/// Wall-clock nanoseconds since the Unix epoch.
public func currentTimeNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// Monotonic nanoseconds, for measuring durations.
public func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

extension FileSystem {
    /// Creates `path` and any missing parents (like `mkdir -p`), durably: the parent of each
    /// directory it creates is fsynced, so that a power cut cannot take the new name away (and
    /// with it whatever was made durable inside).
    public func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            let parent = prefix.isEmpty ? "/" : prefix
            prefix += "/" + component
            if exists(prefix) { continue }
            try makeDirectory(prefix)
            try syncDirectory(parent)
        }
    }
}
