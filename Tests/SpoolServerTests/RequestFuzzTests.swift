import Foundation
import Synchronization
import SpoolBroker
import SpoolFormat
import SpoolFuzzSupport
import SpoolTestSupport
@testable import SpoolServer
import SpoolWire
import Testing

/// Random and mutated request frames straight into the request router: whatever comes in, the
/// broker answers, or closes the connection with a reason, and never crashes; afterwards it still
/// serves a normal client.
@Suite struct RequestFuzzTests {
    static let cases = 120_000

    @Test(.timeLimit(.minutes(5)))
    func randomAndMutatedFramesNeverCrashTheBroker() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        var config = BrokerConfig(dataDirectory: data)
        config.autoCreateTopics = false
        config.topicsMax = 20
        config.groupLimits.initialRebalanceDelayMs = 0
        config.groupLimits.rebalanceTimeoutMaxMs = 200
        config.groupLimits.sessionTimeoutMinMs = 100
        config.groupLimits.sessionTimeoutMaxMs = 1000
        config.fetchWaitMaxMs = 200
        config.log.segmentBytes = 1 << 20
        let broker = try Broker.open(config)
        try broker.createTopic("fuzz", partitions: 2)
        let router = RequestRouter(broker: broker, nodeId: 0, host: "127.0.0.1", port: 9092)
        let batch = RecordBatch(producing: [ProducerRecord(key: [1], value: Array("fuzz".utf8), timestamp: 1)]).encoded()
        let seeds = RequestSeeds.all.map(\.frame)
        // A fresh seed each run (printed), or SPOOL_FUZZ_SEED to run a failing one again.
        let seed = ProcessInfo.processInfo.environment["SPOOL_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("request fuzz seed \(seed) (SPOOL_FUZZ_SEED=\(seed) runs these cases again)")
        var generator = SplitMix64(seed: seed)
        // Cases run concurrently (at most 256 outstanding), since some park: a JoinGroup waiting
        // for a rebalance, a long-poll fetch. The caps above bound how long any of them can park.
        let tally = Tally()
        for index in 0..<Self.cases {
            let frame = index % 4 == 0 ? Self.randomFrame(&generator) : Self.mutate(seeds[index % seeds.count], &generator)
            while tally.outstanding >= 256 { try await Task.sleep(for: .milliseconds(1)) }
            tally.begin()
            Task { tally.finish(await router.respond(to: frame, client: "fuzz")) }
        }
        for _ in 0..<3000 where tally.outstanding > 0 { try await Task.sleep(for: .milliseconds(10)) }
        let counts = tally.counts
        print("fuzzed \(Self.cases) frames: \(counts.sorted { $0.key < $1.key })")
        #expect(tally.outstanding == 0, "every request was answered or closed")
        #expect(counts.values.reduce(0, +) == Self.cases)
        #expect(counts["close", default: 0] > 0 && counts["response", default: 0] > 0, "both paths were exercised: \(counts)")

        // The broker still works for a well-formed client.
        guard case let .response(produced)? = await Self.respond(router, RequestFrames.produce(topic: "fuzz", partition: 1, batch: batch)) else {
            Issue.record("produce after fuzzing got no response")
            return
        }
        let response = try Frames.decodeResponse(Array(produced.bytes.dropFirst(4)), to: ProduceRequest.self, version: 7)
        #expect(response.responses.first?.partitionResponses.first?.errorCode == 0, "produce after fuzzing succeeds")
        let metadata = await Self.respond(router, RequestFrames.metadata(["fuzz"]))
        if case .response? = metadata {} else { Issue.record("metadata after fuzzing failed: \(String(describing: metadata))") }
        try broker.close()
    }

    /// The router's answer to a frame, waiting for parked requests to finish.
    static func respond(_ router: RequestRouter, _ frame: [UInt8]) async -> Outcome? {
        await router.respond(to: frame, client: "fuzz")
    }

    static func randomFrame(_ generator: inout SplitMix64) -> [UInt8] {
        let length = Int.random(in: 0...200, using: &generator)
        var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        if length >= 4 && Bool.random(using: &generator) {
            // A plausible header: a real API key and version, so the body decoders see garbage too.
            let keys: [Int16] = [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 99]
            let key = keys.randomElement(using: &generator) ?? 3
            bytes[0] = UInt8(truncatingIfNeeded: key >> 8)
            bytes[1] = UInt8(truncatingIfNeeded: key)
            bytes[2] = 0
            bytes[3] = UInt8.random(in: 0...12, using: &generator)
        }
        return bytes
    }

    static func mutate(_ seed: [UInt8], _ generator: inout SplitMix64) -> [UInt8] {
        var bytes = seed
        switch Int.random(in: 0..<6, using: &generator) {
        case 0:  // flip a few bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
            }
        case 1:  // truncate
            bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
        case 2:  // extreme length or count somewhere
            if bytes.count >= 8 {
                let at = Int.random(in: 4..<(bytes.count - 3), using: &generator)
                let extreme: [UInt8] = [[0x7F, 0xFF, 0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0xFF], [0x80, 0, 0, 0], [0, 0, 0, 0]]
                    .randomElement(using: &generator) ?? [0, 0, 0, 0]
                bytes.replaceSubrange(at..<(at + 4), with: extreme)
            }
        case 3:  // trailing garbage
            bytes += (0..<Int.random(in: 1...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        case 4:  // a version outside the supported range
            if bytes.count >= 4 { bytes[3] = UInt8.random(in: 0...40, using: &generator) }
        default:  // splice two seeds
            let cut = Int.random(in: 0...bytes.count, using: &generator)
            bytes = Array(bytes.prefix(cut)) + Array(RequestFrames.listGroups().dropFirst(min(cut, 4)))
        }
        return bytes
    }
}

/// Outcomes of the fuzz cases, counted as they finish.
final class Tally: Sendable {
    private let state = Mutex((outstanding: 0, counts: [String: Int]()))

    var outstanding: Int { state.withLock { $0.outstanding } }
    var counts: [String: Int] { state.withLock { $0.counts } }

    func begin() { state.withLock { $0.outstanding += 1 } }

    func finish(_ outcome: Outcome) {
        let kind: String
        switch outcome {
        case .response: kind = "response"
        case .silent: kind = "silent"
        case .close: kind = "close"
        }
        state.withLock {
            $0.outstanding -= 1
            $0.counts[kind, default: 0] += 1
        }
    }
}
