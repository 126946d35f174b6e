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
            DispatchQueue(label: "spool.test.command").async { continuation.resume(with: Result { try Self.runBlocking(arguments) }) }
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
        let first = try await run(["demo", "storage", "--data", data, "--records", "1500", "--batch-records", "100"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("new log at offset 0"))
        #expect(first.stdout.contains("appended 1500 records (offsets 0...1499) in 15 batches, fsync=always"))
        #expect(first.stdout.contains("read back and checked 1500 records"))
        let second = try await run(["demo", "storage", "--data", data, "--records", "10", "--fsync", "interval=5"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("clean shutdown; offsets [0, 1500)"))
        #expect(second.stdout.contains("offsets 1500...1509"))

        let dump = try await run(["log", "dump", data + "/demo-0", "--count", "2"])
        #expect(dump.status == 0)
        #expect(dump.stdout.contains("offset 0...99 size"))
        #expect(dump.stdout.contains("offset 100...199 size"))
        #expect(!dump.stdout.contains("offset 200"))
    }

    /// `log dump` recovers the log it opens and closes it (cutting its active segment to its
    /// end): it must neither make a log where there was none nor write under a running broker.
    @Test func logDumpRefusesWhatIsNotAPartitionAndADirectoryABrokerHolds() async throws {
        let data = NSTemporaryDirectory() + "spool-cli-dump-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let missing = try await run(["log", "dump", data + "/nope-0"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no such directory"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data + "/nope-0"), "the dump made a log where there was none")

        let demo = try await run(["demo", "storage", "--data", data, "--records", "300", "--batch-records", "100"])
        #expect(demo.status == 0, "\(demo.stderr)")
        try FileManager.default.createDirectory(atPath: data + "/empty-0", withIntermediateDirectories: true)
        let empty = try await run(["log", "dump", data + "/empty-0"])
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("not a partition directory"), "\(empty.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/empty-0").isEmpty)

        // A broker holds the data directory's lock (flock on <data>/.lock) while it runs.
        let lock = open(data + "/.lock", O_RDWR | O_CREAT, 0o644)
        #expect(lock >= 0)
        #expect(flock(lock, LOCK_EX | LOCK_NB) == 0)
        let segments = { try FileManager.default.contentsOfDirectory(atPath: data + "/demo-0").sorted().map { name in
            (name, (try FileManager.default.attributesOfItem(atPath: data + "/demo-0/" + name)[.size] as? Int) ?? -1)
        } }
        let before = try segments()
        let held = try await run(["log", "dump", data + "/demo-0"])
        #expect(held.status == 1)
        #expect(held.stderr.contains("in use by another Spool process"), "\(held.stderr)")
        #expect(try segments().elementsEqual(before, by: ==), "the refused dump changed the partition's files")
        close(lock)
        let free = try await run(["log", "dump", data + "/demo-0", "--count", "1"])
        #expect(free.status == 0, "\(free.stderr)")
        #expect(free.stdout.contains("offset 0...99 size"))
    }

    @Test func usageErrorsExitWith64AndSayWhatIsWrong() async throws {
        let cases: [([String], String)] = [
            ([], "usage: spool"),
            (["launch"], "unknown command 'launch'"),
            (["demo", "storage", "--records", "many"], "--records must be a whole number"),
            (["demo", "storage", "--fsync", "sometimes"], "fsync policy must be"),
            (["demo", "--bogus"], "unknown option --bogus"),
            (["demo", "--users", "5"], "--users must be a whole number from 20"),
            (["demo", "--data", "x", "--broker", "y:1"], "cannot be used together"),
            (["demo", "storage", "--records"], "--records needs a value"),
            (["dlq"], "unknown subcommand ''"),
            (["dlq", "list"], "expected one TOPIC"),
            (["dlq", "redrive", "emails"], "needs one of --id ID (repeatable), --key KEY or --all"),
            (["dlq", "redrive", "emails", "--id", "a", "--all"], "needs one of --id ID (repeatable), --key KEY or --all"),
            (["dlq", "redrive", "emails", "--key", "a", "--all"], "needs one of --id ID (repeatable), --key KEY or --all"),
            (["dlq", "redrive", "emails", "--all", "--group", "g"], "--group is for redrive --key"),
            (["dlq", "list", "emails", "--id", "a"], "--id is for redrive"),
            (["dlq", "list", "emails", "--key", "a"], "--key is for redrive"),
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
        for arguments in [["--help"], ["demo", "--help"], ["demo", "storage", "--help"], ["dlq", "--help"], ["log", "dump", "--help"]] {
            let outcome = try await run(arguments)
            #expect(outcome.status == 0)
            #expect(outcome.stdout.contains("usage: spool"))
        }
    }

    @Test func runtimeErrorsExitWith1AndOneLine() async throws {
        let outcome = try await run(["demo", "storage", "--data", "/proc/spool-cannot-write-here"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.hasPrefix("spool demo storage: "))
        #expect(outcome.stderr.split(separator: "\n").count == 1)
        let unreachable = try await run(["dlq", "list", "emails", "--broker", "127.0.0.1:1"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.hasPrefix("spool dlq list: "))
    }

    @Test func signupDemoSettlesEveryJobAndShowsTheDeadLetterCancellationLimitAndSchedule() async throws {
        let data = NSTemporaryDirectory() + "spool-cli-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let outcome = try await run(["demo", "--data", data, "--users", "40"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("stored once"))
        #expect(outcome.stdout.contains("provider unavailable on attempt 1 of 5"))
        #expect(outcome.stdout.contains("photo corrupt.heic of user-13: attempt 3 of 3 failed"))
        #expect(outcome.stdout.contains("per user, kept"))
        #expect(outcome.stdout.contains("emails sent: 39 for 40 users (user-7's was cancelled"))
        #expect(outcome.stdout.contains("user-7 closed the account at once: its welcome email is cancelled"))
        #expect(outcome.stdout.contains("each user's third ping waited at least"))
        #expect(outcome.stdout.contains("schedule signup-digest (* * * * *)"))
        #expect(outcome.stdout.contains("user-13  3         demo-photos["))
    }
}
