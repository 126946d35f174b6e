// spool-bench: Spool's benchmarks. Release builds only: `swift run -c release spool-bench …`.
import Foundation

let usage = """
    usage: spool-bench <benchmark> [options]

    benchmarks:
      log      append and read one partition log under each fsync policy, beside raw disk and memcpy
      broker   in-process produce through the broker with 1, 4 and 16 producers, beside raw SpoolLog
      wire     produce (acks=all) and consume a backlog through spool serve over loopback

    Run spool-bench <benchmark> --help for its options.
    """

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(status)
}

var words = CommandLine.arguments.dropFirst()
switch words.popFirst() {
case "log":
    let options: LogBenchmark.Options
    do { options = try LogBenchmark.Options(words) } catch { fail("spool-bench log: \(error)\n\n" + LogBenchmark.help, status: 64) }
    if options.help {
        print(LogBenchmark.help)
        exit(0)
    }
    do { try await LogBenchmark(options: options).run() } catch { fail("spool-bench log: \(error)", status: 1) }
case "broker":
    let options: BrokerBenchmark.Options
    do { options = try BrokerBenchmark.Options(words) } catch { fail("spool-bench broker: \(error)\n\n" + BrokerBenchmark.help, status: 64) }
    if options.help {
        print(BrokerBenchmark.help)
        exit(0)
    }
    do { try await BrokerBenchmark(options: options).run() } catch { fail("spool-bench broker: \(error)", status: 1) }
case "wire":
    let options: WireBenchmark.Options
    do { options = try WireBenchmark.Options(words) } catch { fail("spool-bench wire: \(error)\n\n" + WireBenchmark.help, status: 64) }
    if options.help {
        print(WireBenchmark.help)
        exit(0)
    }
    do { try await WireBenchmark(options: options).run() } catch { fail("spool-bench wire: \(error)", status: 1) }
case "--help", "-h":
    print(usage)
case nil:
    fail(usage, status: 64)
case let other?:
    fail("spool-bench: unknown benchmark '\(other)'\n\n" + usage, status: 64)
}
