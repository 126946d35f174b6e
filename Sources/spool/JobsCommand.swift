import Foundation
import SpoolJobs

/// `spool jobs cancel|pause|resume|list`: a job topic's control topic and its jobs' states, over
/// the Kafka protocol.
enum JobsCommand {
    static let help = """
        usage: spool jobs cancel TOPIC ID [--broker HOST:PORT]
               spool jobs pause TOPIC --group G [--broker HOST:PORT]
               spool jobs resume TOPIC --group G [--broker HOST:PORT]
               spool jobs list TOPIC --state STATE [--group G] [--json] [--broker HOST:PORT]

        cancel   the job with id ID (queued, scheduled or retrying) never starts; a run under way
                 is cancelled. Recorded in TOPIC.control, so it survives restarts.
        pause    no worker of group G starts a job of TOPIC (within a second) until resume;
                 running jobs finish and workers stay in the group. Durable.
        resume   lets group G's workers start jobs again.
        list     the jobs in STATE: queued (needs --group), scheduled, retrying (--group adds
                 jobs retried in place), running (as workers last reported it; --group keeps
                 to its workers), dead (--group adds jobs the group dead-lettered whose dead
                 letter is gone), cancelled. Scheduled and cancelled jobs are the topic's:
                 those take no --group.

        options:
          --group G              the worker group
          --state STATE          queued | scheduled | running | retrying | dead | cancelled
          --json                 list: one JSON array of jobs instead of a table
        \(ClientCommands.brokerHelp)
        """

    static func run(_ words: ArraySlice<String>) async -> Int32 {
        let action = words.first ?? ""
        switch action {
        case "cancel", "pause", "resume", "list":
            break
        case "--help", "-h":
            print(help)
            return ExitCode.success
        default:
            printError("spool jobs: unknown subcommand '\(action)' (expected cancel, pause, resume or list)\n\n" + help)
            return ExitCode.usage
        }
        let arguments: Arguments
        let state: JobState?
        do {
            arguments = try Arguments(words.dropFirst(), valued: ["broker", "group", "state"], flags: ["json"])
            if arguments.wantsHelp {
                print(help)
                return ExitCode.success
            }
            state = try check(action, arguments)
        } catch {
            printError("spool jobs \(action): \(error)\n\n" + help)
            return ExitCode.usage
        }
        let topic = arguments.positional[0]
        let group = arguments.options["group"]
        do {
            let queue = try JobQueue.connect(to: arguments.options["broker"] ?? "127.0.0.1:9092")
            defer { Task { await queue.transport.close() } }
            switch action {
            case "cancel":
                let startedMs = Int64(Date().timeIntervalSince1970 * 1000)
                let cancellation = try await queue.cancel(id: arguments.positional[1], topic: topic)
                let when = ISO8601DateFormatter().string(from: cancellation.cancelledAt)
                print(cancellation.cancelledAtMs < startedMs ? "\(cancellation.id) was cancelled already, at \(when)" : "cancelled \(cancellation.id) in \(topic)")
            case "pause":
                try await queue.pause(topic: topic, group: group ?? "")
                print("paused \(topic) for group \(group ?? "")")
            case "resume":
                let wasPaused = try await queue.controlState(of: topic).pausedGroups[group ?? ""] != nil
                try await queue.resume(topic: topic, group: group ?? "")
                print(wasPaused ? "resumed \(topic) for group \(group ?? "")" : "\(topic) was not paused for group \(group ?? "")")
            default:
                let jobs = try await queue.jobs(in: topic, state: state ?? .queued, group: group)
                if arguments.switches.contains("json") {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    encoder.dateEncodingStrategy = .iso8601
                    print(String(decoding: try encoder.encode(jobs), as: UTF8.self))
                } else {
                    print(table(jobs, state: state ?? .queued))
                }
                printError("spool jobs list: \(jobs.count) \(state?.rawValue ?? "") job\(jobs.count == 1 ? "" : "s") in \(topic)")
            }
            return ExitCode.success
        } catch {
            printError("spool jobs \(action): \(error)")
            return ExitCode.failure
        }
    }

    /// Checks the words each subcommand takes; returns the state `list` asks for.
    private static func check(_ action: String, _ arguments: Arguments) throws -> JobState? {
        let wanted = action == "cancel" ? 2 : 1
        guard arguments.positional.count == wanted else {
            throw Arguments.UsageError(description: action == "cancel" ? "expected TOPIC and ID" : "expected one TOPIC")
        }
        if action == "pause" || action == "resume" {
            guard let group = arguments.options["group"], !group.isEmpty else { throw Arguments.UsageError(description: "\(action) needs --group G") }
        }
        if action != "list" {
            if arguments.options["state"] != nil { throw Arguments.UsageError(description: "--state is for list") }
            if arguments.switches.contains("json") { throw Arguments.UsageError(description: "--json is for list") }
            if action == "cancel", arguments.options["group"] != nil { throw Arguments.UsageError(description: "cancel takes no --group: a cancellation is for every group") }
            return nil
        }
        guard let name = arguments.options["state"] else { throw Arguments.UsageError(description: "list needs --state STATE") }
        guard let state = JobState(rawValue: name) else {
            throw Arguments.UsageError(description: "unknown state '\(name)' (expected \(JobState.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        // The listing's own rule (the console's API uses it too): the error is a usage error here.
        _ = try state.listingGroup(arguments.options["group"])
        return state
    }

    /// Jobs as aligned columns: the ones that say something for `state`.
    static func table(_ jobs: [JobStatus], state: JobState) -> String {
        let formatter = ISO8601DateFormatter()
        let header: [String] = switch state {
        case .cancelled: ["ID", "KEY", "PLACE", "CANCELLED AT"]
        case .dead: ["ID", "KEY", "ATTEMPTS", "PLACE", "LAST ERROR"]
        default: ["ID", "KEY", "ATTEMPTS", "PLACE", "NEXT RUN", "LAST ERROR"]
        }
        var rows = [header]
        for job in jobs {
            let place = job.partition.map { partition in "\(job.topic)[\(partition)]" + (job.offset.map { "@\($0)" } ?? "") } ?? "held"
            let error = String((job.lastError ?? "-").prefix(60))
            let row: [String] = switch state {
            case .cancelled: [job.id, job.key ?? "-", place, job.cancelledAt.map { formatter.string(from: $0) } ?? "-"]
            case .dead: [job.id, job.key ?? "-", String(job.attempts), place, error]
            default: [job.id, job.key ?? "-", String(job.attempts), place, job.nextRunAt.map { formatter.string(from: $0) } ?? "-", error]
            }
            rows.append(row)
        }
        return columns(rows)
    }
}
