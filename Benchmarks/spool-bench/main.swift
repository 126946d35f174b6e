// spool-bench: Spool's benchmarks. Release builds only: `swift run -c release spool-bench …`.
//
// This file parses the first word and hands the rest to the benchmark it names. A usage error is
// one line on stderr and exit status 64 (EX_USAGE), as swift-argument-parser tools do; `--help`
// on the tool or on any benchmark prints its usage on stdout.
import Foundation

let usage = """
    usage: spool-bench <benchmark> [options]

    benchmarks:
      log      append and read one partition log under each fsync policy, beside raw disk and memory
      broker   in-process produce through the broker with 1, 4 and 16 producers, beside raw SpoolLog
      wire     produce (acks=all) and consume a backlog through spool serve over loopback
      jobs     jobs/s through workers with no-op handlers per ordering, beside a plain group consumer
      delay    lateness of records held with spool-deliver-at, beside produce-to-visible of plain ones
      codec    decoding a job's payload with JSONJobCoding, beside Foundation's JSONDecoder
      decompress  decompressing batches' records per codec, beside the codec's reference tool

    Run spool-bench <benchmark> --help for its options.
    """

/// Exit status for a bad command line (sysexits.h EX_USAGE).
let usageStatus: Int32 = 64

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(status)
}

/// Parses a benchmark's options; a usage error ends the process with one line and status 64.
func parse<Options>(_ name: String, _ words: ArraySlice<String>, _ parser: (ArraySlice<String>) throws -> Options) -> Options {
    do { return try parser(words) } catch {
        fail("spool-bench \(name): \(error) (see spool-bench \(name) --help)", status: usageStatus)
    }
}

var words = CommandLine.arguments.dropFirst()
switch words.popFirst() {
case "log":
    let options = parse("log", words, LogBenchmark.Options.init)
    if options.help {
        print(LogBenchmark.help)
        exit(0)
    }
    do { try await LogBenchmark(options: options).run() } catch { fail("spool-bench log: \(error)", status: 1) }
case "broker":
    let options = parse("broker", words, BrokerBenchmark.Options.init)
    if options.help {
        print(BrokerBenchmark.help)
        exit(0)
    }
    do { try await BrokerBenchmark(options: options).run() } catch { fail("spool-bench broker: \(error)", status: 1) }
case "wire":
    let options = parse("wire", words, WireBenchmark.Options.init)
    if options.help {
        print(WireBenchmark.help)
        exit(0)
    }
    do { try await WireBenchmark(options: options).run() } catch { fail("spool-bench wire: \(error)", status: 1) }
case "jobs":
    let options = parse("jobs", words, JobsBenchmark.Options.init)
    if options.help {
        print(JobsBenchmark.help)
        exit(0)
    }
    do { try await JobsBenchmark(options: options).run() } catch { fail("spool-bench jobs: \(error)", status: 1) }
case "delay":
    let options = parse("delay", words, DelayBenchmark.Options.init)
    if options.help {
        print(DelayBenchmark.help)
        exit(0)
    }
    do { try await DelayBenchmark(options: options).run() } catch { fail("spool-bench delay: \(error)", status: 1) }
case "codec":
    let options = parse("codec", words, CodecBenchmark.Options.init)
    if options.help {
        print(CodecBenchmark.help)
        exit(0)
    }
    do { try CodecBenchmark(options: options).run() } catch { fail("spool-bench codec: \(error)", status: 1) }
case "decompress":
    let options = parse("decompress", words, DecompressBenchmark.Options.init)
    if options.help {
        print(DecompressBenchmark.help)
        exit(0)
    }
    do { try DecompressBenchmark(options: options).run() } catch { fail("spool-bench decompress: \(error)", status: 1) }
case "--help", "-h", "help":
    print(usage)
case nil:
    fail("spool-bench: no benchmark named (see spool-bench --help)", status: usageStatus)
case let other?:
    fail("spool-bench: unknown benchmark '\(other)' (see spool-bench --help)", status: usageStatus)
}
