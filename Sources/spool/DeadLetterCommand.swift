import Foundation
import SpoolJobs

/// `spool dlq list|redrive`: the dead letters of a job topic, over the Kafka protocol.
enum DeadLetterCommand {
    static let help = """
        usage: spool dlq list TOPIC [--all] [--broker HOST:PORT]
               spool dlq redrive TOPIC (--id ID)... [--broker HOST:PORT]
               spool dlq redrive TOPIC --key KEY [--group GROUP] [--broker HOST:PORT]
               spool dlq redrive TOPIC --all [--broker HOST:PORT]

        Lists the jobs that exhausted their attempts in TOPIC.dlq (TOPIC is the job topic; its .dlq
        name works too): id, key, attempts, error, origin partition@offset and when it failed, and
        for a key held by a worker's onDeadLetter: .holdKey, the hold each dead or parked job
        belongs to. Redrive sends dead letters back to their topic with the attempt count reset,
        each once; a dead letter already sent back is listed only with --all. A dead letter of a
        held key is not sent alone: its hold is redriven, and the group's worker replays the dead
        job and the jobs parked behind it in order, then releases the key.

        options:
          --id ID                a job id to send back (of a held key: its whole hold); repeatable
          --key KEY              redrive the holds on KEY (every group's, or --group's)
          --group GROUP          with --key: only this group's hold
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
            arguments = try Arguments(words.dropFirst(), valued: ["broker", "id", "key", "group"], flags: ["all"])
            if arguments.wantsHelp {
                print(help)
                return ExitCode.success
            }
            guard arguments.positional.count == 1 else { throw Arguments.UsageError(description: "expected one TOPIC") }
            if action == "redrive" {
                let ids = arguments.repeated["id"] ?? []
                let chosen = [!ids.isEmpty, arguments.switches.contains("all"), arguments.options["key"] != nil].filter { $0 }.count
                guard chosen == 1 else { throw Arguments.UsageError(description: "redrive needs one of --id ID (repeatable), --key KEY or --all") }
                if arguments.options["group"] != nil && arguments.options["key"] == nil {
                    throw Arguments.UsageError(description: "--group is for redrive --key")
                }
            } else if let option = ["id", "key", "group"].first(where: { arguments.options[$0] != nil }) {
                throw Arguments.UsageError(description: "--\(option) is for redrive")
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
                for hold in try await queue.keyHolds(of: topic) {
                    let parked = letters.filter { $0.hold == hold.id && $0.parkedBehind != nil && !$0.redriven }.count
                    printError("spool dlq list: key \(hold.key) is held for group \(hold.group) since \(hold.deadJobId) dead-lettered (hold \(hold.id), \(parked) parked)")
                }
            } else if let key = arguments.options["key"] {
                let letters = try await queue.redrive(topic, key: key, group: arguments.options["group"])
                guard !letters.isEmpty else {
                    printError("spool dlq redrive: key \(key) is not held\(arguments.options["group"].map { " for group \($0)" } ?? "")")
                    return ExitCode.failure
                }
                printSent(letters)
            } else {
                let ids = arguments.repeated["id"].map(Set.init)
                let sent = try await queue.redrive(topic, ids: ids)
                printSent(sent)
                let missing = (ids ?? []).subtracting(sent.map(\.id))
                if !missing.isEmpty {
                    printError("spool dlq redrive: no dead letter waiting with id \(missing.sorted().joined(separator: ", ")) (already sent back, or never dead-lettered)")
                    return ExitCode.failure
                }
            }
            return ExitCode.success
        } catch {
            printError("spool dlq \(action): \(error)")
            return ExitCode.failure
        }
    }

    /// What a redrive did: dead letters sent back, and holds whose jobs a worker replays in order.
    private static func printSent(_ letters: [DeadLetter]) {
        for letter in letters {
            if let hold = letter.hold {
                print("replaying \(letter.id) in order (hold \(hold)) in \(letter.originTopic)")
            } else {
                print("redrove \(letter.id) to \(letter.originTopic)")
            }
        }
        let replayed = letters.filter { $0.hold != nil }.count
        printError("spool dlq redrive: \(letters.count - replayed) job\(letters.count - replayed == 1 ? "" : "s") sent back"
                   + (replayed > 0 ? ", \(replayed) to be replayed in order by the held keys' workers" : ""))
    }

    /// Dead letters as aligned columns; a HOLD column (the hold, and "parked" for the jobs parked
    /// behind its dead job) when any letter belongs to a hold.
    static func table(_ letters: [DeadLetter], showRedriven: Bool) -> String {
        let formatter = ISO8601DateFormatter()
        let showHolds = letters.contains { $0.hold != nil }
        var header = ["ID", "KEY", "ATTEMPTS", "ORIGIN", "FAILED AT"]
        if showHolds { header.append("HOLD") }
        header.append("ERROR")
        if showRedriven { header.append("REDRIVEN") }
        var rows = [header]
        for letter in letters {
            let origin = "\(letter.originTopic)[\(letter.originPartition.map(String.init) ?? "?")]@\(letter.originOffset.map(String.init) ?? "?")"
            var row: [String] = [letter.id, letter.key ?? "-", String(letter.attempts), origin, letter.failedAt.map { formatter.string(from: $0) } ?? "-"]
            if showHolds { row.append(letter.hold.map { $0 + (letter.parkedBehind != nil ? " parked" : " dead") } ?? "-") }
            row.append(String(letter.error.prefix(60)))
            if showRedriven { row.append(letter.redriven ? "yes" : "no") }
            rows.append(row)
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
