import Foundation
import SpoolSystem

/// Figures measured in the same run as the log, so the log's are read against this machine.
enum Baselines {
    /// Sequential pwrite in 1 MiB chunks, each followed by fdatasync, into a preallocated file:
    /// the best a durable writer that flushes every MiB can do on this disk. MB/s.
    static func rawFdatasync(directory: String, bytes: Int) throws -> Double {
        let fileSystem = LiveFileSystem()
        let path = directory + "/raw-baseline.dat"
        let fd = try fileSystem.open(path, [.readWrite, .create, .truncate], permissions: 0o644)
        defer {
            fileSystem.close(fd)
            try? fileSystem.remove(path)
        }
        let chunk = 1 << 20
        try fileSystem.allocate(fd, offset: 0, length: bytes + chunk)
        let buffer = [UInt8](repeating: 0x5A, count: chunk)
        let started = monotonicNanoseconds()
        var written = 0
        try buffer.withUnsafeBytes { raw in
            while written < bytes {
                try fileSystem.writeAll(fd, raw, at: written)
                try fileSystem.dataSync(fd)
                written += chunk
            }
        }
        return Double(written) / 1_048_576 / seconds(since: started)
    }

    /// memcpy of `bytes` out of a buffer as large as the data, in 1 MiB copies into a small
    /// target: the access pattern of reading a log of that size out to a socket, minus the log. MB/s.
    static func memcpy(bytes: Int) -> Double {
        let chunk = 1 << 20
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
        let target = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 * chunk, alignment: 64)
        defer {
            source.deallocate()
            target.deallocate()
        }
        source.initializeMemory(as: UInt8.self, repeating: 0xA5)
        target.initializeMemory(as: UInt8.self, repeating: 0)
        var sum: UInt64 = 0
        let started = monotonicNanoseconds()
        var copied = 0
        while copied < bytes {
            let count = min(chunk, bytes - copied)
            UnsafeMutableRawBufferPointer(rebasing: target[0..<count])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[copied..<(copied + count)]))
            sum &+= UInt64(target[count / 2])
            copied += count
        }
        let elapsed = seconds(since: started)
        blackHole(sum)
        return Double(copied) / 1_048_576 / elapsed
    }
}

func seconds(since start: UInt64) -> Double { Double(monotonicNanoseconds() - start) / 1e9 }

/// Keeps a value alive so the optimiser cannot drop the work that made it.
@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }
