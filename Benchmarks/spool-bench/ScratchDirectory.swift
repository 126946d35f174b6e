import Dispatch
import Foundation
import Glibc
import SpoolSystem

/// A fresh directory for one benchmark run (`<parent>/spool-bench-log-XXXXXX`, made by mkdtemp so
/// no earlier run's files can be in it), removed with everything in it by `remove()`, or on
/// SIGINT/SIGTERM before the process exits. The parent is created if missing and, when this run
/// created it, removed again if it is left empty.
final class ScratchDirectory {
    let path: String
    /// Whether `path` lies on a memory file system (tmpfs, ramfs), where fdatasync costs nothing
    /// and the disk figures would be meaningless.
    let isInMemory: Bool
    private let createdParent: String?
    private var signalSources: [any DispatchSourceSignal] = []

    init(parent: String, prefix: String) throws {
        let fileSystem = LiveFileSystem()
        let parentExisted = fileSystem.exists(parent)
        try fileSystem.makeDirectories(parent)
        var template = Array((parent + "/" + prefix + "-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw SystemError(errno: errno, operation: "mkdtemp", path: parent)
        }
        path = String(cString: made)
        createdParent = parentExisted ? nil : parent
        isInMemory = Self.isMemoryFileSystem(path)
        installSignalCleanup()
    }

    /// Removes the directory and its contents (and the parent, if this run made it and it is now
    /// empty). Safe to call more than once.
    func remove() {
        for source in signalSources { source.cancel() }
        signalSources = []
        Self.remove(path, parent: createdParent)
    }

    private static func remove(_ path: String, parent: String?) {
        try? FileManager.default.removeItem(atPath: path)
        // rmdir fails, as it should, when anything else is still in the parent.
        if let parent { _ = rmdir(parent) }
    }

    /// Ctrl-C during a multi-GiB run would otherwise leave the logs behind.
    private func installSignalCleanup() {
        let path = path
        let parent = createdParent
        for number in [SIGINT, SIGTERM] {
            // The default action would kill the process before the source's handler could run.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                Self.remove(path, parent: parent)
                FileHandle.standardError.write(Data("spool-bench: interrupted; removed \(path)\n".utf8))
                exit(128 + number)
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Looks the path's mount up in /proc/self/mounts (Glibc's Swift module has no statfs).
    private static func isMemoryFileSystem(_ path: String) -> Bool {
        guard let resolved = realpath(path, nil) else { return false }
        let absolute = String(cString: resolved)
        free(resolved)
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return false }
        // The mount that holds the path is the one with the longest mount point above it.
        var best: (point: String, type: String)?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let point = fields[1].replacingOccurrences(of: "\\040", with: " ")
            let holds = point == "/" || absolute == point || absolute.hasPrefix(point + "/")
            if holds, point.count >= (best?.point.count ?? 0) { best = (point, String(fields[2])) }
        }
        return ["tmpfs", "ramfs"].contains(best?.type ?? "")
    }
}
