import SpoolSimulation
import Testing

/// The job runtime (workers, retries in place, dead letters) through power cuts on the simulated
/// disk (the short run; `spool-powercut --jobs` is the long one).
@Suite struct JobPowerCutTests {
    /// Seeds of the short run; each is one history of `cutsPerSeed` cuts and restarts.
    static let seeds: [UInt64] = [1, 2, 3]
    static let cutsPerSeed = 5

    @Test(arguments: seeds)
    func acknowledgedJobsRunInOrderAndDeadLetterWithinTheirAttempts(seed: UInt64) async {
        let outcome = await JobPowerCutScenario(seed: seed, cuts: Self.cutsPerSeed).run()
        let report = "seed \(seed): \(outcome.summary)\n\(outcome.failures.joined(separator: "\n"))"
        #expect(outcome.cuts == Self.cutsPerSeed, "\(report)")
        #expect(outcome.violations == 0, "\(report)")
        #expect(outcome.acknowledged > 0 && outcome.succeeded > 0 && outcome.deadLettered > 0, "the workload did too little: \(report)")
    }

    /// Without fsync an enqueue's answer promises nothing: the checks must see jobs lost.
    @Test func theChecksSeeLostJobsWhenTheBrokerDoesNotSync() async {
        var lost = 0
        for seed in UInt64(100)..<103 {
            var scenario = JobPowerCutScenario(seed: seed, cuts: 3)
            scenario.fsync = .never
            lost += await scenario.run().lost
        }
        #expect(lost > 0)
    }
}
