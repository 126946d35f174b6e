import Foundation
import SpoolJobs

/// `spool dlq list|redrive`: the dead letters of a job topic, over the Kafka protocol.
enum DeadLetterCommand {
    static let help = """
        usage: spool dlq list TOPIC [--all] [--broker HOST:PORT]
               spool dlq redrive TOPIC (--id ID)... [--broker HOST:PORT]
               spool dlq redrive TOPIC --all [--broker HOST:PORT]

        Lists the jobs that exhausted their attempts in TOPIC.dlq (TOPIC is the job topic; its .dlq
        name works too): id, key, attempts, error, origin partition@offset and when it failed.
        Redrive sends dead letters back to their topic with the attempt count reset, each once;
        a dead letter already sent back is listed only with --all.

        options:
          --id ID                a job id to send back; repeatable
          --all                  list: include dead letters already sent back; redrive: every one not sent back yet
        \(ClientCommands.brokerHelp)
        """

    static func run(_ words: ArraySlice<String>) async -> Int32 {
        let action = words.first ?? ""
        switch action {
        case "list", "redrive":
            break
        case "--help", "-h":
            print(help)
            return ExitCode.success
        default:
            printError("spool dlq: unknown subcommand '\(action)' (expected list or redrive)\n\n" + help)
            return ExitCode.usage
        }
        let arguments: Arguments
        do {
            arguments = try Arguments(words.dropFirst(), valued: ["broker", "id"], flags: ["all"])
            if arguments.wantsHelp {
                print(help)
                return ExitCode.success
            }
            guard arguments.positional.count == 1 else { throw Arguments.UsageError(description: "expected one TOPIC") }
            if action == "redrive" {
                let ids = arguments.repeated["id"] ?? []
                guard !ids.isEmpty != arguments.switches.contains("all") else {
                    throw Arguments.UsageError(description: "redrive needs --id ID (repeatable) or --all, not both")
                }
            } else if arguments.options["id"] != nil {
                throw Arguments.UsageError(description: "--id is for redrive")
            }
        } catch {
            printError("spool dlq: \(error)\n\n" + help)
            return ExitCode.usage
        }
        let topic = arguments.positional[0]
        do {
            let queue = try JobQueue.connect(to: arguments.options["broker"] ?? "127.0.0.1:9092")
            defer { Task { await queue.transport.close() } }
            if action == "list" {
                let letters = try await queue.deadLetters(of: topic).filter { arguments.switches.contains("all") || !$0.redriven }
                print(table(letters, showRedriven: arguments.switches.contains("all")))
                printError("spool dlq list: \(letters.count) dead letter\(letters.count == 1 ? "" : "s") in \(topic.hasSuffix(".dlq") ? topic : topic + ".dlq")")
            } else {
                let ids = arguments.repeated["id"].map(Set.init)
                let sent = try await queue.redrive(topic, ids: ids)
                for letter in sent { print("redrove \(letter.id) to \(letter.originTopic)") }
                let missing = (ids ?? []).subtracting(sent.map(\.id))
                if !missing.isEmpty {
                    printError("spool dlq redrive: no dead letter waiting with id \(missing.sorted().joined(separator: ", ")) (already sent back, or never dead-lettered)")
                    return ExitCode.failure
                }
                printError("spool dlq redrive: \(sent.count) job\(sent.count == 1 ? "" : "s") sent back")
            }
            return ExitCode.success
        } catch {
            printError("spool dlq \(action): \(error)")
            return ExitCode.failure
        }
    }

    /// Dead letters as aligned columns.
    static func table(_ letters: [DeadLetter], showRedriven: Bool) -> String {
        let formatter = ISO8601DateFormatter()
        var rows = [["ID", "KEY", "ATTEMPTS", "ORIGIN", "FAILED AT", "ERROR"] + (showRedriven ? ["REDRIVEN"] : [])]
        for letter in letters {
            let origin = "\(letter.originTopic)[\(letter.originPartition.map(String.init) ?? "?")]@\(letter.originOffset.map(String.init) ?? "?")"
            rows.append([letter.id, letter.key ?? "-", String(letter.attempts), origin, letter.failedAt.map { formatter.string(from: $0) } ?? "-",
                         String(letter.error.prefix(60))] + (showRedriven ? [letter.redriven ? "yes" : "no"] : []))
        }
        return columns(rows)
    }
}

/// Rows as left-aligned columns two spaces apart.
func columns(_ rows: [[String]]) -> String {
    let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
        zip(row, widths).enumerated().map { index, cell in
            index == row.count - 1 ? cell.0 : cell.0.padding(toLength: cell.1, withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
