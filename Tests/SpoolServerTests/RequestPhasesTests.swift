import Foundation
import SpoolBroker
import SpoolFormat
@testable import SpoolServer
import SpoolSystem
import Testing

/// `spool_request_phase_seconds`: where requests' time goes in the broker, by API and phase.
@Suite struct RequestPhasesTests {
    @Test func phasesAreTakenFromTheRequestsClockReadings() {
        let phases = RequestPhases()
        let timing = RequestTiming(readNs: 1_000_000)
        timing.api.store(RequestPhases.Api.produce.rawValue, ordering: .relaxed)
        timing.startedNs.store(1_020_000, ordering: .relaxed)  // queue: 20 µs
        timing.waitNs.store(700_000, ordering: .relaxed)  // wait: 700 µs
        timing.answeredNs.store(1_820_000, ordering: .relaxed)  // local: 800 - 700 = 100 µs
        phases.record(timing, takenUpNs: 1_825_000)  // response queue: 5 µs
        phases.recordSend(.produce, nanoseconds: 40_000)
        let series = Dictionary(uniqueKeysWithValues: phases.snapshot().filter { $0.api == .produce }.map { ($0.phase, $0.series) })
        func bound(_ phase: RequestPhases.Phase) -> Double? {
            series[phase]?.buckets.firstIndex(of: 1).map { RequestPhases.bounds[$0] }
        }
        #expect(series[.queue]?.sumNanoseconds == 20_000 && bound(.queue) == 0.000025)
        #expect(series[.local]?.sumNanoseconds == 100_000 && bound(.local) == 0.0001)
        #expect(series[.wait]?.sumNanoseconds == 700_000 && bound(.wait) == 0.001)
        #expect(series[.responseQueue]?.sumNanoseconds == 5_000 && bound(.responseQueue) == 0.00001)
        #expect(series[.send]?.sumNanoseconds == 40_000 && bound(.send) == 0.00005)
        #expect(phases.snapshot().filter { $0.api != .produce }.allSatisfy { $0.series.count == 0 })
        // Readings out of order (a request that never started) are not recorded.
        phases.record(RequestTiming(readNs: 5), takenUpNs: 10)
        #expect(phases.snapshot().filter { $0.api == .other }.allSatisfy { $0.series.count == 0 })
    }

    @Test func producesAndFetchesOverAConnectionReachMetrics() async throws {
        let server = try InProcessServer()
        defer { server.stop() }
        let client = try await server.client(creating: "phases")
        let batch = RecordBatch(producing: [ProducerRecord(key: [1], value: Array("v".utf8), timestamp: 1)]).encoded()
        for round in 0..<5 {
            client.send(frame: RequestFrames.produce(topic: "phases", partition: 0, batch: batch, correlation: Int32(round)))
            #expect(await blocking { client.receive() } != nil)
        }
        for round in 0..<3 {
            client.send(frame: RequestFrames.fetch(topic: "phases", partition: 0, offset: 0, correlation: Int32(10 + round)))
            #expect(await blocking { client.receive() } != nil)
        }
        // The send phase is recorded once the write returns, which the client can see first.
        func render() -> String { PrometheusText.render(broker: server.broker, server: PrometheusText.ServerFigures(server.server)) }
        var text = render()
        let sendsSeen = "spool_request_phase_seconds_count{api=\"Fetch\",phase=\"send\"} 3"
        let deadline = monotonicNanoseconds() + 5_000_000_000
        while !text.contains(sendsSeen), monotonicNanoseconds() < deadline {
            try await Task.sleep(nanoseconds: 5_000_000)
            text = render()
        }
        func count(_ api: String, _ phase: String) -> Int? {
            let prefix = "spool_request_phase_seconds_count{api=\"\(api)\",phase=\"\(phase)\"} "
            return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
        }
        for phase in ["queue", "local", "wait", "response_queue", "send"] {
            #expect(count("Produce", phase) == 5, "Produce \(phase)")
            #expect(count("Fetch", phase) == 3, "Fetch \(phase)")
        }
        #expect(count("other", "queue") == 1, "the CreateTopics")
        // Under fsync=always every produce waited for a flush.
        let waitSum = text.split(separator: "\n").first { $0.hasPrefix("spool_request_phase_seconds_sum{api=\"Produce\",phase=\"wait\"} ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
        #expect((waitSum ?? 0) > 0)
        #expect(text.contains("spool_request_phase_seconds_bucket{api=\"Produce\",phase=\"wait\",le=\"+Inf\"} 5"))
    }
}
