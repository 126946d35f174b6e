import Foundation
import SpoolSystem

/// `spool serve` in a process of its own, on a free loopback port, as users run it: the broker's
/// requests then run on that process's threads, not beside the clients' tasks in this one. The
/// `spool` binary is the one built beside `spool-bench`. `stop()` ends it (SIGTERM, then SIGKILL
/// after 10 s) and waits.
final class ServeProcess {
    let address: String
    private let process: Process

    init(directory: String, partitions: Int) throws {
        let spool = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("spool").path
        guard FileManager.default.isExecutableFile(atPath: spool) else {
            throw UsageError("--transport process needs the spool binary beside spool-bench (swift build -c release --product spool); not found at \(spool)")
        }
        let port = try Self.freePort()
        address = "127.0.0.1:\(port)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: spool)
        process.arguments = ["serve", "--data", directory, "--listen", address, "--http", "off", "--partitions", String(partitions)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let limit = Date().addingTimeInterval(30)
        while !Self.accepts(port) {
            guard process.isRunning else { throw UsageError("spool serve exited with status \(process.terminationStatus) before listening") }
            guard Date() < limit else {
                stop()
                throw UsageError("spool serve did not listen on \(address) within 30 s")
            }
            usleep(20_000)
        }
    }

    /// User and system CPU time of the server process so far (from /proc), 0 once it has gone.
    var cpuNanoseconds: UInt64 { Self.cpuNanoseconds(of: process.processIdentifier) }

    /// The same for the process `pid`: callable from any task, which the process object is not.
    static func cpuNanoseconds(of pid: Int32) -> UInt64 {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return 0 }
        let ticks = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
        return (user + system) * 1_000_000_000 / ticks
    }

    var pid: Int32 { process.processIdentifier }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let limit = Date().addingTimeInterval(10)
        while process.isRunning && Date() < limit { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A port the kernel hands out for 127.0.0.1, released for the server to take.
    private static func freePort() throws -> UInt16 {
        let network = LiveNetworkSystem()
        let listener = try network.listen(host: "127.0.0.1", port: 0, backlog: 1)
        defer { close(listener) }
        return try network.localPort(listener)
    }

    /// Whether the server takes connections yet (a connection made and closed at once).
    private static func accepts(_ port: UInt16) -> Bool { (try? WireClient(port: port)) != nil }
}
