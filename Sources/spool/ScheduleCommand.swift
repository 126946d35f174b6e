import Foundation
import SpoolJobs

/// `spool schedule add|list|remove`: the cron schedules stored in `spool-schedules`, over the
/// Kafka protocol. Workers given `schedules:` fire the ones of their topic.
enum ScheduleCommand {
    static let help = """
        usage: spool schedule add NAME --cron EXPR --topic TOPIC [--payload JSON] [--key KEY]
                                  [--time-zone ZONE] [--type NAME] [--missed skip|run-once] [--broker HOST:PORT]
               spool schedule list [--broker HOST:PORT]
               spool schedule remove NAME [--broker HOST:PORT]

        Stores a cron schedule: at each tick, a worker of TOPIC that runs schedules enqueues the payload
        as a job with id NAME@TICK (the tick in UTC), once however many workers run. EXPR has five fields,
        minute hour day-of-month month day-of-week ("*/5 * * * *", "30 8 * * MON-FRI"). Adding a name
        that exists replaces it. A schedule a worker registers in its code comes back when that worker
        starts again: remove it from the code too.

        options:
          --cron EXPR            the cron expression (quote it)
          --topic TOPIC          the job topic
          --payload JSON         the job's value (default: {})
          --key KEY              the jobs' ordering key
          --time-zone ZONE       an IANA zone the times are in (default: UTC)
          --type NAME            the spool-job-type header (the worker's job type name)
          --missed POLICY        after downtime, skip missed ticks or run the latest once (default: run-once)
        \(ClientCommands.brokerHelp)
        """

    static func run(_ words: ArraySlice<String>) async -> Int32 {
        let action = words.first ?? ""
        switch action {
        case "add", "list", "remove":
            break
        case "--help", "-h":
            print(help)
            return ExitCode.success
        default:
            printError("spool schedule: unknown subcommand '\(action)' (expected add, list or remove)\n\n" + help)
            return ExitCode.usage
        }
        let arguments: Arguments
        var schedule: Schedule?
        do {
            arguments = try Arguments(words.dropFirst(), valued: ["broker", "cron", "topic", "payload", "key", "time-zone", "type", "missed"])
            if arguments.wantsHelp {
                print(help)
                return ExitCode.success
            }
            let expected = action == "list" ? 0 : 1
            guard arguments.positional.count == expected else { throw Arguments.UsageError(description: expected == 0 ? "list takes no NAME" : "expected one NAME") }
            let addOnly = ["cron", "topic", "payload", "key", "time-zone", "type", "missed"]
            if action == "add" {
                schedule = try parseAdd(arguments)
            } else if let given = addOnly.first(where: { arguments.options[$0] != nil }) {
                throw Arguments.UsageError(description: "--\(given) is for add")
            }
        } catch {
            printError("spool schedule: \(error)\n\n" + help)
            return ExitCode.usage
        }
        do {
            let queue = try JobQueue.connect(to: arguments.options["broker"] ?? "127.0.0.1:9092")
            defer { Task { await queue.transport.close() } }
            switch action {
            case "add":
                guard let schedule else { return ExitCode.usage }
                let stored = try await queue.addSchedule(schedule)
                let next = stored.cron.next(after: Date(), in: stored.timeZone).map { ISO8601DateFormatter().string(from: $0) } ?? "never"
                print("stored schedule \(stored.name): \(stored.cron) (\(stored.timeZone.identifier)) enqueues to \(stored.topic); next tick \(next)")
            case "list":
                let schedules = try await queue.schedules()
                print(table(schedules))
                printError("spool schedule list: \(schedules.count) schedule\(schedules.count == 1 ? "" : "s")")
            default:
                try await queue.removeSchedule(named: arguments.positional[0])
                print("removed schedule \(arguments.positional[0])")
            }
            return ExitCode.success
        } catch {
            printError("spool schedule \(action): \(error)")
            return ExitCode.failure
        }
    }

    /// The schedule `add` describes; a bad expression, zone or policy is a usage error.
    static func parseAdd(_ arguments: Arguments) throws -> Schedule {
        guard let cron = arguments.options["cron"] else { throw Arguments.UsageError(description: "add needs --cron EXPR") }
        guard let topic = arguments.options["topic"] else { throw Arguments.UsageError(description: "add needs --topic TOPIC") }
        let zoneName = arguments.options["time-zone"] ?? "UTC"
        guard let zone = TimeZone(identifier: zoneName) else { throw Arguments.UsageError(description: ScheduleError.unknownTimeZone(zoneName).description) }
        let missed: MissedTicks
        switch arguments.options["missed"] ?? "run-once" {
        case "skip": missed = .skip
        case "run-once": missed = .runOnce
        case let other: throw Arguments.UsageError(description: "--missed must be skip or run-once, not '\(other)'")
        }
        let payload = arguments.options["payload"] ?? "{}"
        guard (try? JSONSerialization.jsonObject(with: Data(payload.utf8), options: [.fragmentsAllowed])) != nil else {
            throw Arguments.UsageError(description: "--payload must be JSON (the job's value as the worker's coding reads it)")
        }
        do {
            return try Schedule(name: arguments.positional[0], cron: cron, timeZone: zone, missed: missed, topic: topic,
                                key: arguments.options["key"], typeName: arguments.options["type"], payload: Array(payload.utf8))
        } catch {
            throw Arguments.UsageError(description: String(describing: error))
        }
    }

    /// Schedules as aligned columns, with each one's next tick.
    static func table(_ schedules: [Schedule]) -> String {
        let formatter = ISO8601DateFormatter()
        let now = Date()
        var rows = [["NAME", "CRON", "TIME ZONE", "TOPIC", "KEY", "MISSED", "NEXT TICK", "PAYLOAD"]]
        for schedule in schedules {
            rows.append([schedule.name, schedule.cron.text, schedule.timeZone.identifier, schedule.topic, schedule.key ?? "-",
                         schedule.missed == .skip ? "skip" : "run-once",
                         schedule.cron.next(after: now, in: schedule.timeZone).map { formatter.string(from: $0) } ?? "never",
                         String(String(decoding: schedule.payload ?? [], as: UTF8.self).prefix(60))])
        }
        return columns(rows)
    }
}
