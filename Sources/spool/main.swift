// spool: the Spool command line.
import Glibc

/// Exit codes, as sysexits(3) and swift-argument-parser use them.
enum ExitCode {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 64
}

func printError(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

let usage = """
    usage: spool <command> [options]

    commands:
      serve       serve a data directory to Kafka clients (see spool serve --help)
      topic       create, list, describe and delete topics
      produce     send standard input, a record per line, to a topic
      consume     print the records of a topic, alone or as a member of a group
      group       list consumer groups, or show one with its lag
      bench       produce, consume or end-to-end load against a broker
      jobs        cancel a job, pause or resume a job topic for a group, list jobs by state
      dlq         list the dead letters of a job topic, or send them back
      schedule    add, list and remove the cron schedules workers fire
      demo        the signup story: jobs, workers, retries, dead letters (spool demo storage: the log alone)
      log dump    print the segments and batches of a partition directory

    Run spool <command> --help for a command's options.
    """

let words = CommandLine.arguments.dropFirst()
let status: Int32
switch words.first {
case "serve":
    status = ServeCommand.run(words.dropFirst())
case "topic":
    status = await ClientCommands.topic(words.dropFirst())
case "produce":
    status = await ClientCommands.produce(words.dropFirst())
case "consume":
    status = await ConsumeCommand.run(words.dropFirst())
case "group":
    status = await ClientCommands.group(words.dropFirst())
case "bench":
    status = await BenchCommand.run(words.dropFirst())
case "demo":
    status = await SignupDemo.run(words.dropFirst())
case "dlq":
    status = await DeadLetterCommand.run(words.dropFirst())
case "schedule":
    status = await ScheduleCommand.run(words.dropFirst())
case "jobs":
    status = await JobsCommand.run(words.dropFirst())
case "log":
    if words.dropFirst().first == "dump" {
        status = LogDumpCommand.run(words.dropFirst(2))
    } else {
        printError("spool log: unknown subcommand '\(words.dropFirst().first ?? "")' (expected: dump)\n\n" + usage)
        status = ExitCode.usage
    }
case "--help", "-h", "help":
    print(usage)
    status = ExitCode.success
case nil:
    printError(usage)
    status = ExitCode.usage
case let command?:
    printError("spool: unknown command '\(command)'\n\n" + usage)
    status = ExitCode.usage
}
exit(status)
