#if FUZZING
import CFuzzDriver
import Glibc
#endif

/// The main of a fuzz target. `--write-seeds DIR` writes the target's seed corpus and exits.
/// Otherwise, built with -sanitize=fuzzer and -D FUZZING it hands the command line to libFuzzer's
/// driver with `callback` as the target; in a plain build it replays the files named on the command
/// line through `replay` and reports how many it ran, which reruns a corpus or a crash without
/// libFuzzer.
public func fuzzMain(
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt,
    replay: ([UInt8]) -> Void, inputs: String, seeds: () -> [(name: String, frame: [UInt8])]
) throws {
    let arguments = CommandLine.arguments
    if arguments.count == 3, arguments[1] == "--write-seeds" {
        let all = seeds()
        try writeSeeds(all, to: arguments[2])
        print("wrote \(all.count) seed \(inputs) to \(arguments[2])")
        return
    }
    #if FUZZING
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
    #else
    print("replayed \(try replayArguments(replay)) \(inputs)")
    #endif
}
