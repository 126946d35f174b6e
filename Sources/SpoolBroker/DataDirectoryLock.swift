import Glibc
import SpoolSystem
import Synchronization

/// Makes one broker the only user of a data directory: the file `<data>/.lock`, locked with flock
/// from `Broker.open` until `Broker.close`, with the holder's process id written in it for the
/// message a second opener gets. Two brokers on one directory would interleave appends to the same
/// segments and offsets log and corrupt them.
///
/// The lock belongs to the open file, so the kernel releases it when the holder exits, however it
/// exits: a crashed broker never leaves the directory locked. The file itself stays (removing it
/// would let a second opener lock a file that is no longer the directory's lock file).
public final class DataDirectoryLock: Sendable {
    static let fileName = ".lock"
    private let fileSystem: any FileSystem
    private let descriptor: Int32
    private let released = Atomic(false)

    private init(fileSystem: any FileSystem, descriptor: Int32) {
        self.fileSystem = fileSystem
        self.descriptor = descriptor
    }

    /// Takes the lock of `directory` without waiting; `.dataDirectoryInUse` when another broker (in
    /// this process or another) holds it.
    static func acquire(_ directory: String, fileSystem: any FileSystem) throws -> DataDirectoryLock {
        let path = directory + "/" + fileName
        let descriptor = try fileSystem.open(path, [.readWrite, .create], permissions: 0o644)
        do {
            guard try fileSystem.lock(descriptor, wait: false) else {
                throw BrokerError.dataDirectoryInUse(directory: directory, pid: holder(path, fileSystem: fileSystem))
            }
            // The pid is for the message only: no sync, and a reader that finds the file empty
            // (between the truncate and the write) names no pid.
            let pid = Array("\(getpid())\n".utf8)
            try fileSystem.truncate(descriptor, to: 0)
            try pid.withUnsafeBytes { try fileSystem.writeAll(descriptor, $0, at: 0) }
        } catch {
            fileSystem.close(descriptor)
            throw error
        }
        return DataDirectoryLock(fileSystem: fileSystem, descriptor: descriptor)
    }

    /// The pid the holder wrote, if it can be read.
    private static func holder(_ path: String, fileSystem: any FileSystem) -> Int32? {
        guard let bytes = try? fileSystem.readFile(path, limit: 64) else { return nil }
        return Int32(String(decoding: bytes.prefix { $0 != 10 }, as: UTF8.self))
    }

    /// Takes the lock of `directory` for a tool that must not run beside a broker on it (such as
    /// `spool log dump`, whose recovery writes); `BrokerError.dataDirectoryInUse` while one holds it.
    public static func acquire(_ directory: String) throws -> DataDirectoryLock {
        try acquire(directory, fileSystem: LiveFileSystem())
    }

    /// Releases the lock; later calls do nothing.
    public func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        fileSystem.unlock(descriptor)
        fileSystem.close(descriptor)
    }

    deinit { release() }
}
