import Foundation
import SpoolClient
import SpoolFormat

/// `spool consume`: records of a topic on standard output.
enum ConsumeCommand {
    static let help = """
        usage: spool consume TOPIC [--group GROUP] [--from-beginning] [--count N] [--format FORMAT] [--broker HOST:PORT]

        Prints the records of TOPIC, one per line by default, until --count records or Ctrl-C. With
        --group it consumes as a member of GROUP (sharing partitions with other members) and commits
        what it printed; without, it reads every partition.

        options:
          --group GROUP          consume as a member of GROUP, committing offsets
          --from-beginning       start at the beginning where nothing is committed (default: the end)
          --count N              exit after N records
          --format FORMAT        how to print a record: %k key, %s value, %t topic, %p partition,
                                 %o offset, %T timestamp, %h headers, \\n and \\t (default: %s\\n)
        \(ClientCommands.brokerHelp)
        """

    static func run(_ words: ArraySlice<String>) async -> Int32 {
        let arguments: Arguments
        let count: Int?
        do {
            arguments = try Arguments(words, valued: ["group", "count", "format", "broker"], flags: ["from-beginning"])
            if arguments.wantsHelp {
                print(help)
                return ExitCode.success
            }
            guard arguments.positional.count == 1 else { throw Arguments.UsageError(description: "expected one topic") }
            count = arguments.options["count"] == nil ? nil : try arguments.integer("count", default: 0, range: 1...Int.max)
        } catch {
            printError("spool consume: \(error)\n\n" + help)
            return ExitCode.usage
        }
        let format = unescape(arguments.options["format"] ?? "%s\\n")
        return await ClientCommands.withClient("consume", arguments) { client in
            var options = Consumer.Options()
            options.offsetReset = arguments.switches.contains("from-beginning") ? .earliest : .latest
            let consumer = try Consumer(client: client, group: arguments.options["group"], topics: [arguments.positional[0]], options: options)
            var printed = 0
            while count.map({ printed < $0 }) ?? true {
                let records = try await consumer.poll()
                for record in records {
                    FileHandle.standardOutput.write(Data(render(record, format).utf8))
                    consumer.markConsumed(record)
                    printed += 1
                    if let count, printed >= count { break }
                }
                if !records.isEmpty { try await consumer.commit() }
            }
            try await consumer.commit()
            await consumer.close()
        }
    }

    static func render(_ record: ConsumedRecord, _ format: String) -> String {
        var output = ""
        var characters = format.makeIterator()
        while let character = characters.next() {
            guard character == "%", let field = characters.next() else {
                output.append(character)
                continue
            }
            switch field {
            case "k": output += record.keyString ?? ""
            case "s": output += record.valueString ?? ""
            case "t": output += record.topic
            case "p": output += String(record.partition)
            case "o": output += String(record.offset)
            case "T": output += String(record.timestamp)
            case "h": output += record.headers.map { "\($0.key)=\(String(decoding: $0.value ?? [], as: UTF8.self))" }.joined(separator: ",")
            case "%": output += "%"
            default: output += "%" + String(field)
            }
        }
        return output
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\t", with: "\t")
    }
}
