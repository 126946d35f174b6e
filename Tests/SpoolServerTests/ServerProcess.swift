import Foundation
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

    /// Starts the server on `data` and waits (at most 30 s) for its "listening on" line.
    init(data: String, arguments: [String] = []) throws {
        self.data = data
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.spoolPath)
        process.arguments = ["serve", "--data", data, "--listen", "127.0.0.1:0"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let log = Collected()
        errors.fileHandleForReading.readabilityHandler = { handle in log.append(handle.availableData) }
        try process.run()
        self.process = process
        self.log = log
        var port: Int?
        for _ in 0..<300 where port == nil {
            Thread.sleep(forTimeInterval: 0.1)
            let text = log.text
            if let range = text.range(of: "listening on 127.0.0.1:") {
                port = Int(text[range.upperBound...].prefix { $0.isNumber })
            }
            guard process.isRunning else { break }
        }
        guard let port else {
            process.terminate()
            throw ProcessFailure("spool serve did not start: \(log.text)")
        }
        self.port = port
    }

    var output: String { log.text }
    var isRunning: Bool { process.isRunning }

    /// SIGTERM (a clean stop) or SIGKILL (a crash), then waits for the exit.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
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

/// Runs a command with a time limit; returns its exit status and standard output.
func run(_ executable: String, _ arguments: [String], input: String? = nil, timeout: TimeInterval = 180) throws -> (status: Int32, output: String, errors: String) {
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
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw ProcessFailure("\(executable) \(arguments.joined(separator: " ")) timed out after \(Int(timeout)) s")
    }
    Thread.sleep(forTimeInterval: 0.1)
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
    static let python: String? = (try? run("/usr/bin/env", ["which", "python3"]).output.trimmingCharacters(in: .whitespacesAndNewlines))
        .flatMap { $0.isEmpty ? nil : $0 } ?? ["/usr/local/bin/python3", "/usr/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func hasModule(_ module: String) -> Bool {
        guard let python else { return false }
        return (try? run(python, ["-c", "import \(module)"]).status) == 0
    }

    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Compatibility").path

    static func temporaryDirectory(_ name: String = #function) -> String {
        NSTemporaryDirectory() + "spool-compat-\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))"
    }
}
