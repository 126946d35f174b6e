import Foundation
import Testing

/// Runs the real `spool` binary and checks its output and exit codes.
@Suite struct SpoolCommandTests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var spoolPath: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("spool").path
    }

    /// Runs the binary on a dispatch thread, so waiting for it does not hold a thread of the
    /// concurrency pool that other tests need.
    func run(_ arguments: [String]) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try Self.runBlocking(arguments) }) }
        }
    }

    static func runBlocking(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: spoolPath)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func demoWritesAndReadsBackAndASecondRunSeesTheFirst() async throws {
        let data = NSTemporaryDirectory() + "spool-cli-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let first = try await run(["demo", "--data", data, "--records", "1500", "--batch-records", "100"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("new log at offset 0"))
        #expect(first.stdout.contains("appended 1500 records (offsets 0...1499) in 15 batches, fsync=always"))
        #expect(first.stdout.contains("read back and checked 1500 records"))
        let second = try await run(["demo", "--data", data, "--records", "10", "--fsync", "interval=5"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("clean shutdown; offsets [0, 1500)"))
        #expect(second.stdout.contains("offsets 1500...1509"))

        let dump = try await run(["log", "dump", data + "/demo-0", "--count", "2"])
        #expect(dump.status == 0)
        #expect(dump.stdout.contains("offset 0...99 size"))
        #expect(dump.stdout.contains("offset 100...199 size"))
        #expect(!dump.stdout.contains("offset 200"))
    }

    @Test func usageErrorsExitWith64AndSayWhatIsWrong() async throws {
        let cases: [([String], String)] = [
            ([], "usage: spool"),
            (["launch"], "unknown command 'launch'"),
            (["demo", "--records", "many"], "--records must be a whole number"),
            (["demo", "--fsync", "sometimes"], "fsync policy must be"),
            (["demo", "--bogus"], "unknown option --bogus"),
            (["demo", "--records"], "--records needs a value"),
            (["log", "dump"], "expected one partition directory"),
            (["log", "shred"], "unknown subcommand 'shred'"),
        ]
        for (arguments, message) in cases {
            let outcome = try await run(arguments)
            #expect(outcome.status == 64, "\(arguments)")
            #expect(outcome.stderr.contains(message), "\(arguments): \(outcome.stderr)")
            #expect(!outcome.stderr.contains("Fatal error"))
        }
    }

    @Test func helpPrintsUsageAndSucceeds() async throws {
        for arguments in [["--help"], ["demo", "--help"], ["log", "dump", "--help"]] {
            let outcome = try await run(arguments)
            #expect(outcome.status == 0)
            #expect(outcome.stdout.contains("usage: spool"))
        }
    }

    @Test func runtimeErrorsExitWith1AndOneLine() async throws {
        let outcome = try await run(["demo", "--data", "/proc/spool-cannot-write-here"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("spool demo: "))
        #expect(outcome.stderr.split(separator: "\n").count == 1)
    }
}
