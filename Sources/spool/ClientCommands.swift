import Foundation
import SpoolClient
import SpoolFormat

/// `spool topic …`, `spool produce`, `spool group …`: the client side of the command line, over
/// the Kafka protocol (so they work against Spool or a Kafka cluster).
enum ClientCommands {
    static let brokerHelp = "  --broker HOST:PORT     the broker to talk to, or a comma-separated list of a cluster's (default: 127.0.0.1:9092)"

    static let topicHelp = """
        usage: spool topic create NAME [--partitions N] [--config KEY=VALUE]... [--broker HOST:PORT]
               spool topic list [--broker HOST:PORT]
               spool topic describe NAME [--broker HOST:PORT]
               spool topic delete NAME [--broker HOST:PORT]

        Creates, lists, describes (partitions with their start and end offsets) and deletes topics.

        options:
          --partitions N         partitions of a new topic (default: 1)
          --config KEY=VALUE     a topic config (retention.ms, segment.bytes, max.message.bytes, …); repeatable
        \(brokerHelp)
        """

    static let produceHelp = """
        usage: spool produce TOPIC [--key KEY] [--key-separator SEP] [--header KEY=VALUE]... [--broker HOST:PORT]

        Sends one record per line of standard input (idempotent, acks=all) and prints how many were
        stored. A line is the bytes before each LF, sent as they are (a CR before the LF stays).
        Keys pick partitions with murmur2, as Kafka's Java client does.

        options:
          --key KEY              the key of every record
          --key-separator SEP    split each line at the first SEP into key and value (a line
                                 without SEP is sent without a key)
          --header KEY=VALUE     a header on every record; repeatable
        \(brokerHelp)
        """

    static let groupHelp = """
        usage: spool group list [--broker HOST:PORT]
               spool group describe GROUP [--broker HOST:PORT]

        Lists consumer groups, or shows one: its state and members, who owns which partition, the
        committed offset, the end offset and the lag of each partition, and the total lag. Against a
        cluster that does not serve DescribeGroups the offsets and lag are shown without members.

        options:
        \(brokerHelp)
        """

    /// Runs `body` with a client for --broker, mapping failures to a one-line message and exit 1.
    static func withClient(_ command: String, _ arguments: Arguments, _ body: (SpoolClient) async throws -> Void) async -> Int32 {
        do {
            let client = try SpoolClient(bootstrap: arguments.options["broker"] ?? "127.0.0.1:9092", clientId: "spool-cli")
            defer { client.close() }
            try await body(client)
            return ExitCode.success
        } catch let error as ClientError {
            if case .invalidArgument = error {
                printError("spool \(command): \(error)")
                return ExitCode.usage
            }
            printError("spool \(command): \(error)")
            return ExitCode.failure
        } catch {
            printError("spool \(command): \(error)")
            return ExitCode.failure
        }
    }

    /// The parsed arguments, or the exit code to stop with: 0 after printing the help, 64 after
    /// printing a usage error.
    static func parse(_ command: String, _ words: ArraySlice<String>, valued: Set<String>, help: String,
                      positional: Int) -> (arguments: Arguments?, exitCode: Int32) {
        do {
            let arguments = try Arguments(words, valued: valued.union(["broker"]))
            if arguments.wantsHelp {
                print(help)
                return (nil, ExitCode.success)
            }
            guard arguments.positional.count == positional else {
                throw Arguments.UsageError(description: positional == 0 ? "unexpected argument '\(arguments.positional[0])'"
                                                                        : "expected \(positional) argument\(positional == 1 ? "" : "s")")
            }
            return (arguments, ExitCode.success)
        } catch {
            printError("spool \(command): \(error)\n\n" + help)
            return (nil, ExitCode.usage)
        }
    }

    static func topic(_ words: ArraySlice<String>) async -> Int32 {
        let action = words.first ?? ""
        let rest = words.dropFirst()
        switch action {
        case "create":
            let parsed = parse("topic create", rest, valued: ["partitions", "config"], help: topicHelp, positional: 1)
            guard let arguments = parsed.arguments else { return parsed.exitCode }
            let partitions: Int
            let configs: [(String, String)]
            do {
                partitions = try arguments.integer("partitions", default: 1, range: 1...10_000)
                configs = try arguments.pairs("config")
            } catch {
                printError("spool topic create: \(error)\n\n" + topicHelp)
                return ExitCode.usage
            }
            return await withClient("topic create", arguments) { client in
                let created = try await client.createTopic(arguments.positional[0], partitions: Int32(partitions),
                                                           configs: Dictionary(configs, uniquingKeysWith: { _, last in last }))
                let note = Int(created) == partitions ? "" : " (the cluster's default: it does not serve CreateTopics, so the topic was auto-created)"
                print("created topic \(arguments.positional[0]) with \(created) partition\(created == 1 ? "" : "s")\(note)")
            }
        case "list":
            let parsed = parse("topic list", rest, valued: [], help: topicHelp, positional: 0)
            guard let arguments = parsed.arguments else { return parsed.exitCode }
            return await withClient("topic list", arguments) { client in
                for topic in try await client.listTopics() { print("\(topic.name)\t\(topic.partitions) partition\(topic.partitions == 1 ? "" : "s")") }
            }
        case "describe":
            let parsed = parse("topic describe", rest, valued: [], help: topicHelp, positional: 1)
            guard let arguments = parsed.arguments else { return parsed.exitCode }
            return await withClient("topic describe", arguments) { client in
                let info = try await client.describeTopic(arguments.positional[0])
                print("topic \(info.name): \(info.partitions.count) partition\(info.partitions.count == 1 ? "" : "s")")
                print("PARTITION\tLEADER\tSTART\tEND")
                for partition in info.partitions { print("\(partition.partition)\t\(partition.leader)\t\(partition.startOffset)\t\(partition.endOffset)") }
            }
        case "delete":
            let parsed = parse("topic delete", rest, valued: [], help: topicHelp, positional: 1)
            guard let arguments = parsed.arguments else { return parsed.exitCode }
            return await withClient("topic delete", arguments) { client in
                try await client.deleteTopic(arguments.positional[0])
                print("deleted topic \(arguments.positional[0])")
            }
        case "--help", "-h":
            print(topicHelp)
            return ExitCode.success
        default:
            printError("spool topic: unknown subcommand '\(action)' (expected create, list, describe or delete)\n\n" + topicHelp)
            return ExitCode.usage
        }
    }

    static func produce(_ words: ArraySlice<String>) async -> Int32 {
        let parsed = parse("produce", words, valued: ["key", "key-separator", "header"], help: produceHelp, positional: 1)
        guard let arguments = parsed.arguments else { return parsed.exitCode }
        let headers: [RecordHeader]
        do { headers = try arguments.pairs("header").map { RecordHeader($0.0, $0.1) } } catch {
            printError("spool produce: \(error)\n\n" + produceHelp)
            return ExitCode.usage
        }
        if arguments.options["key"] != nil && arguments.options["key-separator"] != nil {
            printError("spool produce: --key and --key-separator cannot be used together\n\n" + produceHelp)
            return ExitCode.usage
        }
        // An empty separator is found nowhere, so every record went keyless without a word.
        if arguments.options["key-separator"] == "" {
            printError("spool produce: --key-separator must not be empty\n\n" + produceHelp)
            return ExitCode.usage
        }
        let topic = arguments.positional[0]
        return await withClient("produce", arguments) { client in
            let producer = Producer(client: client)
            try await producer.prepare(topic: topic)
            // Records are handed to the producer in input order (so records of a key keep it),
            // at most 10,000 unacknowledged at a time.
            let (acknowledgements, acknowledge) = AsyncStream.makeStream(of: Result<RecordMetadata, ClientError>.self)
            var acknowledged = acknowledgements.makeAsyncIterator()
            var sent = 0
            var inFlight = 0
            var failure: ClientError?
            let separator = arguments.options["key-separator"].map { Array($0.utf8) }
            var lines = InputLines()
            while let line = try lines.next() {
                var key = arguments.options["key"].map { Array($0.utf8) }
                var value = line
                if let separator, let range = line.firstRange(of: separator) {
                    key = Array(line[..<range.lowerBound])
                    value = Array(line[range.upperBound...])
                }
                producer.send(topic: topic, key: key, value: value, headers: headers) { acknowledge.yield($0) }
                inFlight += 1
                sent += 1
                while inFlight >= 10_000, let result = await acknowledged.next() {
                    inFlight -= 1
                    if case let .failure(error) = result, failure == nil { failure = error }
                }
            }
            while inFlight > 0, let result = await acknowledged.next() {
                inFlight -= 1
                if case let .failure(error) = result, failure == nil { failure = error }
            }
            if let failure { throw failure }
            await producer.close()
            printError("spool produce: \(sent) record\(sent == 1 ? "" : "s") stored in \(topic)")
        }
    }

    static func group(_ words: ArraySlice<String>) async -> Int32 {
        let action = words.first ?? ""
        let rest = words.dropFirst()
        switch action {
        case "list":
            let parsed = parse("group list", rest, valued: [], help: groupHelp, positional: 0)
            guard let arguments = parsed.arguments else { return parsed.exitCode }
            return await withClient("group list", arguments) { client in
                for group in try await client.listGroups() { print(group.group) }
            }
        case "describe":
            let parsed = parse("group describe", rest, valued: [], help: groupHelp, positional: 1)
            guard let arguments = parsed.arguments else { return parsed.exitCode }
            return await withClient("group describe", arguments) { client in
                let info = try await client.describeGroup(arguments.positional[0])
                if info.membersKnown {
                    print("group \(info.group): \(info.state), \(info.members.count) member\(info.members.count == 1 ? "" : "s")")
                } else {
                    print("group \(info.group): state and members unavailable (the cluster does not serve DescribeGroups)")
                }
                for member in info.members {
                    print("  member \(member.memberId) (client \(member.clientId), \(member.host)): \(member.partitions.joined(separator: ", "))")
                }
                print("TOPIC\tPARTITION\tCOMMITTED\tEND\tLAG\tOWNER")
                for partition in info.partitions {
                    print("\(partition.topic)\t\(partition.partition)\t\(partition.committed.map(String.init) ?? "-")\t\(partition.endOffset)\t"
                          + "\(partition.lag.map(String.init) ?? "-")\t\(partition.owner ?? "-")")
                }
                print("total lag: \(info.totalLag)")
            }
        case "--help", "-h":
            print(groupHelp)
            return ExitCode.success
        default:
            printError("spool group: unknown subcommand '\(action)' (expected list or describe)\n\n" + groupHelp)
            return ExitCode.usage
        }
    }
}
