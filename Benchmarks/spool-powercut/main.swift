import Foundation
import SpoolSimulation

// spool-powercut: the power-cut simulation's long run (docs/reliability.md, "Power cuts").
// Runs seeds one after another, each with a number of cuts, until --cuts cuts are done; prints
// the failures and the summary line, and exits 1 on any violation (64 on a usage error).
// With --jobs it runs the job runtime's scenario (JobPowerCutScenario) instead of the broker's.

let usage = """
    usage: spool-powercut [--jobs] [--cuts N] [--seed S] [--cuts-per-seed N]

      --jobs             run workers, retries and dead letters (SpoolJobs) through the cuts
                         instead of the broker workload
      --cuts N           power cuts in all (default 1000)
      --seed S           the first seed (default: from the time); seeds S, S+1, ... follow
      --cuts-per-seed N  cuts in one seed's run, one broker history (default 20)
    """

func value(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name) else { return nil }
    return arguments.indices.contains(index + 1) ? arguments[index + 1] : ""
}

var arguments = Array(CommandLine.arguments.dropFirst())
let jobs = arguments.contains("--jobs")
arguments.removeAll { $0 == "--jobs" }
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
let known: Set<String> = ["--cuts", "--seed", "--cuts-per-seed"]
for (index, argument) in arguments.enumerated() where index % 2 == 0 && !known.contains(argument) {
    FileHandle.standardError.write(Data("spool-powercut: unknown argument '\(argument)'\n\(usage)\n".utf8))
    exit(64)
}
guard let cuts = Int(value("--cuts", in: arguments) ?? "1000"), cuts > 0,
      let perSeed = Int(value("--cuts-per-seed", in: arguments) ?? "20"), perSeed > 0,
      let firstSeed = UInt64(value("--seed", in: arguments) ?? String(UInt64(Date().timeIntervalSince1970))) else {
    FileHandle.standardError.write(Data("spool-powercut: --cuts, --cuts-per-seed and --seed take whole numbers\n\(usage)\n".utf8))
    exit(64)
}

/// What both scenarios' outcomes give the loop.
protocol Outcome {
    var cuts: Int { get }
    var violations: Int { get }
    var summary: String { get }
    var failures: [String] { get }
    mutating func add(_ other: Self)
}

extension PowerCutOutcome: Outcome {}
extension JobPowerCutOutcome: Outcome {}

/// Runs seeds from `firstSeed` until `cuts` cuts are done, prints the failures and the summary,
/// and returns whether the run was clean.
func runSeeds<O: Outcome>(_ empty: O, _ scenario: (UInt64, Int) async -> O) async -> Bool {
    let started = Date()
    var total = empty
    var seed = firstSeed
    while total.cuts < cuts {
        let outcome = await scenario(seed, min(perSeed, cuts - total.cuts))
        if outcome.violations > 0 {
            print("seed \(seed): \(outcome.summary)")
            for failure in outcome.failures { print("  \(failure)") }
        }
        total.add(outcome)
        if outcome.cuts == 0 { break }
        seed += 1
    }
    print("seeds \(firstSeed)...\(seed) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    print(total.summary)
    return total.violations == 0 && total.cuts >= cuts
}

let clean = if jobs {
    await runSeeds(JobPowerCutOutcome(seed: firstSeed)) { await JobPowerCutScenario(seed: $0, cuts: $1).run() }
} else {
    await runSeeds(PowerCutOutcome(seed: firstSeed)) { await PowerCutScenario(seed: $0, cuts: $1).run() }
}
exit(clean ? 0 : 1)
