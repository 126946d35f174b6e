/// A seeded random number generator (SplitMix64): the same seed gives the same sequence on every
/// machine, which is what makes a simulated run reproducible from its seed.
public struct SimulationRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A generator for one part of a run, so that drawing more numbers in one part does not shift
    /// the numbers of another.
    public mutating func fork() -> SimulationRandom { SimulationRandom(seed: next()) }
}
