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

    /// A batch in flight at the cut whose partition part reached the disk while its held records
    /// or idempotency keys did not (or the other way round) loses records when it is resent: the
    /// resend is a duplicate by its sequence, or its key is taken. Known and not fixed
    /// (docs/reliability.md).
    @Test func resendingABatchWithSpoolHeadersAfterACutCanLoseItsRecords() async {
        var lost = 0
        for seed in Self.seeds {
            var scenario = PowerCutScenario(seed: seed, cuts: Self.cutsPerSeed)
            scenario.resendsBatchesWithSpoolHeaders = true
            lost += await scenario.run().lost
        }
        withKnownIssue("delayed and deduplicated records of a resent batch are lost", isIntermittent: true) {
            #expect(lost == 0)
        }
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
