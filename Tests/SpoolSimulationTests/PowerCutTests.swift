import SpoolSimulation
import Testing

/// The whole broker through power cuts on the simulated disk (the short run; `spool-powercut`
/// is the long one).
@Suite struct PowerCutTests {
    /// Seeds of the short run; each is one broker history with `cutsPerSeed` cuts.
    static let seeds: [UInt64] = [1, 2, 3, 4]
    static let cutsPerSeed = 8

    @Test(arguments: seeds)
    func acknowledgedWorkSurvivesPowerCuts(seed: UInt64) async {
        let outcome = await PowerCutScenario(seed: seed, cuts: Self.cutsPerSeed).run()
        #expect(outcome.cuts == Self.cutsPerSeed, "seed \(seed): \(outcome.failures)")
        #expect(outcome.violations == 0, "seed \(seed): \(outcome.summary)\n\(outcome.failures.joined(separator: "\n"))")
        #expect(outcome.acknowledged > 0, "seed \(seed): the workload acknowledged nothing")
    }

    /// Without fsync an acknowledgement promises nothing: the checks must see records lost.
    @Test func theChecksSeeLossesWhenTheBrokerDoesNotSync() async {
        var lost = 0
        for seed in UInt64(100)..<104 {
            var scenario = PowerCutScenario(seed: seed, cuts: 4)
            scenario.fsync = .never
            lost += await scenario.run().lost
        }
        #expect(lost > 0)
    }
}
