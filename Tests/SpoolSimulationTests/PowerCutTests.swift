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

    /// The scenario's small `offsetsCompactionBytes` is there so that cuts fall on the offsets
    /// log's compaction too: it must really happen (seen on the disk as the log's first segment
    /// moving forward between checks).
    @Test func theOffsetsLogIsCompactedDuringTheRun() async {
        var compactions = 0
        // About one compaction in eight cuts: 36 cuts make a run without any most unlikely.
        for seed in UInt64(200)..<203 {
            let outcome = await PowerCutScenario(seed: seed, cuts: 12).run()
            #expect(outcome.violations == 0, "seed \(seed): \(outcome.summary)\n\(outcome.failures.joined(separator: "\n"))")
            compactions += outcome.offsetsLogCompactions
        }
        #expect(compactions > 0)
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
