import SpoolSystem

/// Figures measured in the same run as the log, so the log's are read against this machine (a
/// VM's disk and memory bandwidth drift too much for figures from another run to mean anything).
enum Baselines {
    /// Bytes per write and per fdatasync in the raw disk baseline, and per pass in the memory ones.
    static let chunkBytes = 1 << 20
    /// The memcpy baseline copies between two buffers of at most this size, reused until it has
    /// copied as many bytes as asked: large enough that neither fits in a cache.
    static let copyBufferBytesMax = 64 << 20

    /// Sequential pwrite of `bytes` in 1 MiB chunks, each followed by fdatasync, into a fresh file
    /// in `directory` whose blocks are allocated (untimed) beforehand, as the log allocates its
    /// segment ahead of the writer: the best a writer that makes every MiB durable can do on this
    /// disk. MB/s (MB = 2^20 bytes).
    static func rawFdatasync(directory: String, bytes: Int) throws -> Double {
        let fileSystem = LiveFileSystem()
        let path = directory + "/raw-fdatasync.dat"
        let fd = try fileSystem.open(path, [.readWrite, .create, .truncate], permissions: 0o644)
        defer {
            fileSystem.close(fd)
            try? fileSystem.remove(path)
        }
        try fileSystem.allocate(fd, offset: 0, length: bytes)
        let buffer = [UInt8](repeating: 0x5A, count: chunkBytes)
        let started = monotonicNanoseconds()
        var written = 0
        try buffer.withUnsafeBytes { chunk in
            while written < bytes {
                let count = min(chunk.count, bytes - written)
                try fileSystem.writeAll(fd, UnsafeRawBufferPointer(rebasing: chunk[0..<count]), at: written)
                try fileSystem.dataSync(fd)
                written += count
            }
        }
        return megabytesPerSecond(written, since: started)
    }

    /// `wordSum` over an in-memory buffer of `bytes`, 1 MiB at a time: the log read's work per
    /// byte without the log. Best of `passes`, MB/s.
    static func memorySum(bytes: Int, passes: Int) -> Double {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        defer { buffer.deallocate() }
        // Writing the buffer first faults its pages in, so the passes measure reads alone.
        buffer.initializeMemory(as: UInt8.self, repeating: 0xA5)
        var best = 0.0
        var sum: UInt64 = 0
        for _ in 0..<passes {
            let started = monotonicNanoseconds()
            var position = 0
            while position < bytes {
                let end = min(position + chunkBytes, bytes)
                sum = wordSum(UnsafeRawBufferPointer(rebasing: buffer[position..<end]), sum)
                position = end
            }
            best = max(best, megabytesPerSecond(bytes, since: started))
        }
        blackHole(sum)
        return best
    }

    /// memcpy of `bytes` in 1 MiB copies between two buffers of up to 64 MiB, reused. Each byte
    /// copied is read once and written once. Best of `passes`, MB/s of bytes copied.
    static func memcpy(bytes: Int, passes: Int) -> Double {
        let size = min(max(bytes, 1), copyBufferBytesMax)
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        let target = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer {
            source.deallocate()
            target.deallocate()
        }
        source.initializeMemory(as: UInt8.self, repeating: 0xA5)
        target.initializeMemory(as: UInt8.self, repeating: 0)
        var best = 0.0
        for _ in 0..<passes {
            let started = monotonicNanoseconds()
            var copied = 0
            while copied < bytes {
                let position = copied % size
                let count = min(chunkBytes, bytes - copied, size - position)
                UnsafeMutableRawBufferPointer(rebasing: target[position..<(position + count)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[position..<(position + count)]))
                copied += count
            }
            best = max(best, megabytesPerSecond(copied, since: started))
        }
        blackHole(target[size / 2])
        return best
    }
}

/// Adds up `bytes` as 64-bit words (the last few byte by byte), wrapping, onto `sum`.
///
/// It loads every byte, so a read loop that calls it really reads every page. The log read and
/// the in-memory baseline both call this one function (never inlined, so both run the same
/// machine code) and so do the same work per byte. Four sums let the loads overlap.
@inline(never)
func wordSum(_ bytes: UnsafeRawBufferPointer, _ sum: UInt64) -> UInt64 {
    guard let base = bytes.baseAddress else { return sum }
    let count = bytes.count
    var sums: (UInt64, UInt64, UInt64, UInt64) = (sum, 0, 0, 0)
    var position = 0
    while position + 32 <= count {
        sums.0 &+= base.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        sums.1 &+= base.loadUnaligned(fromByteOffset: position + 8, as: UInt64.self)
        sums.2 &+= base.loadUnaligned(fromByteOffset: position + 16, as: UInt64.self)
        sums.3 &+= base.loadUnaligned(fromByteOffset: position + 24, as: UInt64.self)
        position += 32
    }
    while position + 8 <= count {
        sums.0 &+= base.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
    }
    while position < count {
        sums.0 &+= UInt64(base.load(fromByteOffset: position, as: UInt8.self))
        position += 1
    }
    return sums.0 &+ sums.1 &+ sums.2 &+ sums.3
}

func seconds(since start: UInt64) -> Double { Double(monotonicNanoseconds() - start) / 1e9 }

/// Throughput in MB/s, MB being 2^20 bytes.
func megabytesPerSecond(_ bytes: Int, since start: UInt64) -> Double {
    Double(bytes) / 1_048_576 / seconds(since: start)
}

/// Keeps a value alive so the optimiser cannot drop the work that made it.
@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }
