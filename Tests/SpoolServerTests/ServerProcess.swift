import Foundation
import Glibc
import Synchronization

/// A real `spool serve` on a free loopback port, stopped by its process id.
final class ServerProcess: @unchecked Sendable {
    // Safe to share: `process` is only started and signalled; `log` is guarded by a Mutex.
    let data: String
    let port: Int
    private let process: Process
    private let log: Collected

    static var spoolPath: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("spool").path
    }

    var bootstrap: String { "127.0.0.1:\(port)" }

    /// The metrics endpoint's port, from its log line.
    var metricsPort: Int? {
        guard let range = output.range(of: "console on http://127.0.0.1:") else { return nil }
        return Int(output[range.upperBound...].prefix { $0.isNumber })
    }

    /// Starts the server on `data` and waits (at most 30 s, without blocking a thread of the
    /// concurrency pool) for its "listening on" and "console on" lines.
    /// With `descriptorsMax`, the server runs under `ulimit -n` of that many open files.
    static func start(data: String, arguments: [String] = [], descriptorsMax: Int? = nil) async throws -> ServerProcess {
        let process = Process()
        let serve = ["serve", "--data", data, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"] + arguments
        if let descriptorsMax {
            // The shell sets the limit and execs spool in its place (same pid).
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(descriptorsMax) && exec \"$0\" \"$@\"", Self.spoolPath] + serve
        } else {
            process.executableURL = URL(fileURLWithPath: Self.spoolPath)
            process.arguments = serve
        }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let log = Collected()
        errors.fileHandleForReading.readabilityHandler = { handle in log.append(handle.availableData) }
        try process.run()
        var port: Int?
        // The console's line comes after the Kafka listener's: a loaded machine can print it
        // well after, so `metricsPort` read at once would find none.
        var consoleUp = false
        for _ in 0..<300 where port == nil || !consoleUp {
            try await Task.sleep(for: .milliseconds(100))
            let text = log.text
            if let range = text.range(of: "listening on 127.0.0.1:") {
                port = Int(text[range.upperBound...].prefix { $0.isNumber })
            }
            consoleUp = text.contains("console on http://")
            guard process.isRunning else { break }
        }
        guard let port else {
            process.terminate()
            throw ProcessFailure("spool serve did not start: \(log.text)")
        }
        return ServerProcess(data: data, port: port, process: process, log: log)
    }

    private init(data: String, port: Int, process: Process, log: Collected) {
        self.data = data
        self.port = port
        self.process = process
        self.log = log
    }

    var output: String { log.text }
    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// SIGTERM (a clean stop) or SIGKILL (a crash), then waits (at most 30 s) for the exit.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) async -> Int32 {
        if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
        for _ in 0..<600 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? -1 : process.terminationStatus
    }

    /// Sends SIGKILL without waiting (for `defer`, after a failed expectation).
    func kill() { if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) } }

    /// Kills the server and waits until it is gone (its data directory's lock with it).
    func killAndWait() {
        kill()
        process.waitUntilExit()
    }

    deinit { if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) } }
}

/// Bytes a child process wrote, gathered from a pipe's handler thread.
final class Collected: Sendable {
    private let bytes = Mutex([UInt8]())
    func append(_ data: Data) { bytes.withLock { $0 += data } }
    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
}

struct ProcessFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command with a time limit, waiting without blocking a thread of the concurrency pool;
/// returns its exit status, standard output and standard error.
func run(_ executable: String, _ arguments: [String], input: String? = nil, timeout: TimeInterval = 180) async throws -> (status: Int32, output: String, errors: String) {
    try await run(executable, arguments, inputBytes: input.map { Data($0.utf8) }, timeout: timeout)
}

/// The same with standard input of any bytes, not only UTF-8 text.
func run(_ executable: String, _ arguments: [String], inputBytes: Data?, timeout: TimeInterval = 180) async throws -> (status: Int32, output: String, errors: String) {
    try await runProcess(executable, arguments, input: inputBytes, timeout: timeout) { try await Task.sleep(for: .milliseconds($0)) }
}

/// The same, blocking: only for the quick probes the test traits make before any test runs
/// (`which python3`, `import confluent_kafka`).
func runBlocking(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

private func runProcess(_ executable: String, _ arguments: [String], input: Data?, timeout: TimeInterval,
                        pause: (Int) async throws -> Void) async throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    let stdin = Pipe()
    process.standardInput = stdin
    let out = Collected(), err = Collected()
    output.fileHandleForReading.readabilityHandler = { handle in out.append(handle.availableData) }
    errors.fileHandleForReading.readabilityHandler = { handle in err.append(handle.availableData) }
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { try await pause(50) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try await pause(50) }
        throw ProcessFailure("\(executable) \(arguments.joined(separator: " ")) timed out after \(Int(timeout)) s")
    }
    try await pause(100)
    output.fileHandleForReading.readabilityHandler = nil
    errors.fileHandleForReading.readabilityHandler = nil
    out.append(output.fileHandleForReading.readDataToEndOfFile())
    err.append(errors.fileHandleForReading.readDataToEndOfFile())
    return (process.terminationStatus, out.text, err.text)
}

/// The JSON object on the last line of a client script's output.
func lastJSON(_ result: (status: Int32, output: String, errors: String)) throws -> [String: Any] {
    guard let line = result.output.split(separator: "\n").last,
          let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        throw ProcessFailure("exit \(result.status), no JSON result line; output: \(result.output.suffix(1000)) errors: \(result.errors.suffix(2000))")
    }
    return object
}

/// Where the real clients are; a test that needs a missing one is skipped locally and fails in CI
/// (where .ci/run installs them).
enum Clients {
    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let kcat: String? = ["/usr/bin/kcat", "/usr/local/bin/kcat"].first { FileManager.default.isExecutableFile(atPath: $0) }
    /// The python3 on PATH (where pip installed the clients), else the system's.
    static let python: String? = (try? runBlocking("/usr/bin/env", ["which", "python3"]).output.trimmingCharacters(in: .whitespacesAndNewlines))
        .flatMap { $0.isEmpty ? nil : $0 } ?? ["/usr/local/bin/python3", "/usr/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func hasModule(_ module: String) -> Bool {
        guard let python else { return false }
        return (try? runBlocking(python, ["-c", "import \(module)"]).status) == 0
    }

    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Compatibility").path

    static func temporaryDirectory(_ name: String = #function) -> String {
        NSTemporaryDirectory() + "spool-compat-\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
    }
}

/// Runs blocking work (a socket read, a process wait) on a dispatch thread, so it does not hold
/// one of the few threads the concurrency pool has while other tests need them.
func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue(label: "spool.test.blocking").async { continuation.resume(returning: body()) }
    }
}
