import Foundation
import Testing

/// `spool schedule add|list|remove` through the real binary against a real `spool serve`.
@Suite(.serialized) struct ScheduleCommandTests {
    @Test(.timeLimit(.minutes(3)))
    func addListRemove() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await ServerProcess.start(data: data)
        defer { server.kill() }
        let broker = ["--broker", server.bootstrap]

        let added = try await CommandLineTests.spool(["schedule", "add", "nightly-report", "--cron", "30 2 * * *", "--topic", "reports",
                                                      "--payload", "{\"kind\":\"nightly\"}", "--time-zone", "Europe/Paris", "--key", "reports"] + broker)
        #expect(added.status == 0, "\(added.errors)")
        #expect(added.output.hasPrefix("stored schedule nightly-report: 30 2 * * * (Europe/Paris) enqueues to reports; next tick 20"))
        let second = try await CommandLineTests.spool(["schedule", "add", "sweep", "--cron", "*/5 * * * *", "--topic", "maintenance",
                                                       "--missed", "skip"] + broker)
        #expect(second.status == 0, "\(second.errors)")

        let listed = try await CommandLineTests.spool(["schedule", "list"] + broker)
        #expect(listed.status == 0)
        let lines = listed.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("NAME") && lines[0].contains("NEXT TICK"))
        #expect(lines[1].hasPrefix("nightly-report") && lines[1].contains("Europe/Paris") && lines[1].contains("run-once")
                && lines[1].contains("{\"kind\":\"nightly\"}"))
        #expect(lines[2].hasPrefix("sweep") && lines[2].contains("*/5 * * * *") && lines[2].contains("skip") && lines[2].contains("{}"))
        #expect(listed.errors == "spool schedule list: 2 schedules\n")

        let removed = try await CommandLineTests.spool(["schedule", "remove", "sweep"] + broker)
        #expect(removed.status == 0)
        #expect(removed.output == "removed schedule sweep\n")
        let after = try await CommandLineTests.spool(["schedule", "list"] + broker)
        #expect(after.output.split(separator: "\n").count == 2 && !after.output.contains("sweep"))
        let again = try await CommandLineTests.spool(["schedule", "remove", "sweep"] + broker)
        #expect(again.status == 1)
        #expect(again.errors == "spool schedule remove: no schedule named 'sweep'\n")
    }

    @Test func badSchedulesAreUsageErrorsThatNameTheProblem() async throws {
        let cases: [([String], String)] = [
            (["schedule", "plan"], "unknown subcommand 'plan'"),
            (["schedule", "add", "x", "--topic", "t"], "add needs --cron EXPR"),
            (["schedule", "add", "x", "--cron", "* * * * *"], "add needs --topic TOPIC"),
            (["schedule", "add", "x", "--cron", "61 * * * *", "--topic", "t"], "cron minute field: '61' is out of range 0-59"),
            (["schedule", "add", "x", "--cron", "* * * * FUNDAY", "--topic", "t"], "cron day-of-week field: 'FUNDAY' is not a number or a name"),
            (["schedule", "add", "x", "--cron", "* * *", "--topic", "t"], "expected 5 fields"),
            (["schedule", "add", "x", "--cron", "* * * * *", "--topic", "t", "--time-zone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
            (["schedule", "add", "x", "--cron", "* * * * *", "--topic", "t", "--missed", "sometimes"], "--missed must be skip or run-once"),
            (["schedule", "add", "x", "--cron", "* * * * *", "--topic", "t", "--payload", "{not json"], "--payload must be JSON"),
            (["schedule", "add", "--cron", "* * * * *", "--topic", "t"], "expected one NAME"),
            (["schedule", "list", "extra"], "list takes no NAME"),
            (["schedule", "remove", "x", "--cron", "* * * * *"], "--cron is for add"),
        ]
        for (arguments, message) in cases {
            let outcome = try await CommandLineTests.spool(arguments + ["--broker", "127.0.0.1:1"])
            #expect(outcome.status == 64, "\(arguments)")
            #expect(outcome.errors.contains(message), "\(arguments): \(outcome.errors)")
        }
        let help = try await CommandLineTests.spool(["schedule", "--help"])
        #expect(help.status == 0 && help.output.contains("usage: spool schedule add NAME --cron EXPR"))
    }
}
