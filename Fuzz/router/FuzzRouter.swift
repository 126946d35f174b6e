import Dispatch
import Foundation
import SpoolBroker
import SpoolFuzzSupport
import SpoolServer

/// One request frame (without its size prefix) through the whole request path the server runs for
/// a connection, decode, dispatch and the broker behind it, in-process, against one broker kept
/// for the whole run, so that state builds up across inputs (topics, groups, producers, records).
/// The limits bound how long a request can park (a long-poll fetch, a JoinGroup in a rebalance)
/// and how much state and disk the run can take. The data lives in $SPOOL_FUZZ_DATA (Fuzz/run.sh sets
/// and clears it) or in a fresh temporary directory.
#if FUZZING
// Only in the libFuzzer build (see FuzzBatch.swift).
@_cdecl("LLVMFuzzerTestOneInput")
#endif
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    respond(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// Where the broker keeps its data, and whether this process made the directory up (and removes
/// it after a replay).
let dataDirectory = ProcessInfo.processInfo.environment["SPOOL_FUZZ_DATA"]
    ?? NSTemporaryDirectory() + "spool-fuzz-router-\(ProcessInfo.processInfo.processIdentifier)"
let ownsDataDirectory = ProcessInfo.processInfo.environment["SPOOL_FUZZ_DATA"] == nil

let requests: InProcessRequests = {
    let directory = dataDirectory
    var config = BrokerConfig(dataDirectory: directory)
    config.autoCreateTopics = false
    config.topicsMax = 20
    config.fetchWaitMaxMs = 50
    config.log.segmentBytes = 1 << 20
    // Small files: a fuzzed CreateTopics may ask for thousands of partitions, each preallocating
    // its segment and indexes (16 MiB and 10 MiB by default).
    config.log.preallocateBytes = 64 << 10
    config.log.indexBytesMax = 64 << 10
    config.groupLimits.initialRebalanceDelayMs = 0
    config.groupLimits.rebalanceTimeoutMaxMs = 50
    config.groupLimits.sessionTimeoutMinMs = 10
    config.groupLimits.sessionTimeoutMaxMs = 200
    do {
        let broker = try Broker.open(config)
        if (try? broker.createTopic("jobs", partitions: 2)) == nil { print("topic jobs exists already") }
        return InProcessRequests(broker: broker)
    } catch {
        fatalError("cannot open a broker in \(directory): \(error)")
    }
}()

/// Answers `frame` and waits for the answer: libFuzzer calls the target synchronously.
func respond(_ frame: [UInt8]) {
    let answered = DispatchSemaphore(value: 0)
    Task {
        _ = await requests.respond(to: frame, client: "fuzz")
        answered.signal()
    }
    answered.wait()
}

@main struct FuzzTarget {
    static func main() throws {
        defer { if ownsDataDirectory { try? FileManager.default.removeItem(atPath: dataDirectory) } }
        try fuzzMain(fuzz, replay: respond, inputs: "request frames", seeds: { RequestSeeds.all })
    }
}
